"""Secure aggregation in the consortium's loop: the course's Bonawitz protocol summing the
hospitals' integer inputs (noised, rounded gradient sums) exactly in the ring Z_(2^63).

The threshold follows the rule of notebook 06, t > (n + n_C)/2 against a lying coordinator with
n_C colluding hospitals, and is set to exactly t = n − D: then D dropouts still leave t shares,
and no more than D hospitals can be left out of a sum (with fewer than t inputs the protocol
refuses), which is what the noise shares were sized for. A lower safe threshold would let the
coordinator drop more hospitals, and their noise with them, than the plan allows.
"""

from __future__ import annotations

import numpy as np

from ..secagg import SecAggResult, simulate, threshold_range

__all__ = ["RING_BITS", "VALUE_BOUND", "plan_threshold", "secure_sum"]

#: The ring Z_(2^63) and the largest |value| an input may hold: 2^40, so that the five inputs'
#: sum cannot wrap (FixedPoint checks it) and every integer is exact in float64 (< 2^53).
RING_BITS = 63
VALUE_BOUND = float(2**40)


def plan_threshold(hospitals: int, *, colluders: int, dropouts: int) -> int:
    """The threshold of the noise plan: t = n − D, refused unless t > (n + n_C)/2.

    Raises:
        ValueError: n − D is not safe against the colluders (names n, n_C, D and both bounds).
    """
    allowed = threshold_range(hospitals, dropouts=dropouts, colluders=colluders)
    if len(allowed) == 0:
        raise ValueError(
            f"no threshold works for n={hospitals} hospitals, colluders={colluders}, dropouts={dropouts}: "
            f"t > (n + n_C)/2 needs t >= {(hospitals + colluders) // 2 + 1}, and surviving D dropouts needs "
            f"t <= n - D = {hospitals - dropouts}. Tolerate fewer colluders or dropouts, or add hospitals.")
    return allowed[-1]  # n − D: the coordinator cannot drop more hospitals than the shares allow for


def secure_sum(inputs, *, colluders: int, dropouts_tolerated: int, dropouts=None,
               seed: int | None) -> SecAggResult:
    """Sum the hospitals' integer vectors with the Bonawitz protocol; return its full result.

    Args:
        inputs: one int64 vector per hospital, every |value| <= :data:`VALUE_BOUND`.
        colluders, dropouts_tolerated: n_C and D, which fix the threshold t = n − D
            (:func:`plan_threshold`): a round with more dropouts is refused by the protocol.
        dropouts: ``{hospital: round}`` who actually stops responding and from which of the
            protocol's rounds (2: before sending its masked input, so its data and its noise
            share are missing from the sum); see :func:`ppml_helpers.secagg.simulate`.
        seed: an int for a repeatable teaching run; None for the OS CSPRNG (deployment).

    Returns:
        The :class:`~ppml_helpers.secagg.SecAggResult`: ``sum`` (exact integers, as float64),
        ``included`` (whose inputs are in it) and ``costs`` (bytes and seconds per round).
    """
    x = np.asarray(inputs)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"inputs must be one integer vector per hospital (a 2-D int array). Got dtype "
                         f"{x.dtype}, shape {x.shape}.")
    if np.abs(x).max() > VALUE_BOUND:
        raise ValueError(f"inputs hold a value of magnitude {np.abs(x).max()}, above 2^40: lower the "
                         "fixed-point scale.")
    t = plan_threshold(len(x), colluders=colluders, dropouts=dropouts_tolerated)
    return simulate(x.astype(np.float64), threshold=t, dropouts=dropouts, colluders=colluders,
                    clip_range=VALUE_BOUND, bits=RING_BITS, frac_bits=0, seed=seed)
