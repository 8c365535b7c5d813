"""Self-checks for ``06_secure_aggregation``.

References: :class:`ppml_helpers.mpc.FixedPoint` (6.1), :mod:`ppml_helpers.mpc.sharing`
(6.2), :func:`ppml_helpers.mpc.lagrange_interpolate` (6.3),
:func:`ppml_helpers.secagg.threshold_range` (6.4), the pairwise masks of
:class:`ppml_helpers.secagg.Client` (6.5) and the message sizes of
:mod:`ppml_helpers.secagg.messages` (6.6).
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import stats

from ..mpc import PRIME, FixedPoint, lagrange_interpolate, shamir_share
from ..secagg import expand, threshold_range
from ..secagg.channel import NONCE_BYTES
from ..secagg.keys import KEY_BYTES
from ..secagg.messages import FIELD_BYTES, ID_BYTES
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "check_additive_share",
    "check_client_bytes_sent",
    "check_lagrange_at_zero",
    "check_max_clients",
    "check_pairwise_mask",
    "check_threshold_range",
]


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    return None


def _as_int_array(value):
    """The learner's integers as an int64-safe object array, or None if they are not integers."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if arr.dtype == object:
        try:
            arr = np.array([int(v) for v in arr.ravel()], dtype=object).reshape(arr.shape)
        except (TypeError, ValueError):
            return None
        return arr
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        return None
    return arr.astype(object)


# ---------------------------------------------------------------- 6.1

_MAX_CLIENT_CASES = [(16, 8, 1.0), (32, 16, 1.0), (32, 21, 1.0), (32, 16, 0.5), (20, 10, 3.0),
                     (24, 8, 0.3), (63, 30, 8.0), (12, 4, 100.0)]  # fmt: skip


@check
def check_max_clients(max_clients) -> CheckResult:
    """Check ``max_clients(bits, frac_bits, clip)``: the most clients whose values in [−clip, clip],
    encoded as round(v · 2^frac_bits) in Z_(2^bits), can be added without the signed sum
    wrapping around; on eight settings, one with a clip that is not a whole number of steps."""
    ex = "6.1"
    for bits, frac_bits, clip in _MAX_CLIENT_CASES:
        want = FixedPoint(clip_range=clip, num_clients=1, bits=bits, frac_bits=frac_bits).max_clients
        raw = call_learner(ex, max_clients, bits, frac_bits, clip)
        got = _as_int(raw)
        where = f"bits={bits}, frac_bits={frac_bits}, clip={clip}"
        if got is None:
            return failed(ex, f"for {where} you returned {raw!r}, not a whole number of clients.",
                          "Use integer division: a fraction of a client cannot take part.")
        if got == want:
            continue
        q = round(clip * 2**frac_bits)
        if got == 2**bits // q:
            return failed(ex, f"for {where}, {got} clients could push the sum into the negative half.",
                          "Decoding reads the top half of the ring as negative numbers: only half of "
                          "Z_(2^k) is available to a positive sum.")
        if got > want:
            return failed(ex, f"for {where}, {got} clients at the top of the range can wrap the sum.",
                          "Take the largest positive value the signed range holds exactly, and check "
                          "that n copies of the largest encoded value stay at or below it.")
        return failed(ex, f"for {where}, {got} is fewer clients than the ring can hold.",
                      "Encode the clip value itself (scale, then round) and divide the largest "
                      "positive ring value by it.")
    return passed(ex, "the largest safe number of clients for eight encodings.")


# ---------------------------------------------------------------- 6.2


def _top_bits_uniform(share: np.ndarray, modulus: int) -> float:
    """Chi-square p-value of a share's values in 16 equal bins of [0, modulus)."""
    bins = (share.astype(np.float64) * 16 / modulus).astype(np.int64)
    return float(stats.chisquare(np.bincount(bins, minlength=16)).pvalue)


@check
def check_additive_share(additive_share) -> CheckResult:
    """Check ``additive_share(x, n, modulus, rng)``: n shares in [0, modulus) that add up to
    x mod modulus, each uniformly random whatever x is, fresh for every call; with
    modulus 2^32 and a modulus that is not a power of two."""
    ex = "6.2"
    cases = [(np.random.default_rng(1).integers(0, 2**32, 20_000), 3, 2**32),
             (np.zeros(20_000, dtype=np.int64), 4, 2**32),
             (np.array([0, 1, 50, 96]), 5, 97)]
    first = None
    for c, (x, n, modulus) in enumerate(cases):
        raw = call_learner(ex, additive_share, x.copy(), n, modulus, np.random.default_rng(100 + c))
        shares = _as_int_array(raw)
        if shares is None:
            return failed(ex, "expected an array (or list) of integer shares.",
                          "Draw integers from the ring, not floats.")
        if shares.shape != (n, *x.shape):
            return failed(ex, f"expected {n} shares of shape {x.shape}, i.e. shape {(n, *x.shape)}; got "
                          f"{shares.shape}.", "Return one share per party, each as long as x.")
        if ((shares < 0) | (shares >= modulus)).any():
            return failed(ex, f"some shares lie outside [0, {modulus}).",
                          "Every share is an element of the ring: reduce it mod the modulus.")
        if not ((shares.sum(axis=0) - x.astype(object)) % modulus == 0).all():
            return failed(ex, f"with modulus {modulus} the shares do not add up to x.",
                          "Pick n − 1 shares, then choose the last so the total is x in the ring.")
        if modulus == 2**32:
            for i in (0, n - 1):
                if _top_bits_uniform(shares[i].astype(np.float64), modulus) < 1e-6:
                    return failed(ex, f"share {i} is far from uniform on the ring (chi-square test).",
                                  "Any n − 1 shares must look like uniform noise whatever x is: draw "
                                  "them uniformly from the whole ring.")
        if first is None:
            first = shares
    again = _as_int_array(call_learner(ex, additive_share, cases[0][0].copy(), cases[0][1], cases[0][2],
                                       np.random.default_rng(999)))
    if again is not None and again.shape == first.shape and (again == first).all():
        return failed(ex, "sharing the same x twice gave the same shares.",
                      "Draw the shares from the rng you are given.")
    return passed(ex, "shares in the ring, summing to x, each one uniform and fresh.")


# ---------------------------------------------------------------- 6.3


def _lagrange_reference(points, prime: int) -> int:
    total = 0
    for i, (xi, yi) in enumerate(points):
        num, den = 1, 1
        for j, (xj, _) in enumerate(points):
            if j != i:
                num = num * xj % prime
                den = den * (xj - xi) % prime
        total += yi * num * pow(den, -1, prime)
    return total % prime


@check
def check_lagrange_at_zero(lagrange_at_zero) -> CheckResult:
    """Check ``lagrange_at_zero(points, prime)``: the value at 0, mod ``prime``, of the polynomial
    of degree < len(points) through the (x, y) points; with p = 97 and p = 2^127 − 1 (Shamir
    shares of known secrets, in shuffled order)."""
    ex = "6.3"
    small = [[(1, 10), (2, 20), (3, 40)], [(5, 3), (2, 90), (7, 1), (11, 64)], [(4, 12)]]
    rng = np.random.default_rng(3)
    secrets = [123456789, PRIME - 2, 0]
    big = []
    for s, (n, t) in zip(secrets, [(5, 3), (7, 4), (3, 2)], strict=True):
        shares = shamir_share(s, n=n, t=t, rng=rng)
        order = rng.permutation(n)[:t]
        big.append(([(shares[i].x, shares[i].y) for i in order], s))
    cases = [(pts, 97, _lagrange_reference(pts, 97)) for pts in small]
    cases += [(pts, PRIME, lagrange_interpolate(pts, at=0)) for pts, _ in big]
    for pts, prime, want in cases:
        raw = call_learner(ex, lagrange_at_zero, list(pts), prime)
        got = _as_int(raw)
        if got is None:
            return failed(ex, f"for {len(pts)} points mod {prime} you returned {raw!r}, not an integer.",
                          "Work with Python integers throughout: floats lose the exactness the field needs.")
        if got == want:
            continue
        if got % prime == want:
            return failed(ex, f"your value for {len(pts)} points is right but not reduced mod {prime}.",
                          "Return the representative in [0, p).")
        return failed(ex, f"for {len(pts)} points mod {prime} the value at 0 is not {got}.",
                      "Each weight is a product of x_j / (x_j − x_i) over the other points, and "
                      "division in GF(p) means multiplying by a modular inverse (pow(a, -1, p)).")
    return passed(ex, "f(0) mod p on six point sets, Shamir shares included.")


# ---------------------------------------------------------------- 6.4


# ---------------------------------------------------------------- 6.4

_THRESHOLD_CASES = [(12, 2, 4), (5, 1, 1), (10, 3, 0), (10, 3, 3), (10, 3, 5), (6, 2, 2), (7, 0, 0), (100, 10, 33),
                    (100, 33, 33)]  # fmt: skip


def _as_int_list(value):
    try:
        out = [_as_int(v) for v in value]
    except TypeError:
        return None
    return None if any(v is None for v in out) else out


@check
def check_threshold_range(threshold_range_fn) -> CheckResult:
    """Check ``threshold_range(n, dropouts, colluders)``: every threshold t that survives
    ``dropouts`` clients dropping and keeps inputs hidden from a server that may lie about
    dropouts together with ``colluders`` clients, in increasing order (empty when none does);
    on nine settings, two of them with no safe t."""
    ex = "6.4"
    for n, d, c in _THRESHOLD_CASES:
        want = list(threshold_range(n, dropouts=d, colluders=c))
        raw = call_learner(ex, threshold_range_fn, n, d, c)
        got = _as_int_list(raw)
        what = f"n={n}, dropouts={d}, colluders={c}"
        if got is None:
            return failed(ex, f"for {what} you returned {raw!r}, not a sequence of whole thresholds.",
                          "Return a range (or a list) of the allowed t, in increasing order.")
        if got == want:
            continue
        top = n - d  # the highest t the survivors of d dropouts can still reach
        if got == list(range(n // 2 + 1, top + 1)):
            return failed(ex, f"for {what} your lowest threshold ignores the colluders.",
                          "A colluding client hands the server its shares of both secrets: it counts "
                          "in both of the lying server's groups.")
        if got == list(range(c + 1, top + 1)):
            return failed(ex, f"for {what} you only keep the colluders below t.",
                          "That stops colluders on their own. A server that tells two groups of honest "
                          "clients different stories needs both groups, each topped up by the colluders, "
                          "to reach t.")
        low = (n + c) // 2 + 1
        if (n + c) % 2 == 0 and got == list(range(low - 1, top + 1)):
            return failed(ex, f"for {what} your lowest threshold is exactly (n + n_C)/2.",
                          "At that t two groups can still each reach it: the inequality is strict.")
        if got in (list(range(low, top)), list(range(low, top + 2))):
            return failed(ex, f"for {what} your highest threshold is off by one.",
                          "After the dropouts, the survivors must still hold t shares of every secret.")
        return failed(ex, f"for {what}, {got} is not the set of safe thresholds.",
                      "Two conditions: t large enough that two disjoint groups of honest clients, each "
                      "joined by the colluders, cannot both reach it; t small enough that the clients "
                      "left after the dropouts still can.")
    return passed(ex, "safe thresholds on nine settings, including two where none exists.")


def _pairwise_reference(u: int, v: int, seed: bytes, length: int, bits: int) -> np.ndarray:
    mask = expand(seed, length=length, bits=bits).astype(object)
    return mask % 2**bits if u < v else (-mask) % 2**bits


@check
def check_pairwise_mask(pairwise_mask) -> CheckResult:
    """Check ``pairwise_mask(u, v, seed, length, bits)``: the mask client u adds for its pair with v,
    +PRG(seed) when u < v and −PRG(seed) when u > v, in Z_(2^bits); the two masks of a pair
    must cancel. Three seeds, rings of 2^32, 2^20 and 2^63."""
    ex = "6.5"
    rng = np.random.default_rng(4)
    for u, v, bits in [(0, 3, 32), (7, 2, 20), (1, 4, 63)]:
        seed, length = rng.bytes(32), 257
        got_uv = _as_int_array(call_learner(ex, pairwise_mask, u, v, seed, length, bits))
        got_vu = _as_int_array(call_learner(ex, pairwise_mask, v, u, seed, length, bits))
        if got_uv is None or got_vu is None or got_uv.shape != (length,) or got_vu.shape != (length,):
            return failed(ex, f"expected {length} integers (one per parameter).",
                          "Expand the seed into `length` ring elements with secagg.expand.")
        modulus = 2**bits
        if ((got_uv < 0) | (got_uv >= modulus) | (got_vu < 0) | (got_vu >= modulus)).any():
            return failed(ex, f"some mask values lie outside Z_(2^{bits}).",
                          "Negating a uint64 wraps modulo 2^64, not 2^k: reduce into the ring afterwards.")
        if not ((got_uv + got_vu) % modulus == 0).all():
            return failed(ex, f"client {u}'s and client {v}'s masks for their pair do not cancel.",
                          "Both clients expand the same seed; one adds the result, the other subtracts it.")
        if not (got_uv == _pairwise_reference(u, v, seed, length, bits)).all():
            return failed(ex, f"the masks cancel, but client {u} should {'add' if u < v else 'subtract'} "
                          "PRG(seed).", "Follow the protocol's convention: the smaller index adds.")
    return passed(ex, "pairwise masks with opposite signs that cancel in three rings.")


# ---------------------------------------------------------------- 6.5

_PLAINTEXT = 2 * ID_BYTES + 2 * (4 + 3 * FIELD_BYTES)  # sender, recipient, two shares (x, 3 field elements)
_SHARE_MESSAGE = 2 * ID_BYTES + NONCE_BYTES + _PLAINTEXT + 16  # ids, nonce, AES-GCM ciphertext and tag
_REVEALED_SHARE = 2 * ID_BYTES + 3 * FIELD_BYTES  # owner, x, three field elements


def _bytes_reference(n: int, d: int, bits: int, neighbours: int | None) -> int:
    holders = n if neighbours is None else neighbours + 1
    return ((ID_BYTES + 2 * KEY_BYTES) + (ID_BYTES + (holders - 1) * _SHARE_MESSAGE)
            + (ID_BYTES + d * -(-bits // 8)) + (ID_BYTES + holders * _REVEALED_SHARE))


_BYTES_CASES = [(3, 10, 32, None), (100, 100_000, 32, None), (100, 100_000, 32, 14), (50, 1_000, 20, None),
                (1000, 10, 16, 20)]  # fmt: skip


@check
def check_client_bytes_sent(client_bytes_sent) -> CheckResult:
    """Check ``client_bytes_sent(n, d, bits, neighbours=None)``: what one client sends over the four
    rounds when nobody drops out, with the course's message sizes; Bonawitz (neighbours None)
    and SecAgg+ (k neighbours), including a ring whose elements are not whole bytes."""
    ex = "6.6"
    for n, d, bits, k in _BYTES_CASES:
        raw = call_learner(ex, client_bytes_sent, n, d, bits, neighbours=k)
        got = _as_int(raw)
        want = _bytes_reference(n, d, bits, k)
        what = f"n={n}, d={d}, bits={bits}, neighbours={k}"
        if got is None:
            return failed(ex, f"for {what} you returned {raw!r}, not a whole number of bytes.",
                          "Round each ring element up to whole bytes before multiplying.")
        if got == want:
            continue
        if got == ID_BYTES + d * -(-bits // 8):
            return failed(ex, f"for {what} you counted the masked input only.",
                          "Round 2 is the bulk for large d, but rounds 0, 1 and 3 send keys and shares too.")
        if k is not None and got == _bytes_reference(n, d, bits, None):
            return failed(ex, f"for {what} you counted share holders as in Bonawitz.",
                          "In SecAgg+ a client shares its secrets with its neighbourhood only.")
        if bits % 8 and abs(got - want) == d * (-(-bits // 8) - bits / 8):
            return failed(ex, f"for {what} the masked vector's size is off.",
                          "A ring element travels as whole bytes.")
        return failed(ex, f"for {what}, {got:,} bytes is not what the client sends.",
                      "Go round by round: keys in round 0; one encrypted message per other share holder "
                      "in round 1 (a client keeps its own share); the packed vector in round 2; one "
                      "revealed share per survivor in its neighbourhood, itself included, in round 3.")
    return passed(ex, "bytes sent per client for Bonawitz and SecAgg+ on five settings.")
