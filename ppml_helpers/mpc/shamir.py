"""Shamir's t-out-of-n secret sharing over the prime field GF(p), p = 2^127 − 1.

Teaching code, introduced in ``06_secure_aggregation``. To share a secret s,
draw a random polynomial of degree t − 1 with constant term s,

    f(z) = s + a_1 z + … + a_(t−1) z^(t−1)   (mod p),  a_j uniform in [0, p),

and give party i the point (i, f(i)) for i = 1, …, n. Any t points fix the
polynomial, and Lagrange interpolation at z = 0 gives back s:

    s = Σ_i y_i λ_i,   λ_i = Π_(j ≠ i) x_j / (x_j − x_i)   (mod p).

Any t − 1 points reveal nothing: for every candidate secret s', exactly one
polynomial of degree t − 1 passes through (0, s') and those t − 1 points,
and it is as likely as any other. Each share records t, so reconstruction
from too few shares is an error instead of a silently wrong number.

The prime p = 2^127 − 1 (a Mersenne prime) holds 15-byte chunks;
:func:`shamir_share_bytes` shares longer byte strings (a 32-byte key or PRG
seed, as secure aggregation needs) chunk by chunk with the same polynomials'
x coordinates. Shamir sharing alone does not detect a party that hands in a
wrong share (extra shares are ignored, not checked); verifiable secret
sharing (Feldman 1987) adds that.

Reference: Shamir (1979), "How to Share a Secret", CACM 22(11).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ._validate import check_int, check_rng, random_below, random_bytes

__all__ = [
    "PRIME",
    "ShamirBytesShare",
    "ShamirShare",
    "lagrange_interpolate",
    "shamir_reconstruct",
    "shamir_reconstruct_bytes",
    "shamir_share",
    "shamir_share_bytes",
]

PRIME = 2**127 - 1
"""The field's prime p = 2^127 − 1; secrets are integers in [0, p)."""

CHUNK_BYTES = 15
"""Bytes per field element in :func:`shamir_share_bytes` (2^120 < p)."""


class ShamirShare(NamedTuple):
    """One party's share: the point (x, y = f(x)) and the threshold t it belongs to."""

    x: int
    y: int
    t: int


class ShamirBytesShare(NamedTuple):
    """One party's share of a byte string: one y per 15-byte chunk, all at the same x."""

    x: int
    ys: tuple[int, ...]
    t: int
    length: int


def _check_n_t(n, t) -> tuple[int, int]:
    n = check_int(n, "n", low=1, high=PRIME - 1)
    t = check_int(t, "t", low=1)
    if t > n:
        raise ValueError(f"t must be at most n (t shares out of n). Got t={t} > n={n}.")
    return n, t


def _evaluate(coefficients: list[int], x: int) -> int:
    # Horner's rule with one reduction at the end: x <= n is small, so the
    # intermediate integers grow by only log2(n) bits per coefficient.
    y = 0
    for a in reversed(coefficients):
        y = y * x + a
    return y % PRIME


def shamir_share(secret: int, *, n: int, t: int, rng) -> list[ShamirShare]:
    """Split ``secret`` into ``n`` shares, any ``t`` of which reconstruct it.

    Args:
        secret: an integer in [0, p), p = :data:`PRIME` = 2^127 − 1.
        n: the number of shares (parties), at least 1.
        t: the threshold, 1 <= t <= n. t = 1 gives every party the secret itself.
        rng: a ``numpy.random.Generator`` or an int seed (repeatable, for
            teaching), or ``random.SystemRandom()`` (the OS CSPRNG, which is
            what real use needs: whoever predicts the coefficients can
            recover the secret from a single share).

    Returns:
        ``[ShamirShare(x=i, y=f(i), t=t) for i in 1..n]``.

    Raises:
        ValueError: ``secret`` outside [0, p), n < 1, t < 1 or t > n.
        TypeError: a non-integer argument or an unusable ``rng``.

    >>> shares = shamir_share(42, n=5, t=3, rng=0)
    >>> shamir_reconstruct(shares[2:])
    42
    """
    secret = check_int(secret, "secret", low=0, high=PRIME - 1)
    n, t = _check_n_t(n, t)
    return [ShamirShare(x, ys[0], t) for x, ys in _share_ints([secret], n=n, t=t, rng=rng)]


def _share_ints(values: Sequence[int], *, n: int, t: int, rng) -> list[tuple[int, tuple[int, ...]]]:
    """One random polynomial per value; returns (x, (f_1(x), f_2(x), ...)) for x = 1..n."""
    coefficients = _random_field_elements(check_rng(rng), (t - 1) * len(values))
    polys = [[v, *coefficients[i * (t - 1) : (i + 1) * (t - 1)]] for i, v in enumerate(values)]
    return [(x, tuple(_evaluate(p, x) for p in polys)) for x in range(1, n + 1)]


def _random_field_elements(rng, count: int) -> list[int]:
    """``count`` uniform elements of GF(p): 127 random bits each, redrawing the one value p."""
    raw = random_bytes(rng, 16 * count)
    out = [int.from_bytes(raw[16 * i : 16 * i + 16], "big") & PRIME for i in range(count)]
    return [v if v < PRIME else random_below(rng, PRIME) for v in out]


def lagrange_interpolate(points, *, at: int = 0) -> int:
    """Value at ``at`` of the unique polynomial of degree < len(points) through ``points`` (mod p).

    This is Shamir reconstruction without the threshold check, exposed for
    teaching: with t − 1 shares and any guessed secret s', the points
    {(0, s')} together with the shares define a valid sharing polynomial, so the shares
    rule nothing out.

    Args:
        points: (x, y) pairs with distinct x in [0, p) and y in [0, p).
        at: where to evaluate, an integer in [0, p); 0 gives the secret.

    Raises:
        ValueError: no points, duplicate x, or coordinates outside [0, p).
    """
    pts = []
    for i, point in enumerate(points):
        if not isinstance(point, Sequence) or len(point) < 2:
            raise TypeError(f"points[{i}] must be an (x, y) pair. Got {point!r}.")
        x = check_int(point[0], f"points[{i}].x", low=0, high=PRIME - 1)
        pts.append((x, check_int(point[1], f"points[{i}].y", low=0, high=PRIME - 1)))
    at = check_int(at, "at", low=0, high=PRIME - 1)
    if not pts:
        raise ValueError("points is empty: interpolation needs at least one point.")
    weights = _lagrange_weights([x for x, _ in pts], at)
    return sum(w * y for w, (_, y) in zip(weights, pts, strict=True)) % PRIME


def _lagrange_weights(xs: list[int], at: int) -> list[int]:
    """λ_i(at) = Π_(j ≠ i) (at − x_j) / (x_i − x_j) mod p, one modular inverse per point."""
    seen: dict[int, int] = {}
    for i, x in enumerate(xs):
        if x in seen:
            raise ValueError(
                f"shares {seen[x]} and {i} have the same x coordinate {x}: each share must come "
                "from a different party (distinct x)."
            )
        seen[x] = i
    weights = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                num = num * (at - xj) % PRIME
                den = den * (xi - xj) % PRIME
        weights.append(num * pow(den, -1, PRIME) % PRIME)
    return weights


def _check_shares(shares, kind: type, name: str = "shares") -> list:
    out = []
    for i, share in enumerate(shares):
        if not isinstance(share, tuple) or len(share) != len(kind._fields):
            raise TypeError(
                f"{name}[{i}] must be a {kind.__name__} {kind._fields} as the share function "
                f"returns. Got {share!r}."
            )
        out.append(kind(*share))
    if not out:
        raise ValueError(f"{name} is empty: give at least t shares.")
    thresholds = {s.t for s in out}
    if len(thresholds) > 1:
        raise ValueError(f"{name} come from different sharings: thresholds {sorted(thresholds)}.")
    t = check_int(out[0].t, f"{name}[0].t", low=1)
    if len(out) < t:
        raise ValueError(
            f"{name} has {len(out)} share(s) but the threshold is t={t}: fewer than t shares "
            f"reveal nothing about the secret. Collect {t - len(out)} more."
        )
    for i, s in enumerate(out):
        check_int(s.x, f"{name}[{i}].x", low=1, high=PRIME - 1)
    return out


def shamir_reconstruct(shares) -> int:
    """Recover the secret from at least t shares by Lagrange interpolation at 0.

    The first t shares are used; any further ones are ignored (not checked).

    Args:
        shares: :class:`ShamirShare` tuples (x, y, t) from one sharing.

    Returns:
        The secret, an int in [0, p).

    Raises:
        ValueError: fewer than t shares (the message gives both numbers),
            duplicate x coordinates, mixed thresholds, or values outside [0, p).
        TypeError: an entry that is not an (x, y, t) share.
    """
    chosen = _check_shares(shares, ShamirShare)
    chosen = chosen[: chosen[0].t]
    for i, s in enumerate(chosen):
        check_int(s.y, f"shares[{i}].y", low=0, high=PRIME - 1)
    weights = _lagrange_weights([s.x for s in chosen], 0)
    return sum(w * s.y for w, s in zip(weights, chosen, strict=True)) % PRIME


def shamir_share_bytes(data: bytes, *, n: int, t: int, rng) -> list[ShamirBytesShare]:
    """Share a byte string (e.g. a 32-byte key or seed) t-out-of-n, 15 bytes per field element.

    Each chunk gets its own random polynomial; all use x = 1..n, so one
    party's share is one x with one y per chunk. Arguments, ``rng`` advice
    and errors are those of :func:`shamir_share`.

    >>> key = bytes(range(32))
    >>> shamir_reconstruct_bytes(shamir_share_bytes(key, n=4, t=2, rng=0)[1:3]) == key
    True
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes. Got {type(data).__name__}.")
    if not data:
        raise ValueError("data is empty: there is nothing to share.")
    n, t = _check_n_t(n, t)
    chunks = [
        int.from_bytes(data[i : i + CHUNK_BYTES], "big") for i in range(0, len(data), CHUNK_BYTES)
    ]
    return [
        ShamirBytesShare(x, ys, t, len(data)) for x, ys in _share_ints(chunks, n=n, t=t, rng=rng)
    ]


def shamir_reconstruct_bytes(shares) -> bytes:
    """Recover a byte string from at least t :class:`ShamirBytesShare` (the first t are used).

    Raises:
        ValueError: as :func:`shamir_reconstruct`, or shares of different lengths.
    """
    chosen = _check_shares(shares, ShamirBytesShare)
    chosen = chosen[: chosen[0].t]
    lengths = {s.length for s in chosen}
    if len(lengths) > 1:
        raise ValueError(f"shares come from byte strings of different lengths {sorted(lengths)}.")
    length = check_int(chosen[0].length, "shares[0].length", low=1)
    sizes = [min(CHUNK_BYTES, length - i) for i in range(0, length, CHUNK_BYTES)]
    for i, s in enumerate(chosen):
        if len(s.ys) != len(sizes):
            raise ValueError(
                f"shares[{i}] has {len(s.ys)} chunks but length={length} needs {len(sizes)}."
            )
        for c, y in enumerate(s.ys):
            check_int(y, f"shares[{i}].ys[{c}]", low=0, high=PRIME - 1)
    weights = _lagrange_weights([s.x for s in chosen], 0)
    out = bytearray()
    for c, size in enumerate(sizes):
        value = sum(w * s.ys[c] for w, s in zip(weights, chosen, strict=True)) % PRIME
        if value >= 256**size:
            raise ValueError(
                f"chunk {c} reconstructs to a value that does not fit in {size} bytes: the shares "
                "are corrupted or come from different sharings."
            )
        out += value.to_bytes(size, "big")
    return bytes(out)
