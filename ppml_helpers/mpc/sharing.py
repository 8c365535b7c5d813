"""Additive secret sharing of integer vectors over Z_m (m = 2^k for fixed-point encodings).

Teaching code, introduced in ``06_secure_aggregation``. To share x among n
parties, draw n − 1 shares uniformly from Z_m and set the last one to
x − (s_1 + … + s_(n−1)) mod m. All n shares add up to x; any n − 1 of them
are n − 1 independent uniform vectors whatever x is, so they reveal nothing
about it (perfect, information-theoretic secrecy). There is no threshold:
losing one share loses the secret, which is why secure aggregation with
dropouts needs Shamir sharing (:mod:`ppml_helpers.mpc.shamir`) on top.

Shares are additively homomorphic: party i adding its shares of x and y
holds a share of x + y, which is how the sum of private updates is computed
without anyone seeing an individual update.
"""

from __future__ import annotations

import numpy as np

from ._validate import (
    as_ring_array,
    check_int,
    check_modulus,
    check_rng,
    random_ring,
    ring_add,
    ring_sub,
)

__all__ = ["additive_reconstruct", "additive_share"]


def additive_share(x, *, n: int, modulus: int, rng) -> np.ndarray:
    """Split ring elements ``x`` into ``n`` additive shares that sum to ``x`` mod ``modulus``.

    Args:
        x: integers in [0, modulus), any shape (e.g. a
            :meth:`~ppml_helpers.mpc.FixedPoint.encode` output).
        n: the number of shares, at least 2.
        modulus: m, an integer in [2, 2^63]; a power of two for fixed-point
            encodings, but any m works.
        rng: a ``numpy.random.Generator`` or an int seed (repeatable, for
            teaching), or ``random.SystemRandom()`` (the OS CSPRNG, for real use).

    Returns:
        A ``uint64`` array of shape ``(n, *x.shape)``; ``shares[i]`` is party i's.

    Raises:
        ValueError: ``n`` < 2, a bad ``modulus``, or ``x`` outside [0, modulus).
        TypeError: non-integer ``x``, ``n`` or ``modulus``, or an unusable ``rng``.

    >>> shares = additive_share([5, 0, 15], n=3, modulus=16, rng=0)
    >>> shares.shape
    (3, 3)
    >>> additive_reconstruct(shares, modulus=16).tolist()
    [5, 0, 15]
    """
    m = check_modulus(modulus)
    n = check_int(n, "n", low=2)
    secret = as_ring_array(x, modulus=m, name="x")
    source = check_rng(rng)
    shares = np.empty((n, *secret.shape), dtype=np.uint64)
    shares[: n - 1] = random_ring(source, (n - 1, *secret.shape), m)
    shares[n - 1] = ring_sub(secret, _ring_sum(shares[: n - 1], m), m)
    return shares


def additive_reconstruct(shares, *, modulus: int) -> np.ndarray:
    """Add all shares mod ``modulus`` to recover the secret (every share is needed).

    Args:
        shares: a sequence of equally shaped integer arrays in [0, modulus), or
            the stacked array :func:`additive_share` returns.
        modulus: the m the shares were made with.

    Returns:
        The secret, a ``uint64`` array.

    Raises:
        ValueError: no shares, mismatched shapes, or entries outside [0, modulus).
    """
    m = check_modulus(modulus)
    arrays = [as_ring_array(s, modulus=m, name=f"shares[{i}]") for i, s in enumerate(shares)]
    if not arrays:
        raise ValueError("shares is empty: additive sharing needs every one of the n shares.")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"shares must all have the same shape. Got shapes {sorted(shapes)}.")
    return _ring_sum(np.stack(arrays), m)


def _ring_sum(stacked: np.ndarray, modulus: int) -> np.ndarray:
    """Sum along the first axis mod m without overflowing ``uint64`` (one addition at a time)."""
    total = np.zeros(stacked.shape[1:], dtype=np.uint64)
    for row in stacked:
        total = ring_add(total, row, modulus)
    return total
