"""Input checks and randomness shared by the ``mpc`` modules.

Every check names the argument, the value and what is allowed. The random
source adapter lets the teaching code take either a seeded NumPy generator
(repeatable runs in a notebook or a test) or :class:`random.SystemRandom`
(the operating system's CSPRNG, the one :mod:`secrets` uses), which is what
any real deployment needs: a seeded PCG64 stream can be predicted by whoever
learns the seed, and then every share and wire label can be recomputed.
"""

from __future__ import annotations

import random

import numpy as np

__all__ = [
    "MAX_MODULUS",
    "as_ring_array",
    "check_int",
    "check_modulus",
    "check_rng",
    "random_below",
    "random_bytes",
    "random_ring",
    "ring_add",
    "ring_sub",
]

MAX_MODULUS = 2**63
"""Largest ring modulus: every element and the modulus itself fit in ``uint64``."""


def check_int(value, name: str, *, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in [low, high], else raise naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer. Got {value!r} ({type(value).__name__}).")
    out = int(value)
    if out < low or (high is not None and out > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {allowed}. Got {name}={out}.")
    return out


def check_rng(rng, name: str = "rng"):
    """Normalise a random source: a NumPy ``Generator``, a ``random.Random`` or an int seed.

    An int seed gives ``numpy.random.default_rng(seed)``: repeatable, for
    teaching only. ``random.SystemRandom()`` (or ``secrets.SystemRandom()``)
    reads the operating system's CSPRNG and is what real use needs.
    """
    if isinstance(rng, (np.random.Generator, random.Random)):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be a numpy.random.Generator, a random.Random instance "
        f"(random.SystemRandom() for real use) or a non-negative int seed. Got {rng!r}."
    )


def random_bytes(rng, n: int) -> bytes:
    """``n`` uniformly random bytes from a source normalised by :func:`check_rng`."""
    if isinstance(rng, np.random.Generator):
        return rng.bytes(n)
    return rng.randbytes(n)


def random_below(rng, m: int) -> int:
    """A uniform Python int in [0, m), any size, by rejection sampling (no modulo bias)."""
    if isinstance(rng, random.Random):
        return rng.randrange(m)
    nbits = (m - 1).bit_length()
    nbytes = (nbits + 7) // 8
    while True:
        value = int.from_bytes(rng.bytes(nbytes), "big") >> (8 * nbytes - nbits)
        if value < m:
            return value


def random_ring(rng, shape, modulus: int) -> np.ndarray:
    """A ``uint64`` array of the given shape, uniform in [0, modulus) (modulus <= 2**63)."""
    if isinstance(rng, np.random.Generator):
        return rng.integers(0, modulus, size=shape, dtype=np.uint64)
    size = int(np.prod(shape, dtype=np.int64))
    nbits = max((modulus - 1).bit_length(), 1)
    shift = np.uint64(64 - nbits)
    out = np.empty(0, dtype=np.uint64)
    while out.size < size:
        words = np.frombuffer(rng.randbytes(8 * (size - out.size)), dtype=np.uint64) >> shift
        out = np.concatenate([out, words[words < modulus]])
    return out.reshape(shape)


def check_modulus(modulus, name: str = "modulus") -> int:
    """A ring modulus must be an integer in [2, 2**63] so ring elements fit in ``uint64``."""
    return check_int(modulus, name, low=2, high=MAX_MODULUS)


def as_ring_array(values, *, modulus: int, name: str) -> np.ndarray:
    """Check that ``values`` holds integers in [0, modulus) and return them as ``uint64``."""
    arr = np.asarray(values)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name} must hold integers in [0, {modulus}) (ring elements, e.g. uint64). "
            f"Got dtype {arr.dtype}."
        )
    if np.issubdtype(arr.dtype, np.signedinteger) and arr.size and arr.min() < 0:
        raise ValueError(
            f"{name} must hold integers in [0, {modulus}). Got {name} with minimum {arr.min()}."
        )
    out = arr.astype(np.uint64)
    if out.size and out.max() >= modulus:
        raise ValueError(
            f"{name} must hold integers in [0, {modulus}). Got {name} with maximum {out.max()}."
        )
    return out


def ring_add(a: np.ndarray, b: np.ndarray, modulus: int) -> np.ndarray:
    """(a + b) mod m for uint64 arrays already in [0, m); never overflows since m <= 2**63."""
    return (a + b) % np.uint64(modulus)


def ring_sub(a: np.ndarray, b: np.ndarray, modulus: int) -> np.ndarray:
    """(a − b) mod m for uint64 arrays already in [0, m), computed as a + (m − b)."""
    return (a + (np.uint64(modulus) - b)) % np.uint64(modulus)
