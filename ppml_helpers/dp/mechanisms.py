"""The basic mechanisms: randomised response, Laplace and Gaussian, and their calibration.

Introduced in ``03_differential_privacy``. Reference: Dwork & Roth (2014),
"The Algorithmic Foundations of Differential Privacy", chapters 2–3 and
appendix A; Balle & Wang (2018), "Improving the Gaussian Mechanism for
Differential Privacy: Analytical Calibration and Optimal Denoising".
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from ._validate import check_delta, check_epsilon, check_sensitivity
from .noise import as_noise_source

__all__ = [
    "gaussian_delta",
    "gaussian_epsilon",
    "gaussian_mechanism",
    "gaussian_sigma",
    "laplace_mechanism",
    "laplace_scale",
    "randomized_response",
    "rr_estimate",
    "rr_truth_probability",
]

_METHODS = ("analytic", "classic")


def rr_truth_probability(*, epsilon: float) -> float:
    """Probability that randomised response reports the true bit: e^ε / (1 + e^ε)."""
    eps = check_epsilon(epsilon)
    return 1.0 / (1.0 + math.exp(-eps))


def _bits(answers, name: str = "answers") -> np.ndarray:
    arr = np.asarray(answers)
    if arr.dtype != bool and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0/1 or True/False values.")
    return arr.astype(bool)


def randomized_response(answers, *, epsilon: float, rng) -> np.ndarray:
    """Each person reports their true bit with probability e^ε/(1+e^ε), else its opposite.

    The ratio of the probabilities of any report under the two possible true
    bits is at most e^ε, so each report is ε-DP on its own (Warner 1965; with
    a fair coin deciding "truth or random answer", ε = ln 3).

    Args:
        answers: the true bits (0/1 or booleans), one per person.
        epsilon: the privacy parameter ε > 0.
        rng: a :class:`~ppml_helpers.dp.NoiseSource` or an integer seed.

    Returns:
        The reported bits, a boolean array shaped like ``answers``.
    """
    truth = _bits(answers)
    keep = as_noise_source(rng).bernoulli(rr_truth_probability(epsilon=epsilon), truth.shape)
    return np.where(keep, truth, ~truth)


def rr_estimate(responses, *, epsilon: float) -> float:
    """Unbiased estimate of the true fraction of 1s from randomised-response reports.

    With p = e^ε/(1+e^ε), the reported fraction has mean p·π + (1−p)(1−π),
    so π̂ = (mean − (1 − p)) / (2p − 1). It can fall outside [0, 1] for
    small samples; clipping it would bias it, so it is returned as is.
    """
    reports = _bits(responses, "responses")
    if reports.size == 0:
        raise ValueError("responses is empty: nothing to estimate.")
    p = rr_truth_probability(epsilon=epsilon)
    return float((reports.mean() - (1.0 - p)) / (2.0 * p - 1.0))


def laplace_scale(*, sensitivity: float, epsilon: float) -> float:
    """The Laplace mechanism's scale b = Δ₁ / ε."""
    return check_sensitivity(sensitivity) / check_epsilon(epsilon)


def laplace_mechanism(value, *, sensitivity: float, epsilon: float, rng):
    """Release ``value + Laplace(Δ₁/ε)`` noise: ε-DP for a query of L1 sensitivity Δ₁.

    Args:
        value: the true answer, a number or an array (each entry gets its own noise).
        sensitivity: Δ₁, the most one record can change ``value`` in L1 norm.
        epsilon: ε > 0.
        rng: a :class:`~ppml_helpers.dp.NoiseSource` or an integer seed.

    Returns:
        The noisy answer, a float for a scalar input, else an array.
    """
    scale = laplace_scale(sensitivity=sensitivity, epsilon=epsilon)
    arr = np.asarray(value, dtype=np.float64)
    out = arr + as_noise_source(rng).laplace(arr.shape, scale=scale)
    return float(out) if out.ndim == 0 else out


def gaussian_delta(*, sigma: float, epsilon: float, sensitivity: float) -> float:
    """The smallest δ for which N(0, σ²) noise on an L2-sensitivity-Δ query is (ε, δ)-DP.

    Balle & Wang (2018), Theorem 8: δ(σ) = Φ(Δ/(2σ) − εσ/Δ) − e^ε Φ(−Δ/(2σ) − εσ/Δ),
    computed in log space so large ε does not overflow.
    """
    eps = check_epsilon(epsilon)
    delta_2 = check_sensitivity(sensitivity)
    s = check_sensitivity(sigma, "sigma")
    a, b = delta_2 / (2 * s), eps * s / delta_2
    first = special.log_ndtr(a - b)
    second = eps + special.log_ndtr(-a - b)
    if second >= first:  # equal up to rounding: δ is 0 to machine precision
        return 0.0
    return float(math.exp(first) * -math.expm1(second - first))


def gaussian_sigma(*, epsilon: float, delta: float, sensitivity: float, method: str = "analytic") -> float:
    """The Gaussian mechanism's noise std σ for (ε, δ)-DP at L2 sensitivity Δ₂.

    ``method="classic"``: σ = Δ₂·sqrt(2 ln(1.25/δ))/ε (Dwork & Roth, Theorem A.1),
    proved only for ε < 1 and refused otherwise.
    ``method="analytic"``: the smallest σ with :func:`gaussian_delta` ≤ δ
    (Balle & Wang 2018), exact for every ε and always smaller than the classic σ.

    Raises:
        ValueError: a bad ε, δ, Δ or method, or ε ≥ 1 with the classic method.

    >>> round(gaussian_sigma(epsilon=0.5, delta=1e-5, sensitivity=1.0, method="classic"), 4)
    9.6896
    """
    eps = check_epsilon(epsilon)
    d = check_delta(delta)
    delta_2 = check_sensitivity(sensitivity)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}. Got {method!r}.")
    if method == "classic":
        if eps >= 1:
            raise ValueError(
                f"epsilon must be below 1 for the classic Gaussian calibration (its proof needs "
                f"ε < 1). Got {epsilon!r}; use method='analytic', which holds for every ε."
            )
        return delta_2 * math.sqrt(2 * math.log(1.25 / d)) / eps

    def excess(log_sigma: float) -> float:
        # log δ(σ) − log δ_target: decreasing in σ; δ(σ) = 0 counts as far below.
        got = gaussian_delta(sigma=math.exp(log_sigma), epsilon=eps, sensitivity=delta_2)
        return (math.log(got) if got > 0 else -745.0) - math.log(d)

    lo, hi = math.log(delta_2) - 10, math.log(delta_2) + 10
    while excess(lo) < 0:
        lo -= 10
    while excess(hi) > 0:
        hi += 10
    log_sigma = optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-14)
    # brentq lands within rounding of the root; step up to the side that meets δ.
    sigma = math.exp(log_sigma)
    while gaussian_delta(sigma=sigma, epsilon=eps, sensitivity=delta_2) > d:
        sigma = math.nextafter(sigma, math.inf)
    return sigma


def gaussian_epsilon(*, sigma: float, delta: float, sensitivity: float) -> float:
    """The exact ε of N(0, σ²) noise on an L2-sensitivity-Δ query at δ: the inverse of the analytic
    calibration, the smallest ε with :func:`gaussian_delta` ≤ δ (Balle & Wang 2018).

    Use it to state what a σ chosen some other way (an RDP accountant's, for one)
    gives exactly for a single release. Values below 1e-12 are reported as 1e-12.

    >>> s = gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0)
    >>> round(gaussian_epsilon(sigma=s, delta=1e-5, sensitivity=1.0), 9)
    1.0
    """
    d = check_delta(delta)
    delta_2 = check_sensitivity(sensitivity)
    s = check_sensitivity(sigma, "sigma")

    def excess(eps: float) -> float:  # δ(ε) − δ_target, decreasing in ε
        return gaussian_delta(sigma=s, epsilon=eps, sensitivity=delta_2) - d

    lo = 1e-12  # below this, report the bound itself: ε ≤ 1e-12
    if excess(lo) <= 0:
        return lo
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2
    return float(optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=1e-15))


def gaussian_mechanism(
    value, *, sensitivity: float, epsilon: float, delta: float, rng, method: str = "analytic"
):
    """Release ``value + N(0, σ²)`` with σ from :func:`gaussian_sigma`: (ε, δ)-DP at L2 sensitivity Δ₂.

    Args:
        value: the true answer, a number or an array (noise per entry).
        sensitivity: Δ₂, the most one record can change ``value`` in L2 norm.
        epsilon, delta: the target (ε, δ).
        rng: a :class:`~ppml_helpers.dp.NoiseSource` or an integer seed.
        method: ``"analytic"`` (default) or ``"classic"`` (ε < 1 only).
    """
    sigma = gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity, method=method)
    arr = np.asarray(value, dtype=np.float64)
    out = arr + as_noise_source(rng).normal(arr.shape, std=sigma)
    return float(out) if out.ndim == 0 else out
