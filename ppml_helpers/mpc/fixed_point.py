"""Fixed-point encoding of float vectors into the ring Z_(2^k), with an overflow guard.

Teaching code, introduced in ``06_secure_aggregation``. Secret sharing and
masking work on integers modulo m, not on floats, so a model update is first
scaled and rounded: a value v in the clipping range becomes

    q = round(v · 2^f) mod 2^k          (f = ``frac_bits``, k = ``bits``)

Negative values wrap to the top of the ring (two's complement). Encoding is
additive: the ring sum of m encodings is Σ q_i mod 2^k, and as long as the
true integer sum satisfies −2^(k−1) <= Σ q_i < 2^(k−1), reading the ring
element back as a signed number gives Σ q_i exactly, so the sum decodes to
Σ round(v_i · 2^f) / 2^f, within m / 2^(f+1) of Σ v_i. If the true sum leaves
that window it wraps around the ring and decodes to a wildly wrong number
with no warning, which is why :class:`FixedPoint` refuses, at construction,
any ``num_clients`` whose sum could leave it.

Reference: Bonawitz et al. (2017), "Practical Secure Aggregation for
Privacy-Preserving Machine Learning", section 3 (inputs in Z_R).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import MAX_MODULUS, as_ring_array, check_int

__all__ = ["MAX_BITS", "FixedPoint"]

MAX_BITS = MAX_MODULUS.bit_length() - 1
"""Largest ring size k = 63: ring elements and 2^k fit in ``uint64``, centred values in ``int64``."""


def _where(shape: tuple[int, ...], flat_index: int) -> str:
    if len(shape) <= 1:
        return f"[{flat_index}]"
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat_index, shape)) + "]"


@dataclass(frozen=True, kw_only=True)
class FixedPoint:
    """A fixed-point code for vectors in a clipping range, sized for a sum of ``num_clients``.

    Values outside the range are refused by :meth:`encode` (a ``ValueError``
    naming the first offending coordinate); they are clamped only when the
    caller asks with ``encode(x, clip=True)``. Silent clamping would hide a
    missing clipping step, and clipping is part of a DP analysis, so it
    should be visible in the caller's code.

    Args:
        clip_range: a positive number c for the range [−c, c], or a pair
            ``(low, high)`` with low < high. Stored as the pair of floats.
        num_clients: the most encodings that will ever be added together.
        bits: k, the ring is Z_(2^k); an integer in [2, 63].
        frac_bits: f in [0, 1000], the scale is 2^f (the resolution is 2^−f); default 16.

    Raises:
        ValueError: a bad argument, or ``num_clients`` encodings could sum
            past the ring's signed range (the message gives the bits needed).
        TypeError: a non-integer ``bits``, ``frac_bits`` or ``num_clients``.

    >>> fp = FixedPoint(clip_range=1.0, num_clients=3, bits=16, frac_bits=8)
    >>> fp.max_clients
    127
    >>> enc = [fp.encode(np.array([0.5, -0.25])) for _ in range(3)]
    >>> fp.decode_sum(fp.sum_encoded(enc)).tolist()
    [1.5, -0.75]
    """

    clip_range: float | tuple[float, float]
    num_clients: int
    bits: int = 32
    frac_bits: int = 16

    def __post_init__(self):
        object.__setattr__(self, "clip_range", _check_clip_range(self.clip_range))
        check_int(self.bits, "bits", low=2, high=MAX_BITS)
        check_int(self.frac_bits, "frac_bits", low=0, high=1000)
        check_int(self.num_clients, "num_clients", low=1)
        q_low, q_high = self._q_bounds
        if q_low == q_high:
            raise ValueError(
                f"clip_range={self.clip_range} is narrower than one step of 2^-{self.frac_bits}: "
                "every value would encode to the same integer. Increase frac_bits."
            )
        if self.num_clients > self.max_clients:
            raise ValueError(self._overflow_message())

    # --- sizes -----------------------------------------------------------------------

    @property
    def modulus(self) -> int:
        """The ring size 2^k."""
        return 2**self.bits

    @property
    def scale(self) -> float:
        """The factor 2^f applied before rounding; one unit in the last place is 1/scale."""
        return 2.0**self.frac_bits

    @property
    def _q_bounds(self) -> tuple[int, int]:
        low, high = self.clip_range
        return int(np.rint(low * self.scale)), int(np.rint(high * self.scale))

    @property
    def max_clients(self) -> int:
        """The most encodings whose sum is guaranteed not to wrap around the ring."""
        q_low, q_high = self._q_bounds
        half = 2 ** (self.bits - 1)
        limits = []
        if q_high > 0:
            limits.append((half - 1) // q_high)
        if q_low < 0:
            limits.append(half // -q_low)
        return min(limits)

    def _overflow_message(self) -> str:
        q_low, q_high = self._q_bounds
        n = self.num_clients
        needed = 1 + max((n * max(q_high, 0)).bit_length(), max(n * -q_low - 1, 0).bit_length())
        more_bits = f"bits >= {needed}, " if needed <= MAX_BITS else ""
        if self.max_clients == 0:
            return (
                f"clip_range={self.clip_range} scaled by 2^{self.frac_bits} does not fit in "
                f"bits={self.bits} even for one client (num_clients={n}). Use {more_bits}"
                "fewer frac_bits or a narrower clip_range."
            )
        return (
            f"num_clients={n} could overflow the ring: with bits={self.bits}, "
            f"frac_bits={self.frac_bits} and clip_range={self.clip_range}, a sum of more than "
            f"{self.max_clients} encodings can wrap around mod 2^{self.bits} and decode to a "
            f"wrong value. Use {more_bits}fewer frac_bits, a narrower clip_range, or at most "
            f"{self.max_clients} clients."
        )

    # --- encoding and decoding -------------------------------------------------------

    def encode(self, x, *, clip: bool = False) -> np.ndarray:
        """Encode a float array into Z_(2^k): round(x · 2^f) mod 2^k, as ``uint64``.

        Args:
            x: numbers in ``clip_range`` (any shape).
            clip: clamp out-of-range values to the range instead of refusing
                them. NaN is refused either way.

        Returns:
            A ``uint64`` array shaped like ``x`` with entries in [0, 2^k).

        Raises:
            ValueError: NaN in ``x``, or a value outside ``clip_range`` with
                ``clip=False``; the message names the first such coordinate.
            TypeError: ``x`` is not numeric.
        """
        arr = np.asarray(x)
        if arr.dtype == bool or not (
            np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
        ):
            raise TypeError(f"x must be an array of real numbers. Got dtype {arr.dtype}.")
        arr = arr.astype(np.float64)
        low, high = self.clip_range
        nan = np.isnan(arr).ravel()
        if nan.any():
            raise ValueError(
                f"x{_where(arr.shape, int(nan.argmax()))} is NaN; NaN cannot be encoded."
            )
        if clip:
            arr = np.clip(arr, low, high)
        else:
            outside = ((arr < low) | (arr > high)).ravel()
            if outside.any():
                i = int(outside.argmax())
                raise ValueError(
                    f"x{_where(arr.shape, i)} = {float(arr.ravel()[i])!r} is outside "
                    f"clip_range [{low}, {high}]. Clip the update before encoding (e.g. by its "
                    "norm, as DP-SGD does) or pass clip=True to clamp each value explicitly."
                )
        q = np.rint(arr * self.scale).astype(np.int64)
        return q.astype(np.uint64) & np.uint64(self.modulus - 1)

    def _centred(self, encoded: np.ndarray) -> np.ndarray:
        # Sign-extend from k bits: move bit k−1 to bit 63, then shift back arithmetically.
        shift = 64 - self.bits
        flat = encoded.reshape(-1) << np.uint64(shift)
        return (flat.view(np.int64) >> np.int64(shift)).reshape(encoded.shape)

    def decode(self, encoded) -> np.ndarray:
        """Decode ring elements to floats: the signed representative in [−2^(k−1), 2^(k−1)) / 2^f.

        Raises:
            TypeError, ValueError: ``encoded`` does not hold integers in [0, 2^k).
        """
        ring = as_ring_array(encoded, modulus=self.modulus, name="encoded")
        return self._centred(ring).astype(np.float64) / self.scale

    def sum_encoded(self, encoded_vectors) -> np.ndarray:
        """Add encodings in the ring: (Σ e_i) mod 2^k, as ``uint64``.

        Raises:
            ValueError: no vectors, mismatched shapes, or entries outside [0, 2^k).
        """
        vectors = [
            as_ring_array(v, modulus=self.modulus, name=f"encoded_vectors[{i}]")
            for i, v in enumerate(encoded_vectors)
        ]
        if not vectors:
            raise ValueError("encoded_vectors is empty: give at least one encoded vector.")
        shapes = {v.shape for v in vectors}
        if len(shapes) > 1:
            raise ValueError(
                f"encoded_vectors must all have the same shape. Got shapes {sorted(shapes)}."
            )
        # uint64 addition wraps mod 2^64, and 2^k divides 2^64, so masking gives the sum mod 2^k.
        return np.sum(np.stack(vectors), axis=0, dtype=np.uint64) & np.uint64(self.modulus - 1)

    def decode_sum(self, total, *, num_summands: int | None = None) -> np.ndarray:
        """Decode the ring sum of ``num_summands`` encodings (default ``num_clients``).

        The decoded sum is within num_summands / 2^(f+1) of the sum of the
        original values. As a sanity check, a total that no ``num_summands``
        in-range encodings could add up to (for instance one that still
        carries a secure-aggregation mask) is refused rather than returned.
        Not every wrong total is caught this way: when the range of possible
        sums covers most of the ring, garbage usually lands inside it.

        Raises:
            ValueError: ``num_summands`` outside [1, num_clients], ``total``
                outside the ring, or a total out of reach of that many encodings.
        """
        m = self.num_clients if num_summands is None else num_summands
        m = check_int(m, "num_summands", low=1, high=self.num_clients)
        ring = as_ring_array(total, modulus=self.modulus, name="total")
        centred = self._centred(ring)
        q_low, q_high = self._q_bounds
        lo, hi = m * min(q_low, 0), m * max(q_high, 0)
        bad = ((centred < lo) | (centred > hi)).ravel()
        if bad.any():
            i = int(bad.argmax())
            raise ValueError(
                f"total{_where(ring.shape, i)} decodes to {float(centred.ravel()[i]) / self.scale!r}, "
                f"outside [{lo / self.scale}, {hi / self.scale}], which num_summands={m} values in "
                f"clip_range={self.clip_range} can reach. It is not a sum of {m} encodings: a "
                "mask left in, a missing or extra summand, or a different FixedPoint."
            )
        return centred.astype(np.float64) / self.scale


def _check_clip_range(clip_range) -> tuple[float, float]:
    allowed = (
        "a positive number c (for [−c, c]) or a pair (low, high) of finite numbers with low < high"
    )
    if isinstance(clip_range, (tuple, list)):
        if len(clip_range) != 2:
            raise ValueError(f"clip_range must be {allowed}. Got {clip_range!r}.")
        low, high = clip_range
    else:
        low = high = clip_range
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"clip_range must be {allowed}. Got {clip_range!r}.")
    if not isinstance(clip_range, (tuple, list)):
        low, high = -float(clip_range), float(clip_range)
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"clip_range must be {allowed}. Got {clip_range!r}.")
    return low, high
