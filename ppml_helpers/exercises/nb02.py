"""Self-checks for ``02_flower``."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict

import torch

from ..fl import batch_plan, client_update, krum, sign_flip
from ..models import MLP
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = ["check_attack_config", "check_krum_scores", "check_local_train", "check_sign_flip"]


def _states(k: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return [OrderedDict(w=torch.randn(3, 4, generator=gen), b=torch.randn(3, generator=gen)) for _ in range(k)]


@check
def check_local_train(local_train) -> CheckResult:
    """Check ``local_train(content, model, x, y, plan, lr)``: it starts from the global
    weights in ``content["arrays"]``, trains on the plan's batches, and replies with a
    RecordDict holding ``"arrays"`` (the trained weights, tolerance 1e-5) and
    ``"metrics"`` with ``"num-examples"``."""
    from flwr.app import ArrayRecord, ConfigRecord, RecordDict

    ex = "2.1"
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand((23, 1, 28, 28), generator=gen), torch.randint(0, 10, (23,), generator=gen)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        global_model = MLP(hidden=16)
        torch.manual_seed(2)
        local_model = MLP(hidden=16)  # the node's own copy, not yet the global weights
    content = RecordDict({"arrays": ArrayRecord(global_model.state_dict()),
                          "config": ConfigRecord({"server-round": 1})})
    plan = batch_plan(len(x), local_epochs=2, batch_size=5, generator=torch.Generator().manual_seed(7))
    got = call_learner(ex, local_train, copy.deepcopy(content), copy.deepcopy(local_model), x, y,
                       list(plan), 0.1)
    if not isinstance(got, RecordDict):
        return failed(ex, f"expected a flwr.app.RecordDict, got {type(got).__name__}.",
                      "Wrap your records: RecordDict({'arrays': ..., 'metrics': ...}).")
    if "arrays" not in got.array_records:
        return failed(ex, "the reply has no ArrayRecord under 'arrays': the strategy looks for that key.",
                      "Put ArrayRecord(model.state_dict()) under 'arrays'.")
    if "metrics" not in got.metric_records or "num-examples" not in got.metric_records["metrics"]:
        return failed(ex, "the reply has no MetricRecord 'metrics' with 'num-examples': FedAvg weights "
                      "each reply by it.", "Add MetricRecord({'num-examples': ...}) under 'metrics'.")
    if got.metric_records["metrics"]["num-examples"] != len(y):
        return failed(ex, f"num-examples is {got.metric_records['metrics']['num-examples']}, the node "
                      f"holds {len(y)} examples.", "Report how many examples this node trained on.")
    weights = got.array_records["arrays"].to_torch_state_dict()
    want = client_update(copy.deepcopy(global_model), x, y, plan, lr=0.1)
    from_local = client_update(copy.deepcopy(local_model), x, y, plan, lr=0.1)
    if set(weights) != set(want):
        return failed(ex, "the arrays do not have the model's keys.", "Send model.state_dict() after training.")
    if all(torch.allclose(weights[k], want[k], atol=1e-5) for k in want):
        return passed(ex, "starts from the global model, trains on the plan, replies with arrays and "
                      "num-examples.")
    if all(torch.allclose(weights[k], from_local[k], atol=1e-5) for k in want):
        return failed(ex, "you trained the node's own weights, not the global model's.",
                      "Load content['arrays'].to_torch_state_dict() into the model first.")
    return failed(ex, "the trained weights differ from the reference.",
                  "Train with ph.fl.client_update(model, x, y, plan, lr=lr).")


@check
def check_sign_flip(flip) -> CheckResult:
    """Check ``flip(global_state, honest_state, boost)`` against the boosted sign-flip
    ``global - boost * (honest - global)`` (tolerance 1e-6) for two boosts."""
    ex = "2.2"
    g, h = _states(2, 3)
    for boost in (1.0, 10.0):
        got = call_learner(ex, flip, copy.deepcopy(g), copy.deepcopy(h), boost)
        want = sign_flip(g, h, boost=boost)
        if not isinstance(got, dict) or set(got) != set(want):
            return failed(ex, "expected a state dict with the same keys.", "One entry per key of the states.")
        if all(torch.allclose(got[k], want[k], atol=1e-6) for k in want):
            continue
        if all(torch.allclose(got[k], -boost * h[k], atol=1e-6) for k in want):
            return failed(ex, "you negated the weights, not the update.",
                          "The update is honest - global; the attacker sends global plus its opposite.")
        if all(torch.allclose(got[k] - g[k], -(h[k] - g[k]), atol=1e-6) for k in want) and boost != 1.0:
            return failed(ex, f"with boost={boost:g} the update is flipped but not scaled.",
                          "Multiply the flipped update by boost.")
        return failed(ex, f"with boost={boost:g} the result differs from the boosted sign-flip.",
                      "Work with the update (honest - global), not the weights.")
    return passed(ex, "sends -boost x the honest update, for boost 1 and 10.")


@check
def check_krum_scores(scores_fn) -> CheckResult:
    """Check ``scores_fn(states, num_malicious)`` against Krum's scores (relative tolerance
    1e-6) on 7 clients with f = 0, 1 and 2."""
    ex = "2.3"
    states = _states(7, 5)
    for f in (0, 1, 2):
        got = call_learner(ex, scores_fn, copy.deepcopy(states), f)
        want = krum(states, num_malicious=f).scores
        try:
            got = [float(s) for s in got]
        except (TypeError, ValueError):
            return failed(ex, "expected one number per client.", "Return a list of 7 scores.")
        if len(got) != len(want):
            return failed(ex, f"expected {len(want)} scores, got {len(got)}.", "One score per client.")
        if all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(got, want, strict=True)):
            continue
        distances = torch.stack([torch.cat([v.flatten() for v in s.values()]) for s in states])
        plain = torch.cdist(distances, distances)
        k = max(1, len(states) - f - 2)
        unsquared = [float(torch.sort(torch.cat([plain[i, :i], plain[i, i + 1:]])).values[:k].sum())
                     for i in range(len(states))]
        if all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(got, unsquared, strict=True)):
            return failed(ex, "your scores sum plain distances.", "Krum sums *squared* L2 distances.")
        return failed(ex, f"with num_malicious={f} the scores differ from Krum's.",
                      "Each client: sum of squared distances to its n - f - 2 nearest *other* clients.")
    return passed(ex, "Krum's scores for f = 0, 1 and 2 on 7 clients.")


@check
def check_attack_config(attack_overrides) -> CheckResult:
    """Check the run-config dict the learner's ``attack_overrides()`` returns for: 2 of 10
    clients label-flipping, against a trimmed mean that cuts at least 2 clients from each end
    (and less than half)."""
    ex = "2.4"
    overrides = call_learner(ex, attack_overrides)
    if not isinstance(overrides, dict):
        return failed(ex, f"expected a dict of run-config overrides, got {type(overrides).__name__}.",
                      "Write {'key': value, ...} with the app's run-config keys.")
    wrong = {k: overrides.get(k) for k, v in (("attack", "label-flip"), ("num-malicious", 2),
                                              ("strategy", "fedtrimmedavg")) if overrides.get(k) != v}
    if wrong:
        key = next(iter(wrong))
        return failed(ex, f"{key!r} is {wrong[key]!r}.",
                      "Look up the key's allowed values in flower_app/pyproject.toml.")
    beta = overrides.get("trim-beta")
    if not isinstance(beta, (int, float)) or not 0 <= beta < 0.5:
        return failed(ex, f"trim-beta is {beta!r}: it must be a fraction in [0, 0.5).",
                      "It is the fraction cut from *each* end.")
    if int(beta * 10) < 2:
        return failed(ex, f"trim-beta={beta} cuts {int(beta * 10)} of 10 clients from each end: the "
                      "2 attackers can survive the cut.", "Cut at least as many as there are attackers.")
    return passed(ex, f"2 label-flippers of 10 against a trimmed mean that cuts {int(beta * 10)} "
                  "from each end.")
