"""Self-checks for ``04_dp_sgd``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..plots import privacy_utility_table
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "check_clip_per_example",
    "check_lowest_epsilon",
    "check_noisy_average",
    "check_poisson_batch",
]


def _per_example(seed: int):
    gen = torch.Generator().manual_seed(seed)
    scales = torch.tensor([0.01, 0.3, 1.0, 5.0, 40.0, 0.0])  # some below C, some far above, one zero
    return {
        "weight": torch.randn(6, 3, 4, generator=gen) * scales.view(-1, 1, 1),
        "bias": torch.randn(6, 3, generator=gen) * scales.view(-1, 1),
    }


def _reference_clip(per_sample, clip):
    flat = torch.cat([g.reshape(len(g), -1) for g in per_sample.values()], dim=1)
    factor = (clip / (flat.norm(dim=1) + 1e-6)).clamp(max=1.0)
    return {k: g * factor.view(-1, *[1] * (g.dim() - 1)) for k, g in per_sample.items()}


@check
def check_clip_per_example(clip_per_example) -> CheckResult:
    """Check ``clip_per_example(per_sample, max_grad_norm)``: each example's gradient, over all
    parameters jointly, scaled to norm at most C; short ones untouched (tolerance 1e-5)."""
    ex = "4.1"
    per_sample = _per_example(0)
    for clip in (1.0, 0.25):
        got = call_learner(ex, clip_per_example, {k: v.clone() for k, v in per_sample.items()}, clip)
        if not isinstance(got, dict) or set(got) != set(per_sample):
            return failed(ex, "expected a dict with the same keys as per_sample.",
                          "Return {name: clipped per-example gradients} for every parameter.")
        if any(tuple(got[k].shape) != tuple(v.shape) for k, v in per_sample.items()):
            return failed(ex, "the shapes changed: keep one gradient per example, [B, *param.shape].",
                          "Scale each example's gradients; don't sum over the batch yet.")
        want = _reference_clip(per_sample, clip)
        if all(torch.allclose(got[k], want[k], atol=1e-5, rtol=1e-5) for k in want):
            continue
        per_param = {k: g * (clip / (g.reshape(len(g), -1).norm(dim=1) + 1e-6)).clamp(max=1.0)
                     .view(-1, *[1] * (g.dim() - 1)) for k, g in per_sample.items()}
        if all(torch.allclose(got[k], per_param[k], atol=1e-5) for k in want):
            return failed(ex, "you clipped each parameter tensor on its own, so one example's total "
                          "norm can reach C times the number of tensors.",
                          "Take one norm per example over all of its parameters together.")
        total = torch.cat([g.reshape(len(g), -1) for g in got.values()], dim=1).norm(dim=1)
        if (total > clip * (1 + 1e-4)).any():
            return failed(ex, f"with C = {clip} some examples still have norm up to {total.max():.3g}.",
                          "Scale each example by min(1, C / its norm).")
        return failed(ex, "examples already shorter than C were changed, or the scaling is off.",
                      "Clipping only shrinks long gradients; short ones stay as they are.")
    return passed(ex, "per-example joint norms clipped to C, short gradients untouched, at two C.")


@check
def check_poisson_batch(poisson_batch) -> CheckResult:
    """Check ``poisson_batch(num_samples, sample_rate, generator)``: distinct indices in range;
    over 400 draws (n = 1,000, q = 0.05) the size has mean qn and sd sqrt(nq(1−q)) within
    stated tolerances, and every index is included about q of the time."""
    ex = "4.2"
    n, q = 1000, 0.05
    gen = torch.Generator().manual_seed(0)
    sizes, hits = [], np.zeros(n)
    for _ in range(400):
        idx = call_learner(ex, poisson_batch, n, q, gen)
        idx = np.asarray(idx.tolist() if isinstance(idx, torch.Tensor) else idx, dtype=np.int64).reshape(-1)
        if len(np.unique(idx)) != len(idx) or (len(idx) and (idx.min() < 0 or idx.max() >= n)):
            return failed(ex, "indices must be distinct and lie in range(num_samples).",
                          "Decide for each index separately whether it joins the batch.")
        sizes.append(len(idx))
        hits[idx] += 1
    mean, sd = float(np.mean(sizes)), float(np.std(sizes))
    want_sd = math.sqrt(n * q * (1 - q))
    if sd < 0.3 * want_sd:
        return failed(ex, f"every batch had about the same size ({mean:.0f}): that is sampling a "
                      "fixed number of examples, not Poisson sampling.",
                      "The accountant assumes each example joins independently with probability q, "
                      "so the batch size itself is random.")
    if abs(mean - n * q) > 0.05 * n * q:
        return failed(ex, f"the mean batch size is {mean:.1f}; with n = {n} and q = {q} it should be "
                      f"near {n * q:.0f}.", "Each example joins with probability sample_rate.")
    if abs(sd / want_sd - 1) > 0.2:
        return failed(ex, f"the batch size's sd is {sd:.2f}, Poisson sampling gives about {want_sd:.2f}.",
                      "Draw one independent coin per example.")
    if hits.min() == 0 or abs(hits.mean() / 400 - q) > 0.005:
        return failed(ex, "some examples are never or far too rarely chosen.",
                      "Every example must have the same chance q of joining.")
    return passed(ex, f"batch size mean {mean:.1f} (qn = {n * q:.0f}), sd {sd:.2f} "
                  f"(theory {want_sd:.2f}); every index joins about q of the time.")


@check
def check_noisy_average(noisy_average) -> CheckResult:
    """Check ``noisy_average(clipped_sum, noise_multiplier, max_grad_norm, expected_batch_size,
    generator)``: over 2,000 coordinates the result has mean sum / (qN) and noise sd σC / (qN)
    (within 5 %), and σ = 0 adds no noise."""
    ex = "4.3"
    gen = torch.Generator().manual_seed(0)
    sigma, clip, expected = 1.5, 2.0, 50.0
    summed = {"weight": torch.full((40, 25), 10.0), "bias": torch.full((1000,), -5.0)}
    got = call_learner(ex, noisy_average, {k: v.clone() for k, v in summed.items()}, sigma, clip, expected, gen)
    if not isinstance(got, dict) or set(got) != set(summed):
        return failed(ex, "expected a dict with the same keys as clipped_sum.",
                      "Return {name: noisy average gradient}.")
    for k, v in summed.items():
        if tuple(got[k].shape) != tuple(v.shape):
            return failed(ex, f"{k!r} changed shape.", "Add noise of the same shape as each tensor.")
    resid = torch.cat([(got[k] - v / expected).reshape(-1) for k, v in summed.items()])
    noise_sd, want_sd = float(resid.std()), sigma * clip / expected
    if abs(float(resid.mean())) > 4 * want_sd / math.sqrt(resid.numel()) + 1e-6:
        return failed(ex, "the result is not centred on clipped_sum / expected_batch_size.",
                      "Divide the noisy sum by the expected batch size, the same for every step.")
    if noise_sd < 1e-9:
        return failed(ex, "no noise was added.", "Draw Gaussian noise with the generator for every coordinate.")
    if abs(noise_sd / want_sd - 1) > 0.05:
        ratio = noise_sd / want_sd
        hint = ("The noise's standard deviation is the noise multiplier times the clipping norm, "
                "added to the sum before dividing.")
        return failed(ex, f"the noise sd is {ratio:.2f} times what DP-SGD needs.", hint)
    zero = call_learner(ex, noisy_average, {k: v.clone() for k, v in summed.items()}, 0.0, clip, expected, gen)
    if any(not torch.allclose(zero[k], v / expected) for k, v in summed.items()):
        return failed(ex, "with noise_multiplier = 0 the result should be exactly the sum divided by "
                      "the expected batch size.", "Scale the noise by the noise multiplier.")
    return passed(ex, f"centred on the average, noise sd {noise_sd:.4f} (σC/qN = {want_sd:.4f}).")


def _lowest(results, floor):
    table = privacy_utility_table(results)
    ok = table[table["mean"] >= floor]
    return None if ok.empty else float(ok.index.min())


@check
def check_lowest_epsilon(lowest_epsilon) -> CheckResult:
    """Check ``lowest_epsilon(results, floor)``: the smallest ε whose MEAN accuracy over seeds
    reaches the floor (``None`` when none does), on three synthetic result tables."""
    ex = "4.4"
    eps = [0.5, 1.0, 2.0, 4.0, math.inf]
    # seed 0 is lucky at ε = 1 (a single run would pass), the mean does not.
    acc = {0.5: [0.70, 0.71, 0.69], 1.0: [0.86, 0.78, 0.79], 2.0: [0.83, 0.84, 0.82],
           4.0: [0.845, 0.85, 0.84], math.inf: [0.85, 0.86, 0.855]}
    table = pd.DataFrame([{"epsilon": e, "seed": s, "accuracy": acc[e][s]} for e in eps for s in range(3)])
    for floor in (0.82, 0.845, 0.9):
        got = call_learner(ex, lowest_epsilon, table.sample(frac=1.0, random_state=1), floor)
        want = _lowest(table, floor)
        if want is None:
            if got is not None:
                return failed(ex, f"no ε reaches a mean of {floor} here, yet you returned {got!r}.",
                              "Return None when no ε meets the floor.")
            continue
        if got is None or not math.isclose(float(got), want):
            if floor == 0.82 and got is not None and math.isclose(float(got), 1.0):
                return failed(ex, "at ε = 1 one lucky seed reaches 0.82, but the mean over seeds "
                              "does not.", "Average the seeds at each ε before comparing to the floor.")
            return failed(ex, f"for a floor of {floor} you returned {got!r}.",
                          "Among the ε whose mean accuracy reaches the floor, take the smallest; "
                          "the rows are not sorted.")
    return passed(ex, "the smallest ε meeting the floor on the seed mean, and None when none does.")
