"""Self-checks for ``03_differential_privacy``."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..dp import RDPAccountant, randomized_response, rr_estimate
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "check_estimate_fraction",
    "check_laplace_release",
    "check_mean_sensitivity",
    "check_steps_within_budget",
]


@check
def check_estimate_fraction(estimate_fraction) -> CheckResult:
    """Check ``estimate_fraction(reports, epsilon)``: the unbiased estimate of the true share of
    1s from randomised-response reports, on three ε and true shares (tolerance 1e-9)."""
    ex = "3.1"
    for eps, share, seed in ((0.5, 0.2, 0), (math.log(3), 0.5, 1), (3.0, 0.9, 2)):
        truth = np.random.default_rng(seed).random(4000) < share
        reports = randomized_response(truth, epsilon=eps, rng=seed)
        got = call_learner(ex, estimate_fraction, reports.copy(), eps)
        want = rr_estimate(reports, epsilon=eps)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return failed(ex, f"expected a number, got {type(got).__name__}.",
                          "Return one float: the estimated fraction of true 1s.")
        if abs(got - want) > 1e-9:
            if abs(got - reports.mean()) < 1e-9:
                return failed(ex, f"at ε = {eps:.3g} you returned the reported share, which is "
                              "pulled towards 1/2 by the random flips.",
                              "Write the reported share's expectation in terms of the true share "
                              "and p = e^ε/(1+e^ε), then solve for the true share.")
            return failed(ex, f"at ε = {eps:.3g} your estimate is {got:.4f}, the unbiased one differs.",
                          "Check the probability of a truthful report: e^ε/(1+e^ε), not e^ε.")
    return passed(ex, "unbiased on three (ε, true share) settings.")


@check
def check_laplace_release(laplace_release) -> CheckResult:
    """Check ``laplace_release(value, sensitivity, epsilon, rng)``: over 4,000 calls with an
    ``np.random.Generator``, the releases centre on ``value``, their mean absolute error is
    Δ/ε within 8 %, and the noise has the Laplace distribution (a Kolmogorov–Smirnov test
    against Laplace(0, Δ/ε) at p >= 0.001, so uniform or Gaussian noise with the right
    spread fails), at two settings."""
    ex = "3.2"
    rng = np.random.default_rng(0)
    for value, sens, eps in ((42.0, 1.0, 0.5), (-3.0, 4.0, 2.0)):
        draws = np.array([
            float(call_learner(ex, laplace_release, value, sens, eps, rng)) for _ in range(4000)
        ])
        if np.ptp(draws) == 0:
            return failed(ex, "every call returned the same number: there is no noise.",
                          "Draw fresh noise from rng on every call.")
        b = sens / eps
        mae = np.abs(draws - value).mean()
        if abs(np.median(draws) - value) > 0.1 * b + 0.05:
            return failed(ex, f"the releases centre on {np.median(draws):.3g}, not on the true "
                          f"value {value}.", "The noise must have mean zero: add it to the value.")
        if abs(mae / b - 1) > 0.08:
            return failed(ex, f"at Δ = {sens}, ε = {eps} the mean absolute error is {mae:.3g}; "
                          f"ε-DP needs about {b:.3g}.",
                          "The Laplace scale grows with the sensitivity and shrinks as ε grows.")
        p_value = stats.kstest(draws - value, stats.laplace(scale=b).cdf).pvalue
        if p_value < 1e-3:
            return failed(ex, f"at Δ = {sens}, ε = {eps} the noise has the right spread but not the "
                          f"Laplace shape (Kolmogorov–Smirnov p = {p_value:.1e}).",
                          "The guarantee comes from the Laplace density's ratio at neighbouring "
                          "points, e^ε at most; another distribution with the same mean error "
                          "(uniform, Gaussian) does not give it.")
    return passed(ex, "Laplace noise centred on the value, with scale Δ/ε, at two settings.")


@check
def check_mean_sensitivity(mean_sensitivity) -> CheckResult:
    """Check ``mean_sensitivity(lower, upper, n)``: the L1 sensitivity of the mean of n values
    clamped to [lower, upper] when one person's value is replaced, on four cases (1e-12)."""
    ex = "3.3"
    for lower, upper, n in ((0.0, 1.0, 10), (17.0, 90.0, 32561), (-5.0, 5.0, 1), (20.0, 100.0, 400)):
        got = call_learner(ex, mean_sensitivity, lower, upper, n)
        want = (upper - lower) / n
        if not isinstance(got, (int, float, np.floating)) or abs(got - want) > 1e-12 * max(1, abs(want)):
            if isinstance(got, (int, float, np.floating)) and abs(got - upper / n) < 1e-12:
                return failed(ex, f"for values in [{lower}, {upper}] you gave upper/n.",
                              "Replacing one value can move it from the lowest allowed value "
                              "to the highest.")
            if isinstance(got, (int, float, np.floating)) and abs(got - (upper - lower)) < 1e-12:
                return failed(ex, "that is the sensitivity of the sum, not of the mean.",
                              "The changed value is one of n in the average.")
            return failed(ex, f"for [{lower}, {upper}] and n = {n} you gave {got!r}.",
                          "How far can the mean move when one of the n values changes?")
    return passed(ex, "(upper − lower)/n on four cases, n = 1 included.")


def _eps(noise_multiplier: float, sample_rate: float, steps: int, delta: float) -> float:
    acc = RDPAccountant()
    acc.step(noise_multiplier=noise_multiplier, sample_rate=sample_rate, steps=steps)
    return acc.get_epsilon(delta=delta)


@check
def check_steps_within_budget(steps_within_budget) -> CheckResult:
    """Check ``steps_within_budget(noise_multiplier, sample_rate, target_epsilon, delta)``: the
    largest number of DP-SGD steps whose RDP ε stays at or below the target, on two settings."""
    ex = "3.4"
    for sigma, q, target, delta in ((1.0, 0.01, 2.0, 1e-5), (0.8, 0.004, 1.0, 1e-5)):
        got = call_learner(ex, steps_within_budget, sigma, q, target, delta)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return failed(ex, f"expected an integer number of steps, got {got!r}.",
                          "Return how many steps, as an int.")
        got = int(got)
        if got < 0 or (got > 0 and _eps(sigma, q, got, delta) > target):
            return failed(ex, f"at σ = {sigma}, q = {q}: {got} steps spend more than ε = {target}.",
                          "Measure ε with ph.dp.RDPAccountant after that many steps.")
        if _eps(sigma, q, got + 1, delta) <= target:
            return failed(ex, f"at σ = {sigma}, q = {q}: {got + 1} steps still fit in ε = {target}.",
                          "Find the last step count that fits: ε only grows with steps, so a "
                          "bisection works.")
    return passed(ex, "the exact largest step count on two settings.")
