"""Self-checks of 02_flower: right answers pass, typical wrong ones fail with a hint that
does not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import pytest
import torch
from exercise_contract import contract_tests
from flwr.app import ArrayRecord, MetricRecord, RecordDict

from ppml_helpers import exercises as ex
from ppml_helpers import fl


def local_train(content, model, x, y, plan, lr):
    model.load_state_dict(content["arrays"].to_torch_state_dict())
    state = fl.client_update(model, x, y, plan, lr=lr)
    return RecordDict({"arrays": ArrayRecord(state), "metrics": MetricRecord({"num-examples": len(y)})})


def trains_own_weights(content, model, x, y, plan, lr):
    state = fl.client_update(model, x, y, plan, lr=lr)
    return RecordDict({"arrays": ArrayRecord(state), "metrics": MetricRecord({"num-examples": len(y)})})


def no_num_examples(content, model, x, y, plan, lr):
    model.load_state_dict(content["arrays"].to_torch_state_dict())
    return RecordDict({"arrays": ArrayRecord(fl.client_update(model, x, y, plan, lr=lr))})


def flip(g, h, boost):
    return {k: g[k] - boost * (h[k] - g[k]) for k in g}


def flip_weights(g, h, boost):
    return {k: -boost * h[k] for k in g}


def flip_unscaled(g, h, boost):
    return {k: g[k] - (h[k] - g[k]) for k in g}


def _flat(states):
    return torch.stack([torch.cat([v.flatten() for v in s.values()]) for s in states])


def krum_scores(states, f, squared=True):
    d = torch.cdist(_flat(states), _flat(states))
    d = d.square() if squared else d
    n = len(states)
    k = max(1, n - f - 2)
    return [float(torch.sort(torch.cat([d[i, :i], d[i, i + 1:]])).values[:k].sum()) for i in range(n)]


def krum_plain_distances(states, f):
    return krum_scores(states, f, squared=False)


def krum_counting_itself(states, f):
    d = torch.cdist(_flat(states), _flat(states)).square()
    k = max(1, len(states) - f - 2)
    return [float(torch.sort(d[i]).values[:k].sum()) for i in range(len(states))]


RIGHT_CONFIG = {"attack": "label-flip", "num-malicious": 2, "strategy": "fedtrimmedavg", "trim-beta": 0.2}


def attack_overrides():
    return dict(RIGHT_CONFIG)


def attack_overrides_untrimmed():
    return RIGHT_CONFIG | {"trim-beta": 0.0}


CASES = [
    (ex.check_local_train, local_train, trains_own_weights),
    (ex.check_sign_flip, flip, flip_weights),
    (ex.check_krum_scores, krum_scores, krum_plain_distances),
    (ex.check_attack_config, attack_overrides, attack_overrides_untrimmed),
]


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests(CASES)


@pytest.mark.parametrize(("wrong", "said"), [(trains_own_weights, "global model"),
                                             (no_num_examples, "num-examples")])
def test_local_train_mistakes_are_named(wrong, said):
    assert said in ex.check_local_train(wrong).message


@pytest.mark.parametrize(("wrong", "said"), [(flip_weights, "negated the weights"),
                                             (flip_unscaled, "not scaled")])
def test_sign_flip_mistakes_are_named(wrong, said):
    assert said in ex.check_sign_flip(wrong).message


def test_krum_mistakes_are_named():
    assert "squared" in ex.check_krum_scores(krum_plain_distances).hint
    assert not ex.check_krum_scores(krum_counting_itself)


@pytest.mark.parametrize(("change", "said"), [({"attack": "sign-flip"}, "attack"),
                                              ({"num-malicious": 1}, "num-malicious"),
                                              ({"strategy": "fedavg"}, "strategy"),
                                              ({"trim-beta": 0.1}, "can survive"),
                                              ({"trim-beta": 0.5}, "[0, 0.5)")])
def test_attack_config(change, said):
    result = ex.check_attack_config(lambda: RIGHT_CONFIG | change)
    assert not result and said in result.message and result.hint
