"""Mironov's (2012) floating-point attack on the textbook Laplace sampler, made enumerable.

The textbook sampler releases ``value + sign · (−b · ln u)`` with u uniform in
(0, 1). In floating point, u takes finitely many values, so the noise does
too, and the set of outputs reachable from ``value`` differs from the set
reachable from a neighbour's ``value + 1``: an output that only one of them
can produce tells the attacker which dataset was used, with certainty, and
ε-DP is broken (ε = ∞) whatever b is. Here u is drawn from a grid of
2**grid_bits values so that every output can be listed; real samplers use
53-bit u, which cannot be enumerated, but Mironov showed the same gaps in
the samplers of real libraries. The fix he proposed, the snapping
mechanism, clamps and rounds the output to a grid of spacing Λ ≥ the noise's
resolution (at a small cost in ε). Introduced in ``03_differential_privacy``.

Reference: Mironov (2012), "On Significance of the Least Significant Bits
for Differential Privacy", CCS.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_sensitivity

__all__ = ["distinguishable_fraction", "grid_exponent", "naive_laplace_support"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def naive_laplace_support(value: float, *, scale: float, grid_bits: int = 20, dtype: str = "float64") -> np.ndarray:
    """Every output of ``value + sign·(−scale·ln u)`` computed in ``dtype``, u on a 2**grid_bits grid.

    u runs over the midpoints (i + ½)/2**grid_bits and the sign over ±1, so the
    array holds 2**(grid_bits + 1) equally likely outputs.
    """
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {sorted(_DTYPES)}. Got {dtype!r}.")
    if isinstance(grid_bits, bool) or not isinstance(grid_bits, int) or not 4 <= grid_bits <= 24:
        raise ValueError(f"grid_bits must be an integer from 4 to 24 (2**bits values of u). Got {grid_bits!r}.")
    b = check_sensitivity(scale, "scale")
    dt = _DTYPES[dtype]
    u = ((np.arange(2**grid_bits, dtype=np.float64) + 0.5) / 2**grid_bits).astype(dt)
    magnitude = (-dt(b) * np.log(u)).astype(dt)
    return (dt(value) + np.concatenate([magnitude, -magnitude])).astype(dt)


def distinguishable_fraction(
    value: float, neighbour: float, *, scale: float, grid_bits: int = 20, dtype: str = "float64",
    snap: float | None = None,
) -> float:
    """Probability that an output released from ``value`` could not have come from ``neighbour``.

    Such an output identifies the dataset with certainty. ``snap=Λ`` rounds
    every output to a multiple of Λ first (the rounding half of the snapping
    mechanism; the clamping half would remove what is left in the tails).
    """
    a = naive_laplace_support(value, scale=scale, grid_bits=grid_bits, dtype=dtype)
    b = naive_laplace_support(neighbour, scale=scale, grid_bits=grid_bits, dtype=dtype)
    if snap is not None:
        step = check_sensitivity(snap, "snap")
        a, b = np.round(a / step) * step, np.round(b / step) * step
    return float(np.isin(a, b, invert=True).mean())


def grid_exponent(values) -> int | None:
    """The largest k such that every value is a whole multiple of 2**k, or None if all are 0.

    The coarsest power-of-two grid that holds every output: a test of a
    sampler from outside. Google's differential-privacy library rounds to a
    grid set by the noise scale (2**-40 for Laplace noise of scale 1), so its
    outputs from neighbouring inputs share one grid; a textbook float sampler
    uses all 53 bits of each number (``03_differential_privacy``, section 10).

    Raises:
        ValueError: ``values`` empty, or holding a NaN or an infinity.

    >>> grid_exponent([0.75, 1.5, -3.0])
    -2
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("values must hold at least one number. Got an empty array.")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"values must be finite. Got {bad!r}.")
    lowest = None
    for x in arr[arr != 0]:
        mantissa, exponent = math.frexp(float(x))  # x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1
        whole = abs(int(mantissa * 2**53))  # exact: a double has 53 significant bits
        k = exponent - 53 + (whole & -whole).bit_length() - 1  # the lowest set bit's weight
        lowest = k if lowest is None else min(lowest, k)
    return lowest
