"""Self-checks for appendix ``A1_tensorflow_federated``.

They need neither TensorFlow nor torch: A1.1 hands the learner's function NumPy
arrays shaped like the course's models, A1.2 and A1.3 compare choices and numbers.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from ..tf_bridge import keras_weights_from_torch
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "FLOWER_COUNTERPARTS",
    "TFF_CONCEPTS",
    "check_effective_noise_multiplier",
    "check_keras_weights",
    "check_tff_to_flower",
]


# ---------------------------------------------------------------- A1.1


def _state(sizes, seed):
    rng = np.random.default_rng(seed)
    state = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        state[f"net.{2 * i + 1}.weight"] = rng.standard_normal((n_out, n_in)).astype(np.float32)
        state[f"net.{2 * i + 1}.bias"] = rng.standard_normal(n_out).astype(np.float32)
    return state


@check
def check_keras_weights(torch_to_keras) -> CheckResult:
    """Check ``torch_to_keras(state)`` -> ``[kernel, bias, ...]`` in Keras's layout, on a 2NN-shaped
    state (784-200-200-10) and a logistic regression's (104 -> 2)."""
    ex = "A1.1"
    for sizes, seed in (((784, 200, 200, 10), 0), ((104, 2), 1)):
        state = _state(sizes, seed)
        want = keras_weights_from_torch(state)
        got = call_learner(ex, torch_to_keras, {k: v.copy() for k, v in state.items()})
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            return failed(ex, f"for layers {sizes}: expected a list of {len(want)} arrays "
                              f"(a kernel and a bias per layer), got {type(got).__name__}"
                              + (f" of {len(got)}" if isinstance(got, (list, tuple)) else "") + ".",
                          "Keras's set_weights takes one flat list: kernel_1, bias_1, kernel_2, ...")
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            g = np.asarray(g)
            if g.shape != w.shape:
                hint = ("torch stores a Linear weight as out x in; a Keras Dense kernel is in x out: transpose it."
                        if g.shape == w.shape[::-1] else "Keep the order weight, bias, layer by layer.")
                return failed(ex, f"for layers {sizes}: entry {i} has shape {g.shape}, Keras expects {w.shape}.", hint)
            if not np.allclose(g, w):
                return failed(ex, f"for layers {sizes}: entry {i} has the right shape but other values.",
                              "Transpose the weight (w.T), do not reshape it: a reshape scrambles the rows.")
    return passed(ex, "both models' weights land in Keras's layout, so both frameworks start from the same point.")


# ---------------------------------------------------------------- A1.3 (microbatching)


def _reference_sigma(noise_multiplier, batch_size, num_microbatches):
    per_example = num_microbatches is None or num_microbatches == batch_size
    return noise_multiplier if per_example else noise_multiplier / 2


_SIGMA_CASES = [(1.1, 256, None), (1.1, 256, 256), (1.1, 256, 32), (0.8, 64, 1), (2.0, 100, 50)]


@check
def check_effective_noise_multiplier(effective_noise_multiplier) -> CheckResult:
    """Check ``effective_noise_multiplier(noise_multiplier, batch_size, num_microbatches)``: the σ an
    accountant must use under add-or-remove adjacency (σ/2 when a microbatch holds more than one
    example, as TF Privacy's statement assumes), on five settings."""
    ex = "A1.3"
    for sigma, batch, micro in _SIGMA_CASES:
        got = call_learner(ex, effective_noise_multiplier, sigma, batch, micro)
        want = _reference_sigma(sigma, batch, micro)
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            return failed(ex, f"expected a number, got {got!r}.", "Return the noise multiplier as a float.")
        if abs(got - want) > 1e-12:
            size = batch // micro if micro else 1
            if want == sigma:
                hint = ("With one example per microbatch, each clipped gradient is one person's: "
                        "the sensitivity is C and σ counts in full.")
            else:
                hint = (f"With {size} examples per microbatch, adding one person can change a microbatch's "
                        "clipped mean by up to 2C (it can flip direction), so the noise buys half as much.")
            return failed(ex, f"σ = {sigma}, batch {batch}, {micro} microbatches: you returned {got}.", hint)
    return passed(ex, "per-example microbatches keep σ; larger microbatches halve it for the accountant.")


# ---------------------------------------------------------------- A1.2 (TFF in Flower's words)

#: The TFF concepts of exercise A1.3 and what each is.
TFF_CONCEPTS = {
    "build_weighted_fed_avg": "tff.learning.algorithms.build_weighted_fed_avg(model_fn, ...)",
    "process.next": "process.next(state, client_datasets): one call",
    "client_optimizer_fn": "client_optimizer_fn=tff.learning.optimizers.build_sgdm(0.05)",
    "federated_computation": "@tff.federated_computation with types placed @CLIENTS and @SERVER",
    "execution_context": "TFF's local execution context running every client in this process",
    "secure_sum": "tff.aggregators.SecureSumFactory (federated_secure_sum_bitwidth)",
}

#: The Flower counterparts to choose from.
FLOWER_COUNTERPARTS = (
    "Strategy FedAvg",
    "one server round",
    "ClientApp train function",
    "Simulation Engine (run_simulation)",
    "SecAggPlusWorkflow",
    "no counterpart",
)

_FLOWER_ANSWERS = {
    "build_weighted_fed_avg": "Strategy FedAvg",
    "process.next": "one server round",
    "client_optimizer_fn": "ClientApp train function",
    "federated_computation": "no counterpart",
    "execution_context": "Simulation Engine (run_simulation)",
    "secure_sum": "SecAggPlusWorkflow",
}

_FLOWER_HINTS = {
    "build_weighted_fed_avg": "It decides what the server does with the clients' models: aggregation, weighting.",
    "process.next": "It takes the server state and the clients' data once and returns the next state.",
    "client_optimizer_fn": "It runs on each client, on its own data, between download and upload.",
    "federated_computation": "Flower's messages carry arrays and configs; it has no typed language of "
                             "placed values for a compiler to check.",
    "execution_context": "Many clients, one machine, no network: what does Flower call that?",
    "secure_sum": "Both make the server learn only a sum of integer-encoded updates.",
}


@check
def check_tff_to_flower(map_concepts) -> CheckResult:
    """Check ``map_concepts()`` -> ``{TFF concept: Flower counterpart}`` for the six concepts."""
    ex = "A1.2"
    answer = call_learner(ex, map_concepts)
    if not isinstance(answer, dict) or set(answer) != set(TFF_CONCEPTS):
        return failed(ex, f"expected a dict with keys {sorted(TFF_CONCEPTS)}, got {answer!r}.",
                      "Return one Flower counterpart per TFF concept.")
    odd = [k for k, v in answer.items() if v not in FLOWER_COUNTERPARTS]
    if odd:
        return failed(ex, f"{odd[0]}: {answer[odd[0]]!r} is not one of the choices.",
                      f"Pick from {list(FLOWER_COUNTERPARTS)}.")
    wrong = [k for k in TFF_CONCEPTS if answer[k] != _FLOWER_ANSWERS[k]]
    if not wrong:
        return passed(ex, "all six mapped: the two frameworks share FedAvg's shape; TFF adds a typed "
                          "language, Flower real processes across machines.")
    return failed(ex, f"{len(wrong)} of 6 off, first {wrong[0]!r}.", _FLOWER_HINTS[wrong[0]])
