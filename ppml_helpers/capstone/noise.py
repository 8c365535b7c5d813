"""Noise shares for distributed DP: integer Skellam noise each hospital adds inside the ring, sized
so that the declared colluders and dropouts still leave the required total.

The coordinator sees the sum of what the included hospitals sent. Colluding hospitals know their
own noise and can subtract it; a hospital that drops out before sending its masked input takes
its noise (and its data) out of the sum. So of n hospitals, at worst n − n_C − D honest shares
remain, and each share must carry μ / (n − n_C − D) of the variance μ the accounting needs. When
fewer drop out or nobody colludes, the sum holds more noise than needed: that is the utility
price of tolerating them, and :meth:`SharePlan.excess` measures it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SharePlan",
    "plan_shares",
    "randomized_round",
    "skellam_noise",
]


def _count(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}. Got {value!r}.")
    return int(value)


@dataclass(frozen=True)
class SharePlan:
    """How much Skellam variance each hospital adds so that the guaranteed total is ``variance``."""

    variance: float
    hospitals: int
    colluders: int
    dropouts: int

    @property
    def honest_survivors(self) -> int:
        """The fewest shares whose noise the coordinator cannot subtract: n − n_C − D."""
        return self.hospitals - self.colluders - self.dropouts

    @property
    def share_variance(self) -> float:
        """Each hospital's share of the variance: μ / (n − n_C − D)."""
        return self.variance / self.honest_survivors

    def noise_left(self, *, included: int, colluding: int = 0) -> float:
        """The variance the coordinator cannot remove when ``included`` hospitals' inputs are
        summed and ``colluding`` of them collude with it."""
        included = _count(included, "included", 0)
        colluding = _count(colluding, "colluding", 0)
        if colluding > included or included > self.hospitals:
            raise ValueError(f"need colluding <= included <= {self.hospitals}. "
                             f"Got included={included}, colluding={colluding}.")
        return (included - colluding) * self.share_variance

    def excess(self) -> float:
        """Total variance over the guarantee when nobody drops out and nobody colludes (≥ 1)."""
        return self.hospitals / self.honest_survivors


def plan_shares(variance: float, *, hospitals: int, colluders: int, dropouts: int) -> SharePlan:
    """Size each hospital's noise share; refuse a plan that leaves no honest share.

    Raises:
        ValueError: n − n_C − D < 1 (names the three and what is allowed), or a variance that
            is not positive.
    """
    if isinstance(variance, bool) or not isinstance(variance, (int, float, np.floating)) \
            or not 0 < float(variance) < math.inf:
        raise ValueError(f"variance must be positive and finite. Got {variance!r}.")
    n = _count(hospitals, "hospitals", 2)
    c = _count(colluders, "colluders", 0)
    d = _count(dropouts, "dropouts", 0)
    if n - c - d < 1:
        raise ValueError(f"hospitals={n}, colluders={c} and dropouts={d} leave no honest hospital whose "
                         f"noise the coordinator cannot remove: need colluders + dropouts <= {n - 1}.")
    return SharePlan(float(variance), n, c, d)


def skellam_noise(rng: np.random.Generator, variance: float, size) -> np.ndarray:
    """Symmetric Skellam integers: Poisson(μ/2) − Poisson(μ/2), mean 0, variance μ (int64)."""
    if not 0 < float(variance) < math.inf:
        raise ValueError(f"variance must be positive and finite. Got {variance!r}.")
    half = float(variance) / 2
    return rng.poisson(half, size).astype(np.int64) - rng.poisson(half, size).astype(np.int64)


def randomized_round(x, rng: np.random.Generator) -> np.ndarray:
    """Round each value down or up at random, unbiased: E[round(x)] = x; every value moves by < 1."""
    x = np.asarray(x, dtype=np.float64)
    low = np.floor(x)
    return (low + (rng.random(x.shape) < x - low)).astype(np.int64)
