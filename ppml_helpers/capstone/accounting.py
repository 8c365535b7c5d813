"""Privacy accounting for the consortium: the Poisson-subsampled Gaussian (central and local DP,
the course's RDP accountant) and the Poisson-subsampled Skellam (distributed DP), per patient
and per hospital, with group privacy for a patient treated at two hospitals.

Distributed DP adds integer noise inside the secure-aggregation ring. Each hospital scales every
clipped per-patient gradient by ``scale`` and rounds it to integers at random, then adds a share
of Skellam noise (a difference of two Poisson variables): the sum of independent Skellam shares
is Skellam again, so the coordinator sees one Skellam mechanism of the total variance. Its RDP
(Agarwal, Kairouz & Liu 2021, Theorem 3.5), for integer α > 1, variance μ per coordinate and
integer sensitivities Δ2 (L2) and Δ1 (L1)::

    ε(α) ≤ α Δ2² / (2μ) + min( ((2α − 1) Δ2² + 6 Δ1) / (4μ²),  3 Δ1 / (2μ) )

The first term is the Gaussian's at the same variance; the second is the price of integers,
small once μ is large. Rounding moves each coordinate by less than 1, so a rounded gradient of
norm at most ``scale·C`` has L2 norm at most Δ2 = ``scale·C + √d`` and L1 norm at most
√d·scale·C + d = √d·Δ2: the sensitivities used. Poisson subsampling amplifies it through Zhu &
Wang's (2019, Theorem 6) bound for any mechanism, valid for integer orders; it is looser than the
exact subsampled-Gaussian formula, and the tests measure by how much.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..dp import DEFAULT_ORDERS, RDPAccountant, rdp_subsampled_gaussian, rdp_to_epsilon
from ..dp._validate import check_delta, check_epsilon, check_sample_rate

__all__ = [
    "GAUSSIAN_ORDERS",
    "INTEGER_ORDERS",
    "calibrate_gaussian",
    "calibrate_skellam",
    "check_delta_for",
    "gaussian_epsilon",
    "group_privacy",
    "hospital_level_epsilon",
    "rounded_sensitivities",
    "skellam_epsilon",
    "skellam_rdp",
    "subsampled_rdp",
]

#: Orders for the Skellam accounting: Zhu & Wang's bound needs integers.
INTEGER_ORDERS = (*range(2, 129), 160, 192, 256)
#: Orders for the Gaussian: Opacus's defaults (1.1 … 63) and larger ones, which small ε needs
#: (the conversion's log(1/δ)/(α − 1) term alone exceeds ε = 0.2 at α ≤ 63 and δ = 1e-5).
GAUSSIAN_ORDERS = (*DEFAULT_ORDERS, *range(64, 257, 8))


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number. Got {value!r}.")
    out = float(value)
    if not 0 < out < math.inf:
        raise ValueError(f"{name} must be positive and finite. Got {value!r}.")
    return out


def _count(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}. Got {value!r}.")
    return int(value)


def check_delta_for(delta, num_records: int) -> float:
    """δ must lie in (0, 1/n): above 1/n, "release one record in full" would already satisfy it."""
    d = check_delta(delta)
    n = _count(num_records, "num_records")
    if d >= 1 / n:
        raise ValueError(f"delta={delta!r} is not below 1/n = 1/{n} = {1 / n:.3g}: a mechanism that "
                         "publishes a random patient's record in full would meet it. Choose delta "
                         "well below 1/n (for example 1e-5).")
    return d


def _orders(orders) -> np.ndarray:
    alphas = np.asarray(orders)
    if alphas.ndim != 1 or alphas.size == 0 or (alphas != np.round(alphas)).any() or (alphas < 2).any():
        raise ValueError(f"orders must be integers >= 2 (Zhu & Wang's bound needs integers). Got {orders!r}.")
    return alphas.astype(np.int64)


def rounded_sensitivities(clip: float, scale: float, dim: int) -> tuple[float, float]:
    """(Δ2, Δ1) of one patient's randomly rounded, scaled, clipped gradient: (sC + √d, √d·Δ2)."""
    c, s, d = _positive(clip, "clip"), _positive(scale, "scale"), _count(dim, "dim")
    l2 = s * c + math.sqrt(d)
    return l2, math.sqrt(d) * l2


def skellam_rdp(orders, *, variance: float, l2_sensitivity: float, l1_sensitivity: float) -> np.ndarray:
    """RDP of one release of the Skellam mechanism (variance μ per coordinate), integer orders."""
    a = _orders(orders).astype(np.float64)
    mu = _positive(variance, "variance")
    d2 = _positive(l2_sensitivity, "l2_sensitivity")
    d1 = _positive(l1_sensitivity, "l1_sensitivity")
    return a * d2**2 / (2 * mu) + np.minimum(((2 * a - 1) * d2**2 + 6 * d1) / (4 * mu**2), 3 * d1 / (2 * mu))


def subsampled_rdp(base_rdp, *, sample_rate: float) -> np.ndarray:
    """Zhu & Wang's upper bound on the RDP of a Poisson-subsampled mechanism, orders 2, 3, …, A.

    ``base_rdp[i]`` is the mechanism's RDP at order i + 2 (every integer order from 2 up, which
    the bound needs); returns the subsampled RDP at the same orders, never above ``base_rdp``.
    """
    eps = np.asarray(base_rdp, dtype=np.float64)
    q = check_sample_rate(sample_rate)
    if eps.ndim != 1 or eps.size == 0 or (eps < 0).any():
        raise ValueError("base_rdp must be the non-negative RDP at orders 2, 3, …, A.")
    if q == 1.0:
        return eps.copy()
    log_q, log_1q = math.log(q), math.log1p(-q)
    out = np.empty_like(eps)
    for i, alpha in enumerate(range(2, eps.size + 2)):
        ell = np.arange(3, alpha + 1)
        terms = [(alpha - 1) * log_1q + math.log(alpha * q - q + 1),
                 math.log(special.comb(alpha, 2)) + 2 * log_q + (alpha - 2) * log_1q + eps[0]]
        if ell.size:
            terms.extend(math.log(3) + special.gammaln(alpha + 1) - special.gammaln(ell + 1)
                         - special.gammaln(alpha - ell + 1) + (alpha - ell) * log_1q + ell * log_q
                         + (ell - 1) * eps[ell - 2])
        out[i] = min(special.logsumexp(terms) / (alpha - 1), eps[i])
    return out


def skellam_epsilon(*, variance: float, l2_sensitivity: float, l1_sensitivity: float,
                    sample_rate: float, rounds: int, delta: float, orders=INTEGER_ORDERS) -> float:
    """ε at δ of ``rounds`` Poisson-subsampled Skellam releases (Zhu–Wang amplification, RDP)."""
    alphas = _orders(orders)
    n = _count(rounds, "rounds")
    every = np.arange(2, int(alphas.max()) + 1)
    base = skellam_rdp(every, variance=variance, l2_sensitivity=l2_sensitivity, l1_sensitivity=l1_sensitivity)
    amplified = subsampled_rdp(base, sample_rate=sample_rate)[alphas - 2]
    return rdp_to_epsilon(orders=alphas, rdp=amplified * n, delta=delta)[0]


def gaussian_epsilon(*, noise_multiplier: float, sample_rate: float, rounds: int, delta: float) -> float:
    """ε at δ of ``rounds`` Poisson-subsampled Gaussian steps: the course's RDP accountant."""
    acc = RDPAccountant(GAUSSIAN_ORDERS)
    acc.step(noise_multiplier=_positive(noise_multiplier, "noise_multiplier"),
             sample_rate=sample_rate, steps=_count(rounds, "rounds"))
    return acc.get_epsilon(delta=delta)


def _bisect(eps_of, target: float, rtol: float = 1e-6) -> float:
    """The smallest x with eps_of(x) <= target, eps_of decreasing in x."""
    lo, hi = 0.0, 1.0
    while eps_of(hi) > target:
        lo, hi = hi, 2 * hi
        if hi > 1e12:
            raise ValueError(f"target epsilon {target!r} cannot be reached at this delta.")
    while hi - lo > rtol * hi:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if eps_of(mid) > target else (lo, mid)
    return hi


def calibrate_gaussian(*, target_epsilon: float, sample_rate: float, rounds: int, delta: float) -> float:
    """The smallest noise multiplier σ whose ``rounds`` steps spend at most ``target_epsilon``."""
    target = check_epsilon(target_epsilon, "target_epsilon")
    return _bisect(lambda s: gaussian_epsilon(noise_multiplier=s, sample_rate=sample_rate, rounds=rounds,
                                              delta=delta), target)


def calibrate_skellam(*, target_epsilon: float, l2_sensitivity: float, l1_sensitivity: float,
                      sample_rate: float, rounds: int, delta: float) -> float:
    """The smallest total Skellam variance μ (integer units) that spends at most ``target_epsilon``.

    Bisects on the standard deviation in units of Δ2 (a noise multiplier), then returns μ.
    """
    target = check_epsilon(target_epsilon, "target_epsilon")
    d2 = _positive(l2_sensitivity, "l2_sensitivity")

    def eps(multiplier: float) -> float:
        return skellam_epsilon(variance=(multiplier * d2) ** 2, l2_sensitivity=d2,
                               l1_sensitivity=l1_sensitivity, sample_rate=sample_rate, rounds=rounds,
                               delta=delta)

    return (_bisect(eps, target) * d2) ** 2


def hospital_level_epsilon(*, noise_std: float, sensitivity: float, rounds: int, delta: float) -> float:
    """ε at δ when the unit is a whole hospital, which takes part in every round (no sampling).

    One hospital can move each round's sum by up to ``sensitivity`` (in the patient-level run, all
    its patients sampled: its training-set size times C); the Gaussian noise of std
    ``noise_std`` then gives RDP α·sensitivity²/(2·std²) per round.
    """
    std, sens = _positive(noise_std, "noise_std"), _positive(sensitivity, "sensitivity")
    z = std / sens
    orders = np.asarray(GAUSSIAN_ORDERS)
    rdp = rdp_subsampled_gaussian(noise_multiplier=z, sample_rate=1.0, steps=_count(rounds, "rounds"),
                                  orders=orders)
    return rdp_to_epsilon(orders=orders, rdp=rdp, delta=delta)[0]


def group_privacy(epsilon: float, delta: float, k: int) -> tuple[float, float]:
    """(ε, δ)-DP for groups of k records: (kε, k e^((k−1)ε) δ), e.g. one patient at k hospitals."""
    eps = check_epsilon(epsilon)
    d = check_delta(delta)
    k = _count(k, "k")
    return k * eps, k * math.exp((k - 1) * eps) * d
