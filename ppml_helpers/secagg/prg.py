"""A pseudorandom generator expanding a 32-byte seed into a mask over Z_(2^k).

Teaching code, introduced in ``06_secure_aggregation``. Secure aggregation
hides each client's vector under masks that must be long (one ring element
per model parameter), look uniformly random to the server, and be
*recomputable* by whoever holds the seed: both ends of a pair, or the server
once it has reconstructed a seed from Shamir shares. A PRG does exactly that:

    PRG(seed) = AES-256-CTR keystream under key = seed, counter from 0,
                read as little-endian uint64 words w_j,
    mask_j    = w_j mod 2^k.

If AES is a pseudorandom permutation, q keystream blocks can be told apart
from uniform bytes with advantage at most about q^2 / 2^129 (a permutation
never repeats a block), negligible for any model size; and 2^k divides
2^64, so ``w_j mod 2^k`` is uniform on Z_(2^k) with no modulo bias. Everything is vectorised: one call into
OpenSSL produces the whole keystream and NumPy reads it in place, so a
100,000-parameter mask takes well under a millisecond.

Masks are added with wrap-around ``uint64`` arithmetic and reduced mod 2^k
once at the end (:func:`add_mask`): since 2^k divides 2^64,
(Σ ± w) mod 2^64 mod 2^k = Σ ± (w mod 2^k) mod 2^k.

Each seed must key one stream only. Pairwise seeds come out of HKDF with a
purpose label (:mod:`~ppml_helpers.secagg.keys`), self-mask seeds b_u are
fresh random bytes, and both are fresh in every aggregation.

References: Bonawitz et al. (2017), "Practical Secure Aggregation for
Privacy-Preserving Machine Learning", CCS, section 4 (PRG); NIST SP 800-38A
(CTR mode).
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["SEED_BYTES", "add_mask", "expand", "keystream_words"]

SEED_BYTES = 32
"""Seed length: an AES-256 key."""

_ZERO_COUNTER = bytes(16)
_WORD = np.dtype("<u8")


def _check_seed(seed) -> bytes:
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_BYTES:
        got = f"{len(seed)} bytes" if isinstance(seed, (bytes, bytearray)) else type(seed).__name__
        raise ValueError(f"seed must be {SEED_BYTES} bytes (an AES-256 key). Got {got}.")
    return bytes(seed)


def _check_length(length) -> int:
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer. Got length={length!r}.")
    return int(length)


def keystream_words(seed: bytes, length: int) -> np.ndarray:
    """The first ``length`` little-endian uint64 words of AES-256-CTR under ``seed`` (read-only).

    Raises:
        ValueError: ``seed`` is not 32 bytes, or ``length`` is not a positive integer.
    """
    seed, length = _check_seed(seed), _check_length(length)
    encryptor = Cipher(algorithms.AES(seed), modes.CTR(_ZERO_COUNTER)).encryptor()
    # Encrypting zeros yields the bare keystream; np.frombuffer reads it without a copy.
    return np.frombuffer(encryptor.update(bytes(8 * length)), dtype=_WORD)


def expand(seed: bytes, *, length: int, bits: int) -> np.ndarray:
    """PRG(seed): ``length`` pseudorandom elements of Z_(2^bits), as ``uint64``.

    Args:
        seed: 32 bytes.
        length: the number of ring elements (the model's parameter count).
        bits: k in [1, 64]; the ring is Z_(2^k).

    Returns:
        A ``uint64`` array of ``length`` entries in [0, 2^bits).

    Raises:
        ValueError: a bad ``seed``, ``length`` or ``bits``.

    >>> m = expand(bytes(32), length=4, bits=8)
    >>> m.dtype, m.shape, bool((m < 256).all())
    (dtype('uint64'), (4,), True)
    >>> bool((expand(bytes(32), length=4, bits=8) == m).all())  # deterministic in the seed
    True
    """
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 64:
        raise ValueError(f"bits must be an integer in [1, 64]. Got bits={bits!r}.")
    words = keystream_words(seed, length).astype(np.uint64)
    if bits < 64:
        words &= np.uint64(2**bits - 1)
    return words


def add_mask(acc: np.ndarray, seed: bytes, *, sign: int = 1) -> None:
    """``acc += sign · PRG(seed)`` in place, mod 2^64; reduce ``acc`` mod 2^k once at the end.

    Args:
        acc: a writable ``uint64`` vector (the running masked sum).
        seed: 32 bytes.
        sign: +1 to add the mask, −1 to subtract it.

    Raises:
        ValueError: a bad seed or sign, or ``acc`` not a 1-D ``uint64`` array.
    """
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1. Got sign={sign!r}.")
    if not isinstance(acc, np.ndarray) or acc.dtype != np.uint64 or acc.ndim != 1:
        raise ValueError("acc must be a 1-D uint64 NumPy array (a vector of ring elements).")
    words = keystream_words(seed, acc.shape[0])
    # uint64 array arithmetic wraps around mod 2^64, which is what the ring needs.
    (np.add if sign == 1 else np.subtract)(acc, words, out=acc)
