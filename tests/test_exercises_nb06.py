"""Self-checks of 06_secure_aggregation: right answers pass, typical wrong ones fail with a
hint that does not give the answer, unsolved ones show "not attempted yet"; the references
the checks use agree with ppml_helpers.mpc and ppml_helpers.secagg."""

from __future__ import annotations

import math

import numpy as np
import pytest
from exercise_contract import contract_tests

from ppml_helpers import exercises as ex
from ppml_helpers import mpc, secagg
from ppml_helpers.exercises import nb06
from ppml_helpers.secagg.keys import MASK_LABEL

# --- 6.1 ---------------------------------------------------------------------------------


def max_clients_right(bits, frac_bits, clip):
    return (2 ** (bits - 1) - 1) // round(clip * 2**frac_bits)


def max_clients_whole_ring(bits, frac_bits, clip):  # forgets that half the ring is negative
    return 2**bits // round(clip * 2**frac_bits)


def max_clients_off_by_one(bits, frac_bits, clip):  # 2^(k-1) itself is already negative
    return 2 ** (bits - 1) // round(clip * 2**frac_bits)


# --- 6.2 ---------------------------------------------------------------------------------


def share_right(x, n, modulus, rng):
    shares = rng.integers(0, modulus, size=(n - 1, *np.shape(x)))
    last = (np.asarray(x) - shares.sum(axis=0)) % modulus
    return np.concatenate([shares, last[None]])


def share_even_split(x, n, modulus, rng):  # adds up, but each share gives x away
    x = np.asarray(x)
    return np.stack([x // n] * (n - 1) + [x - (n - 1) * (x // n)])


def share_not_reduced(x, n, modulus, rng):
    shares = rng.integers(0, modulus, size=(n - 1, *np.shape(x)))
    return np.concatenate([shares, (np.asarray(x) - shares.sum(axis=0))[None]])


def share_small_noise(x, n, modulus, rng):  # random, but far from uniform on the ring
    shares = rng.integers(0, 1000, size=(n - 1, *np.shape(x)))
    return np.concatenate([shares, ((np.asarray(x) - shares.sum(axis=0)) % modulus)[None]])


# --- 6.3 ---------------------------------------------------------------------------------


def lagrange_right(points, prime):
    total = 0
    for i, (xi, yi) in enumerate(points):
        num = den = 1
        for j, (xj, _) in enumerate(points):
            if j != i:
                num, den = num * xj % prime, den * (xj - xi) % prime
        total += yi * num * pow(den, -1, prime)
    return total % prime


def lagrange_integer_division(points, prime):
    total = 0
    for i, (xi, yi) in enumerate(points):
        num = den = 1
        for j, (xj, _) in enumerate(points):
            if j != i:
                num, den = num * xj, den * (xj - xi)
        total += yi * num // den
    return total % prime


# --- 6.4 ---------------------------------------------------------------------------------


def threshold_right(n, dropouts, colluders):
    return range((n + colluders) // 2 + 1, n - dropouts + 1)


def threshold_ignores_colluders(n, dropouts, colluders):
    return range(n // 2 + 1, n - dropouts + 1)


def threshold_semi_honest(n, dropouts, colluders):  # colluders alone must stay below t
    return range(colluders + 1, n - dropouts + 1)


def threshold_not_strict(n, dropouts, colluders):
    return range(math.ceil((n + colluders) / 2), n - dropouts + 1)


def threshold_dropouts_off_by_one(n, dropouts, colluders):
    return range((n + colluders) // 2 + 1, n - dropouts)


# --- 6.5 ---------------------------------------------------------------------------------


def mask_right(u, v, seed, length, bits):
    prg = secagg.expand(seed, length=length, bits=bits)
    return prg if u < v else (-prg) & np.uint64(2**bits - 1)


def mask_same_sign(u, v, seed, length, bits):
    return secagg.expand(seed, length=length, bits=bits)


def mask_negated_mod_2_64(u, v, seed, length, bits):
    prg = secagg.expand(seed, length=length, bits=bits)
    return prg if u < v else -prg


def mask_other_convention(u, v, seed, length, bits):
    return mask_right(v, u, seed, length, bits)


# --- 6.6 ---------------------------------------------------------------------------------


def bytes_right(n, d, bits, neighbours=None):
    m = n if neighbours is None else neighbours + 1
    return (4 + 64) + (4 + (m - 1) * 148) + (4 + d * math.ceil(bits / 8)) + (4 + m * 56)


def bytes_masked_input_only(n, d, bits, neighbours=None):
    return 4 + d * math.ceil(bits / 8)


def bytes_own_share_sent(n, d, bits, neighbours=None):
    m = n if neighbours is None else neighbours + 1
    return (4 + 64) + (4 + m * 148) + (4 + d * math.ceil(bits / 8)) + (4 + m * 56)


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests([
    (ex.check_max_clients, max_clients_right, max_clients_whole_ring),
    (ex.check_additive_share, share_right, share_even_split),
    (ex.check_lagrange_at_zero, lagrange_right, lagrange_integer_division),
    (ex.check_threshold_range, threshold_right, threshold_ignores_colluders),
    (ex.check_pairwise_mask, mask_right, mask_same_sign),
    (ex.check_client_bytes_sent, bytes_right, bytes_masked_input_only),
])


@pytest.mark.parametrize(("check", "wrong", "in_hint"), [
    (ex.check_max_clients, max_clients_whole_ring, "half of"),
    (ex.check_max_clients, max_clients_off_by_one, "largest positive value"),
    (ex.check_additive_share, share_not_reduced, "reduce it mod"),
    (ex.check_additive_share, share_small_noise, "uniform"),
    (ex.check_threshold_range, threshold_ignores_colluders, "both secrets"),
    (ex.check_threshold_range, threshold_semi_honest, "different stories"),
    (ex.check_threshold_range, threshold_not_strict, "strict"),
    (ex.check_threshold_range, threshold_dropouts_off_by_one, "survivors must still hold"),
    (ex.check_pairwise_mask, mask_negated_mod_2_64, "2^64"),
    (ex.check_pairwise_mask, mask_other_convention, "smaller index adds"),
    (ex.check_client_bytes_sent, bytes_own_share_sent, "keeps its own share"),
])
def test_typical_mistakes_get_their_own_hint(check, wrong, in_hint):
    result = check(wrong)
    assert not result and in_hint in result.hint


def test_threshold_check_agrees_with_the_attack_on_real_clients():
    """The reference's lowest t is the first one the split-story attack fails against."""
    x = np.random.default_rng(0).uniform(-1, 1, (6, 2))
    for colluders in range(5):
        low = secagg.threshold_range(6, dropouts=0, colluders=colluders)[0]
        assert secagg.split_story_attack(x, threshold=low - 1, colluders=colluders, seed=1).succeeded
        assert not secagg.split_story_attack(x, threshold=low, colluders=colluders, seed=1).succeeded


def test_a_check_never_prints_the_answer():
    result = ex.check_client_bytes_sent(bytes_own_share_sent)
    assert str(bytes_right(3, 10, 32)) not in repr(result)


def test_a_learner_error_becomes_a_readable_fail():
    def broken(*args, **kwargs):
        raise KeyError("oops")

    result = ex.check_lagrange_at_zero(broken)
    assert not result and "KeyError" in result.message


# --- the references agree with the package -----------------------------------------------


@pytest.mark.parametrize(("n", "d", "bits", "k"), [(3, 10, 32, None), (7, 5, 20, None), (9, 13, 32, 4),
                                                   (12, 100, 16, 6), (5, 1, 63, None)])
def test_bytes_reference_is_what_simulate_counts(n, d, bits, k):
    t = n // 2 + 1 if k is None else (k + 1) // 2 + 1
    result = secagg.simulate(np.zeros((n, d)), threshold=t, neighbours=k, bits=bits, frac_bits=4, seed=0)
    sent = {totals["bytes_sent"] for totals in result.costs.client_totals().values()}
    assert sent == {nb06._bytes_reference(n, d, bits, k)}


def test_pairwise_reference_is_how_clients_mask():
    """Clients' masked inputs of zero vectors, minus their self-masks, are the sums of reference masks."""
    n, d, bits = 3, 16, 32
    params = secagg.ProtocolParams(threshold=2, bits=bits, length=d)
    clients = [secagg.Client(u, np.zeros(d, np.uint64), params=params, rng=np.random.default_rng(u))
               for u in range(n)]
    server = secagg.Server(params=params, graph=secagg.complete_graph(n))
    advertised = [c.advertise_keys() for c in clients]
    forwarded = server.forward_shares([clients[m.recipient].share_keys(m) for m in server.collect_keys(advertised)])
    for m in forwarded:
        u = m.recipient
        y = clients[u].masked_input(m).y.astype(object)
        pairwise = (y - secagg.expand(clients[u]._b, length=d, bits=bits).astype(object)) % 2**bits
        seeds = {v: secagg.agree(clients[u]._s.private, advertised[v].s_pk, label=MASK_LABEL)
                 for v in range(n) if v != u}
        want = sum(nb06._pairwise_reference(u, v, seed, d, bits) for v, seed in seeds.items()) % 2**bits
        assert (pairwise == want).all()


def test_max_clients_reference_is_the_fixed_point_guard():
    for bits, frac_bits, clip in nb06._MAX_CLIENT_CASES:
        n = mpc.FixedPoint(clip_range=clip, num_clients=1, bits=bits, frac_bits=frac_bits).max_clients
        mpc.FixedPoint(clip_range=clip, num_clients=n, bits=bits, frac_bits=frac_bits)  # accepted
        with pytest.raises(ValueError, match="overflow"):
            mpc.FixedPoint(clip_range=clip, num_clients=n + 1, bits=bits, frac_bits=frac_bits)
        assert n == max_clients_right(bits, frac_bits, clip)
