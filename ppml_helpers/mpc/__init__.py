"""Building blocks of secure computation, from scratch: teaching code, not for production.

Introduced in notebook ``06_secure_aggregation`` and used by
:mod:`ppml_helpers.secagg`. Everything here is written to be read: it is
not constant-time, not audited, and its defaults favour repeatable runs
(seeded NumPy generators). Real use needs a CSPRNG (pass
``rng=random.SystemRandom()``, which reads the same OS source as
:mod:`secrets`) and vetted libraries (``cryptography``, MP-SPDZ, EMP).

- :mod:`~ppml_helpers.mpc.fixed_point`: floats to Z_(2^k) and back, with a
  guard against sums that would wrap around the ring.
- :mod:`~ppml_helpers.mpc.sharing`: additive secret sharing over Z_m.
- :mod:`~ppml_helpers.mpc.shamir`: Shamir t-out-of-n sharing over GF(2^127 − 1).
- :mod:`~ppml_helpers.mpc.circuit`, :mod:`~ppml_helpers.mpc.garbled`,
  :mod:`~ppml_helpers.mpc.yao`: boolean circuits, garbled gates with
  point-and-permute and free XOR, and Yao's millionaires' comparison with
  oblivious transfer simulated.
"""

from .circuit import Circuit, Gate, comparator_circuit, int_to_bits
from .fixed_point import MAX_BITS, FixedPoint
from .garbled import (
    LABEL_BYTES,
    DecodingError,
    GarbledAnd,
    GarbledCircuit,
    GarblerSecrets,
    WireLabels,
    colour,
    decode_outputs,
    evaluate_garbled,
    evaluate_gate,
    garble,
    garble_and,
)
from .shamir import (
    PRIME,
    ShamirBytesShare,
    ShamirShare,
    lagrange_interpolate,
    shamir_reconstruct,
    shamir_reconstruct_bytes,
    shamir_share,
    shamir_share_bytes,
)
from .sharing import additive_reconstruct, additive_share
from .yao import EvaluatorView, GarblerView, MillionairesResult, millionaires, simulated_ot

__all__ = [
    "LABEL_BYTES",
    "MAX_BITS",
    "PRIME",
    "Circuit",
    "DecodingError",
    "EvaluatorView",
    "FixedPoint",
    "GarbledAnd",
    "GarbledCircuit",
    "GarblerSecrets",
    "GarblerView",
    "Gate",
    "MillionairesResult",
    "ShamirBytesShare",
    "ShamirShare",
    "WireLabels",
    "additive_reconstruct",
    "additive_share",
    "colour",
    "comparator_circuit",
    "decode_outputs",
    "evaluate_garbled",
    "evaluate_gate",
    "garble",
    "garble_and",
    "int_to_bits",
    "lagrange_interpolate",
    "millionaires",
    "shamir_reconstruct",
    "shamir_reconstruct_bytes",
    "shamir_share",
    "shamir_share_bytes",
    "simulated_ot",
]
