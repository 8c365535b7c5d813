"""Self-checks for ``01_federated_averaging``."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch

from ..data import label_skew
from ..fl import batch_plan, client_generator, client_update, fedavg, num_sampled
from ..models import MLP
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "check_bytes_to_target",
    "check_client_update",
    "check_dirichlet_partition",
    "check_fedavg_round",
    "check_weighted_average",
]


def _states(k: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    return [
        OrderedDict(w=torch.randn(3, 4, generator=gen), b=torch.randn(3, generator=gen)) for _ in range(k)
    ]


@check
def check_weighted_average(average) -> CheckResult:
    """Check ``average(states, num_examples)`` against the example-weighted mean (tolerance 1e-6)."""
    ex = "1.1"
    states, sizes = _states(4, 0), [10, 600, 35, 1]
    got = call_learner(ex, average, copy.deepcopy(states), list(sizes))
    if not isinstance(got, dict) or set(got) != set(states[0]):
        return failed(ex, "expected a dict with the same keys as each state.",
                      "Build a new dict, one entry per key of states[0].")
    want = fedavg(states, sizes)
    plain = {k: sum(s[k] for s in states) / len(states) for k in states[0]}
    if all(torch.allclose(got[k], want[k], atol=1e-6) for k in want):
        return passed(ex, "matches the example-weighted mean on 4 clients of very different sizes.")
    if all(torch.allclose(got[k], plain[k], atol=1e-6) for k in want):
        return failed(ex, "this is the plain mean: a client with 1 example counts as much as one "
                      "with 600.", "Weight client k by its share of all examples, n_k / n.")
    return failed(ex, "the result differs from the weighted mean.",
                  "Weights must sum to one; check them on a two-client example by hand.")


@check
def check_dirichlet_partition(partition) -> CheckResult:
    """Check ``partition(labels, num_clients, alpha, seed)``: every index once, skew grows as
    alpha falls (mean top-label share at alpha=0.1 above alpha=100 by at least 0.3), and the
    seed makes it repeatable."""
    ex = "1.2"
    labels = np.repeat(np.arange(10), 300)
    parts = {}
    for alpha in (100.0, 0.1):
        out = call_learner(ex, partition, labels.copy(), 20, alpha, 0)
        if not isinstance(out, (list, tuple)) or len(out) != 20:
            return failed(ex, "expected a list of 20 index arrays.", "One array of indices per client.")
        joined = np.sort(np.concatenate([np.asarray(p, dtype=np.int64) for p in out]))
        if not np.array_equal(joined, np.arange(len(labels))):
            return failed(ex, f"at alpha={alpha} the parts do not cover every index exactly once.",
                          "Split each class's shuffled indices into consecutive pieces; don't sample "
                          "with replacement.")
        parts[alpha] = [np.asarray(p, dtype=np.int64) for p in out]
    again = call_learner(ex, partition, labels.copy(), 20, 0.1, 0)
    if any(not np.array_equal(np.sort(a), np.sort(np.asarray(b))) for a, b in zip(parts[0.1], again, strict=True)):
        return failed(ex, "the same seed gave a different partition.",
                      "Draw everything from one np.random.default_rng(seed).")
    near_iid, skewed = label_skew(labels, parts[100.0]), label_skew(labels, parts[0.1])
    if skewed < near_iid + 0.3:
        return failed(ex, f"mean top-label share {skewed:.2f} at alpha=0.1 vs {near_iid:.2f} at "
                      "alpha=100: the split barely reacts to alpha.",
                      "Draw one Dirichlet(alpha) share vector per class, over the clients.")
    return passed(ex, f"every index once; top-label share {near_iid:.2f} at alpha=100, "
                  f"{skewed:.2f} at alpha=0.1.")


@check
def check_client_update(update) -> CheckResult:
    """Check ``update(model, x, y, local_epochs, batch_size, lr, generator)`` against the
    reference on the same batches (tolerance 1e-5), for B=5 and for B=None (FedSGD)."""
    ex = "1.3"
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand((23, 1, 28, 28), generator=gen), torch.randint(0, 10, (23,), generator=gen)
    torch.manual_seed(0)  # the reference model below; the learner gets copies
    model = MLP(hidden=16)
    for batch_size, epochs in ((5, 2), (None, 1)):
        got = call_learner(ex, update, copy.deepcopy(model), x, y, epochs, batch_size, 0.1,
                           torch.Generator().manual_seed(7))
        plan = batch_plan(len(x), local_epochs=epochs, batch_size=batch_size,
                          generator=torch.Generator().manual_seed(7))
        want = client_update(copy.deepcopy(model), x, y, plan, lr=0.1)
        if not isinstance(got, dict) or set(got) != set(want):
            return failed(ex, "expected the trained model's state_dict().",
                          "Return model.state_dict() after training.")
        if not all(torch.allclose(got[k].float(), want[k], atol=1e-5) for k in want):
            unchanged = all(torch.equal(got[k], v) for k, v in model.state_dict().items())
            msg = "the model did not change." if unchanged else (
                f"with local_epochs={epochs}, batch_size={batch_size} the weights differ "
                "from the reference.")
            return failed(ex, msg, "Take your batches from ph.fl.batch_plan(len(x), local_epochs=..., "
                          "batch_size=..., generator=generator) and do one SGD step per batch on "
                          "the mean cross-entropy.")
    return passed(ex, "same weights as the reference for E=2, B=5 and for FedSGD (E=1, B=None).")


def _reference_round(model, train_set, partitions, client_fraction, local_epochs, batch_size, lr,
                     seed, round_, *, sample_all=False, weighted=True, reset=True):
    """Exercise 1.4's round, and the three mistakes its check names (``sample_all``: every
    client trains; ``weighted=False``: the plain mean; ``reset=False``: each client starts
    from the previous client's weights instead of the global model's)."""
    x, y = train_set
    k = len(partitions)
    rng = np.random.default_rng([seed, round_])
    chosen = list(range(k)) if sample_all else sorted(
        rng.choice(k, size=num_sampled(k, client_fraction), replace=False).tolist())
    start, worker, states = copy.deepcopy(model.state_dict()), copy.deepcopy(model), []
    for c in chosen:
        if reset:
            worker.load_state_dict(start)
        part = torch.as_tensor(np.asarray(partitions[c]), dtype=torch.int64)
        plan = batch_plan(len(part), local_epochs=local_epochs, batch_size=batch_size,
                          generator=client_generator(seed, round_, c))
        states.append(copy.deepcopy(client_update(worker, x[part], y[part], plan, lr=lr)))
    sizes = [len(partitions[c]) for c in chosen] if weighted else [1] * len(chosen)
    return fedavg(states, sizes)


@check
def check_fedavg_round(fedavg_round) -> CheckResult:
    """Check ``fedavg_round(model, train_set, partitions, client_fraction, local_epochs,
    batch_size, lr, seed, round_)`` against the reference round on 6 clients of 3 to 40
    examples (C = 0.5, E = 2, B = 4; tolerance 1e-5), and that the global model is left as it was."""
    ex = "1.4"
    gen = torch.Generator().manual_seed(1)
    sizes = [3, 40, 12, 25, 7, 33]
    x, y = torch.rand((sum(sizes), 1, 28, 28), generator=gen), torch.randint(0, 10, (sum(sizes),), generator=gen)
    ends = np.cumsum(sizes)
    partitions = [np.arange(e - n, e) for n, e in zip(sizes, ends, strict=True)]
    torch.manual_seed(0)
    model = MLP(hidden=16)
    before = copy.deepcopy(model.state_dict())
    args = (0.5, 2, 4, 0.1, 3, 2)  # C, E, B, lr, seed, round
    want = _reference_round(_restored(model, before), (x, y), partitions, *args)
    got = call_learner(ex, fedavg_round, model, (x, y), [p.copy() for p in partitions], *args)
    if not isinstance(got, dict) or set(got) != set(want):
        return failed(ex, "expected the new global state_dict (a dict with the model's keys).",
                      "Return the weighted average of the sampled clients' states.")
    model_after = model.state_dict()
    if not all(torch.equal(model_after[k], before[k]) for k in before):
        return failed(ex, "the global model passed in was changed: the next round would start from "
                      "a client's weights.", "Train a copy (copy.deepcopy(model)) and load the "
                      "global state into it before each client.")

    def same(other):
        return all(torch.allclose(got[k].float(), other[k], atol=1e-5) for k in other)

    if same(want):
        return passed(ex, "same global weights as the reference round: 3 of 6 clients sampled, "
                      "each trained from the global model, averaged by their example counts.")
    mistakes = (
        (dict(sample_all=True), "all 6 clients trained: the round ignores client_fraction.",
         "Sample max(round(C * K), 1) clients with np.random.default_rng([seed, round_]).choice(K, "
         "size=..., replace=False), sorted."),
        (dict(weighted=False), "this is the plain mean of the sampled clients' states.",
         "Weight each sampled client by its number of examples (your Exercise 1.1)."),
        (dict(reset=False), "each client started from the previous client's weights.",
         "Every sampled client starts from the same global weights: load them before each client."),
    )
    for kwargs, message, hint in mistakes:
        if same(_reference_round(_restored(model, before), (x, y), partitions, *args, **kwargs)):
            return failed(ex, message, hint)
    return failed(ex, "the new global weights differ from the reference round.",
                  "Per sampled client c: a batch plan from ph.fl.batch_plan(n_c, local_epochs=..., "
                  "batch_size=..., generator=ph.fl.client_generator(seed, round_, c)), then "
                  "ph.fl.client_update on its examples.")


def _restored(model, state):
    fresh = copy.deepcopy(model)
    fresh.load_state_dict(state)
    return fresh


@check
def check_bytes_to_target(bytes_to_target) -> CheckResult:
    """Check ``bytes_to_target(accuracies, target, clients_per_round, model_bytes)`` on three
    histories: reached in round 3, in round 1, and never (must return None)."""
    ex = "1.5"
    cases = [([0.5, 0.8, 0.91, 0.95], 0.9, 10, 1000, 3 * 10 * 2 * 1000),
             ([0.97, 0.98], 0.9, 5, 4, 1 * 5 * 2 * 4),
             ([0.1, 0.2], 0.9, 10, 1000, None)]
    for acc, target, m, size, want in cases:
        got = call_learner(ex, bytes_to_target, list(acc), target, m, size)
        if got != want:
            if want is not None and got == want // 2:
                return failed(ex, f"for {acc} you count {got:,} bytes, half of what was sent.",
                              "Every sampled client downloads the model and uploads its update.")
            if want is None:
                return failed(ex, f"a history that never reaches {target} should give None, got {got!r}.",
                              "Say 'not reached' rather than counting all rounds.")
            return failed(ex, f"for accuracies {acc} and target {target} you returned {got!r}.",
                          "Count the rounds up to and including the first that reaches the target.")
    return passed(ex, "right on all three histories, including one that never gets there.")
