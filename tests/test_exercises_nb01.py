"""Self-checks of 01_federated_averaging: right answers pass, typical wrong ones fail with a
hint that does not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from exercise_contract import contract_tests

from ppml_helpers import exercises as ex
from ppml_helpers.fl import batch_plan, client_generator


def weighted(states, sizes):
    total = sum(sizes)
    return {k: sum(n / total * s[k] for n, s in zip(sizes, states, strict=True)) for k in states[0]}


def unweighted(states, sizes):
    return {k: sum(s[k] for s in states) / len(states) for k in states[0]}


def dirichlet(labels, k, alpha, seed):
    rng = np.random.default_rng(seed)
    parts = [[] for _ in range(k)]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        cuts = (np.cumsum(rng.dirichlet([alpha] * k))[:-1] * len(idx)).astype(int)
        for i, piece in enumerate(np.split(idx, cuts)):
            parts[i].extend(piece.tolist())
    return [np.array(p, dtype=int) for p in parts]


def ignores_alpha(labels, k, alpha, seed):
    return np.array_split(np.random.default_rng(seed).permutation(len(labels)), k)


def local_sgd(model, x, y, epochs, batch_size, lr, generator):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for idx in batch_plan(len(x), local_epochs=epochs, batch_size=batch_size, generator=generator):
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return model.state_dict()


def local_sgd_sum_loss(model, x, y, epochs, batch_size, lr, generator):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for idx in batch_plan(len(x), local_epochs=epochs, batch_size=batch_size, generator=generator):
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx], reduction="sum").backward()
        opt.step()
    return model.state_dict()


def fedavg_round(model, train_set, partitions, client_fraction, local_epochs, batch_size, lr, seed,
                 round_, *, weights=True):
    x, y = train_set
    k = len(partitions)
    rng = np.random.default_rng([seed, round_])
    chosen = sorted(rng.choice(k, size=max(round(client_fraction * k), 1), replace=False).tolist())
    states = []
    for c in chosen:
        worker = copy.deepcopy(model)
        plan = batch_plan(len(partitions[c]), local_epochs=local_epochs, batch_size=batch_size,
                          generator=client_generator(seed, round_, c))
        idx = torch.as_tensor(partitions[c])
        states.append(local_sgd_on_plan(worker, x[idx], y[idx], plan, lr))
    sizes = [len(partitions[c]) if weights else 1 for c in chosen]
    return weighted(states, sizes)


def local_sgd_on_plan(model, x, y, plan, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for idx in plan:
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def fedavg_round_unweighted(*args):
    return fedavg_round(*args, weights=False)


def fedavg_round_in_place(model, train_set, partitions, *args):
    """Trains the global model itself, client after client."""
    x, y = train_set
    client_fraction, local_epochs, batch_size, lr, seed, round_ = args
    rng = np.random.default_rng([seed, round_])
    k = len(partitions)
    chosen = sorted(rng.choice(k, size=max(round(client_fraction * k), 1), replace=False).tolist())
    states = []
    for c in chosen:
        plan = batch_plan(len(partitions[c]), local_epochs=local_epochs, batch_size=batch_size,
                          generator=client_generator(seed, round_, c))
        idx = torch.as_tensor(partitions[c])
        states.append(local_sgd_on_plan(model, x[idx], y[idx], plan, lr))
    return weighted(states, [len(partitions[c]) for c in chosen])


def fedavg_round_all_clients(model, train_set, partitions, client_fraction, *args):
    return fedavg_round(model, train_set, partitions, 1.0, *args)


def to_target(acc, target, m, size):
    for r, a in enumerate(acc, start=1):
        if a >= target:
            return r * m * 2 * size
    return None


def upload_only(acc, target, m, size):
    for r, a in enumerate(acc, start=1):
        if a >= target:
            return r * m * size
    return None


CASES = [
    (ex.check_weighted_average, weighted, unweighted),
    (ex.check_dirichlet_partition, dirichlet, ignores_alpha),
    (ex.check_client_update, local_sgd, local_sgd_sum_loss),
    (ex.check_fedavg_round, fedavg_round, fedavg_round_unweighted),
    (ex.check_bytes_to_target, to_target, upload_only),
]


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests(CASES)


def test_plain_mean_is_named_as_such():
    assert "plain mean" in ex.check_weighted_average(unweighted).message


def test_never_reached_must_be_none():
    result = ex.check_bytes_to_target(lambda acc, t, m, s: to_target(acc, t, m, s) or 0)
    assert not result and "None" in result.message


def test_round_mistakes_are_named():
    assert "plain mean" in ex.check_fedavg_round(fedavg_round_unweighted).message
    assert "client_fraction" in ex.check_fedavg_round(fedavg_round_all_clients).message
    assert "was changed" in ex.check_fedavg_round(fedavg_round_in_place).message
