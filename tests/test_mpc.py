"""ppml_helpers.mpc: fixed-point encoding, additive and Shamir sharing, garbled circuits.

Oracles: exact integer arithmetic (Python ints for the ring and the field),
the plain truth tables and x > y, and chi-square tests with fixed seeds at a
stated level (p > 0.001) for the secrecy of shares and of colour bits.
"""

from __future__ import annotations

import doctest
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ppml_helpers import mpc
from ppml_helpers.mpc import circuit, fixed_point, garbled, shamir, sharing, yao

FAST = settings(max_examples=40, deadline=None)
P = mpc.PRIME


@pytest.mark.parametrize(
    "module", [circuit, fixed_point, garbled, shamir, sharing, yao], ids=lambda m: m.__name__
)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


# --- fixed point -------------------------------------------------------------------------


@st.composite
def codes_and_vectors(draw, max_clients=1):
    frac_bits = draw(st.integers(0, 24))
    clip = draw(st.floats(1.0, 1000.0))
    num_clients = draw(st.integers(1, max_clients))
    fp = mpc.FixedPoint(clip_range=clip, num_clients=num_clients, bits=63, frac_bits=frac_bits)
    length = draw(st.integers(1, 6))
    values = st.floats(-clip, clip, allow_nan=False)
    vectors = [
        np.array(draw(st.lists(values, min_size=length, max_size=length)))
        for _ in range(num_clients)
    ]
    return fp, vectors


@FAST
@given(codes_and_vectors())
def test_encode_decode_round_trip_within_half_a_step(case):
    fp, (x,) = case
    decoded = fp.decode(fp.encode(x))
    assert np.all(np.abs(decoded - x) <= 0.5 / fp.scale)


@FAST
@given(codes_and_vectors(max_clients=12))
def test_sum_of_encodings_decodes_to_the_sum(case):
    fp, vectors = case
    n = len(vectors)
    total = fp.sum_encoded([fp.encode(v) for v in vectors])
    decoded = fp.decode_sum(total, num_summands=n)
    exact = [
        sum(int(np.rint(v[i] * fp.scale)) for v in vectors) / fp.scale
        for i in range(len(vectors[0]))
    ]
    assert decoded.tolist() == exact  # the rounded values' sum, exactly
    float_slack = 1e-12 * n * fp.clip_range[1]
    assert np.all(np.abs(decoded - np.sum(vectors, axis=0)) <= n / (2 * fp.scale) + float_slack)


@pytest.mark.parametrize(
    ("clip_range", "bits", "frac_bits"),
    [(1.0, 16, 8), (1.0, 2, 0), ((0.0, 1.0), 12, 4), ((-3.0, 0.5), 20, 10), (0.3, 63, 40)],
)
def test_overflow_refused_exactly_at_the_boundary(clip_range, bits, frac_bits):
    limit = mpc.FixedPoint(
        clip_range=clip_range, num_clients=1, bits=bits, frac_bits=frac_bits
    ).max_clients
    fp = mpc.FixedPoint(clip_range=clip_range, num_clients=limit, bits=bits, frac_bits=frac_bits)
    edges = fp.clip_range

    def ring_total(edge, count):  # count copies of one encoding, added with Python ints
        return np.array([count * int(fp.encode(np.array([edge]))[0]) % fp.modulus], dtype=np.uint64)

    exact = {c: [c * np.rint(e * fp.scale) / fp.scale for e in edges] for c in (limit, limit + 1)}
    # At the limit the most extreme sums still decode exactly.
    assert [fp.decode_sum(ring_total(e, limit))[0] for e in edges] == exact[limit]
    # One more client is refused...
    with pytest.raises(ValueError, match=rf"num_clients={limit + 1}.*bits={bits}.*clip_range"):
        mpc.FixedPoint(clip_range=clip_range, num_clients=limit + 1, bits=bits, frac_bits=frac_bits)
    # ...and the guard is tight: one of the extreme sums of limit + 1 encodings really wraps.
    assert [fp.decode(ring_total(e, limit + 1))[0] for e in edges] != exact[limit + 1]


def test_sum_encoded_at_the_limit():
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=127, bits=16, frac_bits=8)
    total = fp.sum_encoded([fp.encode(np.array([1.0, -1.0]))] * 127)
    assert fp.decode_sum(total).tolist() == [127.0, -127.0]


def test_known_max_clients_and_encoding():
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=1, bits=16, frac_bits=8)
    assert fp.max_clients == 127  # (2^15 − 1) // 256
    assert fp.modulus == 2**16
    assert fp.scale == 256.0
    assert fp.encode(np.array([-1.0, 1.0, 0.5, 0.0])).tolist() == [2**16 - 256, 256, 128, 0]


def test_overflow_message_gives_the_bits_needed():
    with pytest.raises(ValueError, match=r"Use bits >= 17"):
        mpc.FixedPoint(clip_range=1.0, num_clients=128, bits=16, frac_bits=8)
    with pytest.raises(ValueError, match=r"does not fit in bits=63 even for one client"):
        mpc.FixedPoint(clip_range=1.0, num_clients=1, bits=63, frac_bits=70)


def test_encode_refuses_out_of_range_values_naming_them():
    fp = mpc.FixedPoint(clip_range=(-1.0, 2.0), num_clients=1)
    with pytest.raises(
        ValueError, match=r"x\[2\] = 2\.5 is outside clip_range \[-1\.0, 2\.0\].*clip=True"
    ):
        fp.encode(np.array([0.0, 1.0, 2.5, -7.0]))
    with pytest.raises(ValueError, match=r"x\[1,0\] = -1\.5"):
        fp.encode(np.array([[0.0, 0.0], [-1.5, 0.0]]))


def test_encode_clamps_only_when_asked():
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=1)
    assert fp.decode(fp.encode(np.array([3.0, -np.inf, 0.25]), clip=True)).tolist() == [
        1.0,
        -1.0,
        0.25,
    ]


def test_nan_is_refused_even_with_clip():
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=1)
    with pytest.raises(ValueError, match=r"x\[1\] is NaN"):
        fp.encode(np.array([0.0, np.nan]), clip=True)


def test_decode_sum_refuses_a_total_that_still_carries_a_mask():
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=3, bits=32, frac_bits=8)
    total = fp.sum_encoded([fp.encode(np.full(50, 0.5))] * 3)
    mask = np.random.default_rng(0).integers(0, fp.modulus, size=50, dtype=np.uint64)
    with pytest.raises(ValueError, match=r"not a sum of 3 encodings"):
        fp.decode_sum(fp.sum_encoded([total, mask]))


def test_decode_sum_with_fewer_summands_than_clients():
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=10, bits=16, frac_bits=8)
    total = fp.sum_encoded([fp.encode(np.array([-1.0]))] * 4)
    assert fp.decode_sum(total, num_summands=4).tolist() == [-4.0]
    with pytest.raises(ValueError, match=r"not a sum of 3 encodings"):
        fp.decode_sum(total, num_summands=3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"clip_range": 0.0}, ValueError, "clip_range must be a positive number"),
        ({"clip_range": -1.0}, ValueError, "clip_range must be"),
        ({"clip_range": float("nan")}, ValueError, "clip_range must be"),
        ({"clip_range": float("inf")}, ValueError, "clip_range must be"),
        ({"clip_range": (1.0, -1.0)}, ValueError, r"clip_range must be.*low < high"),
        ({"clip_range": (0.0, 1.0, 2.0)}, ValueError, "clip_range must be"),
        ({"clip_range": "1"}, TypeError, "clip_range must be"),
        ({"clip_range": 1e-9}, ValueError, "narrower than one step"),
        ({"bits": 1}, ValueError, r"bits must be an integer in \[2, 63\]. Got bits=1"),
        ({"bits": 64}, ValueError, r"bits must be an integer in \[2, 63\]. Got bits=64"),
        ({"bits": 32.0}, TypeError, "bits must be an integer"),
        ({"bits": True}, TypeError, "bits must be an integer"),
        ({"frac_bits": -1}, ValueError, "frac_bits must be an integer"),
        ({"num_clients": 0}, ValueError, r"num_clients must be an integer >= 1. Got num_clients=0"),
    ],
)
def test_fixed_point_bad_arguments(kwargs, error, match):
    args = {"clip_range": 1.0, "num_clients": 2, **kwargs}
    with pytest.raises(error, match=match):
        mpc.FixedPoint(**args)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda fp: fp.encode(np.array(["a"])), TypeError, "x must be an array of real numbers"),
        (lambda fp: fp.encode(np.array([True])), TypeError, "x must be an array of real numbers"),
        (
            lambda fp: fp.decode(np.array([-1])),
            ValueError,
            r"encoded must hold integers in \[0, 256\)",
        ),
        (lambda fp: fp.decode(np.array([256])), ValueError, r"encoded .* maximum 256"),
        (lambda fp: fp.decode(np.array([0.5])), TypeError, "encoded must hold integers"),
        (lambda fp: fp.sum_encoded([]), ValueError, "encoded_vectors is empty"),
        (lambda fp: fp.sum_encoded([np.zeros(2, int), np.zeros(3, int)]), ValueError, "same shape"),
        (
            lambda fp: fp.sum_encoded([np.zeros(2, int), [1, 300]]),
            ValueError,
            r"encoded_vectors\[1\]",
        ),
        (
            lambda fp: fp.decode_sum(np.zeros(2, int), num_summands=4),
            ValueError,
            r"num_summands .*\[1, 3\]",
        ),
        (lambda fp: fp.decode_sum(np.zeros(2, int), num_summands=0), ValueError, "num_summands"),
    ],
)
def test_fixed_point_bad_inputs(call, error, match):
    fp = mpc.FixedPoint(clip_range=1.0, num_clients=3, bits=8, frac_bits=4)
    with pytest.raises(error, match=match):
        call(fp)


# --- additive sharing --------------------------------------------------------------------

moduli = st.one_of(st.integers(1, 63).map(lambda k: 2**k), st.integers(2, 2**63))


@FAST
@given(
    modulus=moduli,
    n=st.integers(2, 6),
    length=st.integers(0, 5),
    seed=st.integers(0, 2**32),
)
def test_additive_shares_reconstruct_exactly(modulus, n, length, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, modulus, size=length, dtype=np.uint64)
    shares = mpc.additive_share(x, n=n, modulus=modulus, rng=rng)
    assert shares.shape == (n, length)
    assert all(int(v) < modulus for v in shares.ravel())
    as_ints = [sum(int(s[i]) for s in shares) % modulus for i in range(length)]
    assert as_ints == [int(v) for v in x]
    assert np.array_equal(mpc.additive_reconstruct(shares, modulus=modulus), x)


@FAST
@given(modulus=moduli, seed=st.integers(0, 2**32))
def test_adding_shares_adds_secrets(modulus, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, modulus, size=(2, 4), dtype=np.uint64)
    sx = mpc.additive_share(x, n=3, modulus=modulus, rng=rng)
    sy = mpc.additive_share(y, n=3, modulus=modulus, rng=rng)
    party_sums = [
        [(int(a) + int(b)) % modulus for a, b in zip(u, v, strict=True)]
        for u, v in zip(sx, sy, strict=True)
    ]
    expected = [(int(a) + int(b)) % modulus for a, b in zip(x, y, strict=True)]
    assert (
        mpc.additive_reconstruct(np.array(party_sums, dtype=np.uint64), modulus=modulus).tolist()
        == expected
    )


@pytest.mark.parametrize("modulus", [2**32, 1000, 2**63])
def test_additive_sharing_with_the_os_csprng(modulus):
    x = np.arange(50, dtype=np.uint64)
    shares = mpc.additive_share(x, n=4, modulus=modulus, rng=random.SystemRandom())
    assert int(shares.max()) < modulus
    assert np.array_equal(mpc.additive_reconstruct(list(shares), modulus=modulus), x)


@pytest.mark.parametrize("secret", [0, 15])
@pytest.mark.parametrize("dropped", [0, 1, 2])
def test_any_n_minus_1_additive_shares_look_uniform(secret, dropped):
    # 3 shares over Z_16 of a constant secret, 20,000 coordinates: the pair of shares any
    # two parties hold must be uniform over the 256 cells whatever the secret.
    # Fixed seed; the test level is p > 0.001.
    shares = mpc.additive_share(
        np.full(20_000, secret), n=3, modulus=16, rng=np.random.default_rng(7)
    )
    a, b = np.delete(shares, dropped, axis=0)
    counts = np.bincount((a * 16 + b).astype(np.int64), minlength=256)
    assert stats.chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n": 1}, ValueError, r"n must be an integer >= 2. Got n=1"),
        ({"n": 2.0}, TypeError, "n must be an integer"),
        ({"modulus": 1}, ValueError, r"modulus must be an integer in \[2, 9223372036854775808\]"),
        ({"modulus": 2**63 + 1}, ValueError, "modulus must be an integer in"),
        ({"x": [-1, 2]}, ValueError, r"x must hold integers in \[0, 16\). Got x with minimum -1"),
        ({"x": [3, 16]}, ValueError, r"x must hold integers in \[0, 16\). Got x with maximum 16"),
        ({"x": [0.5]}, TypeError, "x must hold integers"),
        ({"rng": None}, TypeError, "rng must be a numpy.random.Generator"),
        ({"rng": -1}, TypeError, "rng must be"),
        ({"rng": np.random.RandomState(0)}, TypeError, "rng must be"),
    ],
)
def test_additive_share_bad_inputs(kwargs, error, match):
    args = {"x": [1, 2], "n": 3, "modulus": 16, "rng": 0, **kwargs}
    with pytest.raises(error, match=match):
        mpc.additive_share(args.pop("x"), **args)


@pytest.mark.parametrize(
    ("shares", "match"),
    [
        ([], "shares is empty"),
        ([[1, 2], [1]], "same shape"),
        ([[1, 2], [1, 16]], r"shares\[1\] must hold integers in \[0, 16\)"),
    ],
)
def test_additive_reconstruct_bad_inputs(shares, match):
    with pytest.raises(ValueError, match=match):
        mpc.additive_reconstruct(shares, modulus=16)


# --- Shamir ------------------------------------------------------------------------------


@st.composite
def sharings(draw, min_t=1):
    n = draw(st.integers(min_t, 8))
    t = draw(st.integers(min_t, n))
    order = draw(st.permutations(range(n)))
    k = draw(st.integers(t, n))
    return n, t, list(order[:k])


@FAST
@given(secret=st.integers(0, P - 1), case=sharings(), seed=st.integers(0, 2**32))
def test_any_t_shamir_shares_reconstruct(secret, case, seed):
    n, t, chosen = case
    shares = mpc.shamir_share(secret, n=n, t=t, rng=np.random.default_rng(seed))
    assert [s.x for s in shares] == list(range(1, n + 1))
    assert all(0 <= s.y < P and s.t == t for s in shares)
    assert mpc.shamir_reconstruct([shares[i] for i in chosen]) == secret


@FAST
@given(secret=st.integers(0, P - 1), case=sharings(min_t=2), seed=st.integers(0, 2**32))
def test_fewer_than_t_shamir_shares_raise(secret, case, seed):
    n, t, chosen = case
    shares = mpc.shamir_share(secret, n=n, t=t, rng=np.random.default_rng(seed))
    too_few = [shares[i] for i in chosen[: t - 1]]
    with pytest.raises(ValueError, match=rf"has {t - 1} share\(s\) but the threshold is t={t}"):
        mpc.shamir_reconstruct(too_few)


@FAST
@given(
    secret=st.integers(0, P - 1),
    guesses=st.lists(st.integers(0, P - 1), min_size=1, max_size=4),
    t=st.integers(2, 6),
    seed=st.integers(0, 2**32),
)
def test_t_minus_1_shamir_shares_are_consistent_with_every_secret(secret, guesses, t, seed):
    shares = mpc.shamir_share(secret, n=t + 1, t=t, rng=np.random.default_rng(seed))
    held = shares[: t - 1]
    for guess in guesses:
        # The polynomial through (0, guess) and the t − 1 held points...
        points = [(0, guess)] + [(s.x, s.y) for s in held]
        assert [mpc.lagrange_interpolate(points, at=s.x) for s in held] == [s.y for s in held]
        # ...gives a t-th share that completes them into a valid sharing of the guess.
        x_new = shares[-1].x
        forged = mpc.ShamirShare(x_new, mpc.lagrange_interpolate(points, at=x_new), t)
        assert mpc.shamir_reconstruct([*held, forged]) == guess


@pytest.mark.parametrize("secret", [0, P - 1])
def test_a_single_shamir_share_looks_uniform(secret):
    # t = 2: one share is s + a·x with a uniform, so it is uniform over GF(p) whatever s is.
    # Its top and bottom 4 bits over 3,000 sharings, fixed seed, level p > 0.001.
    rng = np.random.default_rng(11)
    ys = [mpc.shamir_share(secret, n=2, t=2, rng=rng)[0].y for _ in range(3000)]
    for nibble in ([y >> 123 for y in ys], [y & 15 for y in ys]):
        assert stats.chisquare(np.bincount(nibble, minlength=16)).pvalue > 1e-3


def test_shamir_known_polynomial():
    # With t = 1 the polynomial is the constant secret: every share is the secret itself.
    assert [s.y for s in mpc.shamir_share(99, n=3, t=1, rng=0)] == [99, 99, 99]
    # f(z) = 5 + 3z + 2z^2 through x = 1, 2, 3: 10, 19, 32.
    shares = [mpc.ShamirShare(1, 10, 3), mpc.ShamirShare(2, 19, 3), mpc.ShamirShare(3, 32, 3)]
    assert mpc.shamir_reconstruct(shares) == 5
    assert mpc.lagrange_interpolate([(1, 10), (2, 19), (3, 32)], at=4) == 49


def test_shamir_with_the_os_csprng():
    shares = mpc.shamir_share(P - 1, n=5, t=3, rng=random.SystemRandom())
    assert mpc.shamir_reconstruct(shares[1:4]) == P - 1


@FAST
@given(data=st.binary(min_size=1, max_size=64), case=sharings(), seed=st.integers(0, 2**32))
def test_byte_strings_shamir_round_trip(data, case, seed):
    n, t, chosen = case
    shares = mpc.shamir_share_bytes(data, n=n, t=t, rng=np.random.default_rng(seed))
    assert all(len(s.ys) == -(-len(data) // 15) for s in shares)
    assert mpc.shamir_reconstruct_bytes([shares[i] for i in chosen]) == data
    if t > 1:
        with pytest.raises(ValueError, match=rf"threshold is t={t}"):
            mpc.shamir_reconstruct_bytes([shares[i] for i in chosen[: t - 1]])


def test_all_zero_key_keeps_its_length():
    shares = mpc.shamir_share_bytes(bytes(32), n=3, t=2, rng=0)
    assert mpc.shamir_reconstruct_bytes(shares[1:]) == bytes(32)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"t": 4}, ValueError, r"t must be at most n.*t=4 > n=3"),
        ({"t": 0}, ValueError, r"t must be an integer >= 1. Got t=0"),
        ({"n": 0, "t": 1}, ValueError, r"n must be an integer in \[1, "),
        ({"secret": P}, ValueError, r"secret must be an integer in \[0, 1701"),
        ({"secret": -1}, ValueError, "secret must be an integer in"),
        ({"secret": 1.5}, TypeError, "secret must be an integer"),
        ({"rng": "seed"}, TypeError, "rng must be"),
    ],
)
def test_shamir_share_bad_inputs(kwargs, error, match):
    args = {"secret": 7, "n": 3, "t": 2, "rng": 0, **kwargs}
    with pytest.raises(error, match=match):
        mpc.shamir_share(args.pop("secret"), **args)


def test_shamir_reconstruct_bad_inputs():
    shares = mpc.shamir_share(7, n=4, t=2, rng=0)
    other = mpc.shamir_share(7, n=4, t=3, rng=0)
    with pytest.raises(ValueError, match=r"shares 0 and 1 have the same x coordinate 1"):
        mpc.shamir_reconstruct([shares[0], shares[0]])
    with pytest.raises(ValueError, match=r"different sharings: thresholds \[2, 3\]"):
        mpc.shamir_reconstruct([shares[0], other[1], other[2]])
    with pytest.raises(ValueError, match="shares is empty"):
        mpc.shamir_reconstruct([])
    with pytest.raises(TypeError, match=r"shares\[0\] must be a ShamirShare \('x', 'y', 't'\)"):
        mpc.shamir_reconstruct([(1, 2), (2, 3)])
    with pytest.raises(ValueError, match=r"shares\[1\]\.x must be an integer in \[1, "):
        mpc.shamir_reconstruct([shares[0], mpc.ShamirShare(0, 5, 2)])
    with pytest.raises(ValueError, match=r"shares\[1\]\.y must be an integer in \[0, "):
        mpc.shamir_reconstruct([shares[0], mpc.ShamirShare(2, P, 2)])
    with pytest.raises(ValueError, match=r"points\[1\]\.x"):
        mpc.lagrange_interpolate([(1, 2), (-1, 3)])
    with pytest.raises(ValueError, match="same x coordinate"):
        mpc.lagrange_interpolate([(1, 2), (1, 3)])
    with pytest.raises(ValueError, match="data is empty"):
        mpc.shamir_share_bytes(b"", n=2, t=1, rng=0)
    with pytest.raises(TypeError, match="data must be bytes"):
        mpc.shamir_share_bytes("key", n=2, t=1, rng=0)


def test_shamir_bytes_from_different_strings_are_refused():
    a = mpc.shamir_share_bytes(b"a" * 20, n=3, t=2, rng=0)
    b = mpc.shamir_share_bytes(b"b" * 40, n=3, t=2, rng=0)
    with pytest.raises(ValueError, match=r"different lengths \[20, 40\]"):
        mpc.shamir_reconstruct_bytes([a[0], b[1]])


# --- garbled gates and circuits ----------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_garbled_and_matches_the_truth_table(a, b):
    gate = mpc.garble_and(rng=np.random.default_rng(3))
    out = mpc.evaluate_gate(gate.table, gate.a.label(a), gate.b.label(b))
    assert out == gate.out.label(a & b)
    assert gate.out.decode(out) == (a & b)


@pytest.mark.parametrize(("a", "b"), [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_the_evaluator_can_open_only_one_row(a, b):
    gate = mpc.garble_and(rng=np.random.default_rng(4))
    la, lb = gate.a.label(a), gate.b.label(b)
    # Each input pair points at its own row...
    rows = {
        2 * mpc.colour(gate.a.label(u)) + mpc.colour(gate.b.label(v))
        for u in (0, 1)
        for v in (0, 1)
    }
    assert rows == {0, 1, 2, 3}
    # ...and the same keys on any other row give garbage, detected on decoding.
    for shift in (1, 2, 3):
        rotated = gate.table[shift:] + gate.table[:shift]
        with pytest.raises(mpc.DecodingError, match="matches neither label"):
            gate.out.decode(mpc.evaluate_gate(rotated, la, lb))


def test_wrong_labels_give_detected_garbage():
    gate = mpc.garble_and(rng=np.random.default_rng(5))
    stranger = mpc.garble_and(rng=np.random.default_rng(6))
    guessed = bytes(16)
    for la, lb in [
        (guessed, gate.b.one),
        (stranger.a.one, stranger.b.one),
        (gate.a.one, gate.a.one),
    ]:
        with pytest.raises(mpc.DecodingError, match="matches neither label"):
            gate.out.decode(mpc.evaluate_gate(gate.table, la, lb))


def test_colour_bits_do_not_reveal_values():
    # The colour of the 0-label is a fair coin: 400 garblings, 200 ± 5 sd (sd = 10).
    rng = np.random.default_rng(8)
    gates = [mpc.garble_and(rng=rng) for _ in range(400)]
    assert all(mpc.colour(g.a.zero) != mpc.colour(g.a.one) for g in gates)
    assert 150 <= sum(mpc.colour(g.a.zero) for g in gates) <= 250


@pytest.mark.parametrize("free_xor", [True, False])
@pytest.mark.parametrize("bits", [1, 2, 4])
def test_garbled_comparator_matches_the_plain_circuit(bits, free_xor):
    comparator = mpc.comparator_circuit(bits)
    rng = np.random.default_rng(9)
    for x in range(2**bits):
        for y in range(2**bits):
            gc, secrets = mpc.garble(comparator, rng=rng, free_xor=free_xor)
            xb, yb = mpc.int_to_bits(x, bits), mpc.int_to_bits(y, bits)
            labels = mpc.evaluate_garbled(
                gc,
                secrets.input_labels(comparator.garbler_inputs, xb),
                mpc.simulated_ot([secrets.labels[w] for w in comparator.evaluator_inputs], yb),
            )
            assert mpc.decode_outputs(gc, labels) == comparator.evaluate(xb, yb) == (int(x > y),)


def test_free_xor_labels_share_one_offset():
    comparator = mpc.comparator_circuit(3)
    _, secrets = mpc.garble(comparator, rng=0, free_xor=True)
    offsets = {bytes(u ^ v for u, v in zip(w.zero, w.one, strict=True)) for w in secrets.labels}
    assert offsets == {secrets.delta}
    assert mpc.colour(secrets.delta) == 1


def test_garbled_circuit_with_foreign_labels_is_detected():
    comparator = mpc.comparator_circuit(4)
    gc, secrets = mpc.garble(comparator, rng=1)
    _, other = mpc.garble(comparator, rng=2)
    bits = mpc.int_to_bits(5, 4)
    labels = mpc.evaluate_garbled(
        gc,
        secrets.input_labels(comparator.garbler_inputs, bits),
        other.input_labels(comparator.evaluator_inputs, bits),
    )
    with pytest.raises(mpc.DecodingError, match="output wire"):
        mpc.decode_outputs(gc, labels)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), bits=st.sampled_from([1, 2, 3, 8, 16, 32]), free_xor=st.booleans())
def test_millionaires_matches_x_greater_than_y(data, bits, free_xor):
    x = data.draw(st.integers(0, 2**bits - 1))
    y = data.draw(st.one_of(st.just(x), st.integers(0, 2**bits - 1)))
    result = mpc.millionaires(
        x, y, bits=bits, rng=data.draw(st.integers(0, 2**32)), free_xor=free_xor
    )
    assert result.x_greater == (x > y)
    assert result.evaluator_view.output == result.garbler_view.output == (x > y)
    garbled_gates = bits if free_xor else bits + 3 * (bits - 1)
    assert (result.num_and_gates, result.num_xor_gates, result.num_not_gates) == (
        bits,
        3 * (bits - 1),
        1,
    )
    assert result.num_ciphertexts == 4 * garbled_gates
    assert result.table_bytes == 16 * result.num_ciphertexts
    assert result.bytes_to_evaluator == result.table_bytes + 16 * bits + 32
    assert result.num_ots == bits


def test_millionaires_views():
    result = mpc.millionaires(12, 9, bits=4, rng=random.SystemRandom())
    view = result.evaluator_view
    assert (result.garbler_view.input, view.input) == (12, 9)
    assert len(view.garbler_input_labels) == len(view.own_input_labels) == 4
    assert all(
        len(label) == mpc.LABEL_BYTES for label in view.garbler_input_labels + view.own_input_labels
    )
    assert mpc.decode_outputs(view.garbled_circuit, view.output_labels) == (1,)


def test_simulated_ot_hands_over_only_the_chosen_labels():
    pairs = [mpc.WireLabels(bytes([i]) * 16, bytes([i + 100]) * 16) for i in range(3)]
    assert mpc.simulated_ot(pairs, [1, 0, 1]) == (pairs[0].one, pairs[1].zero, pairs[2].one)
    with pytest.raises(ValueError, match=r"choices\[1\] must be 0 or 1. Got 2"):
        mpc.simulated_ot(pairs, [0, 2, 1])
    with pytest.raises(ValueError, match=r"choices must have one bit per pair \(3\). Got 2"):
        mpc.simulated_ot(pairs, [0, 1])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: mpc.millionaires(16, 3, bits=4, rng=0),
            ValueError,
            r"x must be an integer in \[0, 15\]. Got x=16",
        ),
        (
            lambda: mpc.millionaires(3, -1, bits=4, rng=0),
            ValueError,
            r"y must be an integer in \[0, 15\]. Got y=-1",
        ),
        (
            lambda: mpc.millionaires(1, 0, bits=0, rng=0),
            ValueError,
            r"bits must be an integer in \[1, 1024\]",
        ),
        (lambda: mpc.millionaires(1, 0, bits=2, rng=None), TypeError, "rng must be"),
        (
            lambda: mpc.evaluate_gate((bytes(16),) * 3, bytes(16), bytes(16)),
            ValueError,
            "table must have 4 rows",
        ),
        (
            lambda: mpc.evaluate_gate((bytes(16),) * 4, bytes(15), bytes(16)),
            ValueError,
            "label_a must be a 16-byte",
        ),
        (
            lambda: mpc.evaluate_gate((bytes(16),) * 4, bytes(16), "b"),
            ValueError,
            "label_b must be a 16-byte",
        ),
        (lambda: mpc.garble_and(rng=0, gate_id=-1), ValueError, "gate_id must be an integer"),
        (
            lambda: mpc.Gate("OR", (0, 1), 2),
            ValueError,
            r"kind must be one of \('AND', 'XOR', 'NOT'\)",
        ),
        (lambda: mpc.Gate("NOT", (0, 1), 2), ValueError, r"a NOT gate takes 1 input"),
        (lambda: mpc.comparator_circuit(0), ValueError, r"bits must be an integer in \[1, 1024\]"),
        (lambda: mpc.garble("circuit", rng=0), TypeError, "circuit must be a Circuit"),
        (lambda: mpc.WireLabels(bytes(16), bytes(16)).label(2), ValueError, "bit must be 0 or 1"),
        (
            lambda: mpc.comparator_circuit(2).evaluate((0, 1), (1,)),
            ValueError,
            r"evaluator_bits must be 2 bits",
        ),
    ],
)
def test_garbling_bad_inputs(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_evaluate_garbled_and_decode_bad_inputs():
    gc, _ = mpc.garble(mpc.comparator_circuit(2), rng=0)
    with pytest.raises(
        ValueError, match=r"evaluator_labels must hold one label per input wire \(2\). Got 1"
    ):
        mpc.evaluate_garbled(gc, [bytes(16)] * 2, [bytes(16)])
    with pytest.raises(ValueError, match=r"output_labels must hold 1 labels. Got 2"):
        mpc.decode_outputs(gc, [bytes(16)] * 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"evaluator_inputs": (0,)}, r"input wires must be distinct"),
        ({"gates": (mpc.Gate("AND", (0, 5), 2),)}, r"gates\[0\] reads wire\(s\) \[5\]"),
        ({"gates": (mpc.Gate("AND", (0, 1), 1),)}, r"gates\[0\] writes wire 1"),
        ({"num_wires": 4}, r"num_wires=4 but the inputs and gates define wires \[0, 1, 2\]"),
        ({"outputs": (7,)}, r"outputs must be defined wires. Got outputs=\(7,\)"),
    ],
)
def test_circuit_bad_wiring(kwargs, match):
    args = {
        "num_wires": 3,
        "garbler_inputs": (0,),
        "evaluator_inputs": (1,),
        "gates": (mpc.Gate("AND", (0, 1), 2),),
        "outputs": (2,),
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        mpc.Circuit(**args)


def test_a_hand_built_circuit_garbles_and_evaluates():
    # (a AND b) XOR (NOT a): the truth table 1, 1, 0, 1 for (a, b) = 00, 01, 10, 11.
    c = mpc.Circuit(
        num_wires=5,
        garbler_inputs=(0,),
        evaluator_inputs=(1,),
        gates=(mpc.Gate("AND", (0, 1), 2), mpc.Gate("NOT", (0,), 3), mpc.Gate("XOR", (2, 3), 4)),
        outputs=(4,),
    )
    for free_xor in (True, False):
        gc, secrets = mpc.garble(c, rng=np.random.default_rng(12), free_xor=free_xor)
        got = [
            mpc.decode_outputs(
                gc,
                mpc.evaluate_garbled(
                    gc, secrets.input_labels((0,), (a,)), secrets.input_labels((1,), (b,))
                ),
            )[0]
            for a in (0, 1)
            for b in (0, 1)
        ]
        assert got == [1, 1, 0, 1]
        assert gc.num_ciphertexts == (4 if free_xor else 8)
