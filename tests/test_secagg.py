"""ppml_helpers.secagg: the Bonawitz et al. protocol and SecAgg+, run in-process.

Oracles: the ring sum of the clients' FixedPoint encodings (exact, in
Z_(2^k)), the same sum decoded, the threshold rule applied to the dropout
pattern (Bonawitz: at least t clients respond in every round; SecAgg+: at
least t members of every sharing client's neighbourhood), a chi-square test
with a fixed seed at a stated level (p > 0.001) for the server's view of one
masked input, and message sizes computed from the wire layout.
"""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from scipy import stats

from ppml_helpers import secagg
from ppml_helpers.mpc import ShamirBytesShare
from ppml_helpers.secagg import channel, client, graph, keys, messages, prg, protocol, server

FAST = settings(max_examples=80, deadline=None)
NO_DROPOUT = 4  # a client in no round's dropout list answers all four rounds


def encoded_sum(result, updates, clip=False):
    """The oracle: Σ encode(updates[u]) mod 2^k over the clients whose masked input arrived."""
    fp = result.fixed_point
    return fp.sum_encoded([fp.encode(np.asarray(updates[u]), clip=clip) for u in result.included])


def first_short_round(g: secagg.NeighbourGraph, drops: dict, t: int) -> int | None:
    """The threshold rule: the first round where too few clients respond, or None."""
    n = g.num_clients

    def alive(r):
        return {u for u in range(n) if drops.get(u, NO_DROPOUT) > r}

    for r in range(4):
        active = alive(r)
        owners = alive(0) if r == 0 else alive(1)
        if len(active) < t or any(len(g.neighbourhood(u) & active) < t for u in owners):
            return r
    return None


@pytest.mark.parametrize(
    "module", [graph, keys, prg, protocol], ids=lambda m: m.__name__
)
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


# --- the sum, property-tested --------------------------------------------------------------

RINGS = [(16, 8), (32, 16), (63, 20)]  # (bits, frac_bits)


def dropout_patterns(n: int, most: int):
    """Up to ``most`` of the n clients, each dropping from a round in 0-3."""
    return st.sampled_from(range(min(most, n), -1, -1)).flatmap(
        lambda m: st.dictionaries(st.integers(0, n - 1), st.integers(0, 3), min_size=m, max_size=m)
    )


@st.composite
def bonawitz_cases(draw):
    n = draw(st.integers(3, 8))
    d = draw(st.integers(1, 5))
    bits, frac_bits = draw(st.sampled_from(RINGS))
    values = st.floats(-1.0, 1.0, allow_nan=False, width=32)
    updates = [draw(st.lists(values, min_size=d, max_size=d)) for _ in range(n)]
    t = draw(st.integers(n // 2 + 1, n))
    drops = draw(dropout_patterns(n, most=n - t + 1))  # n − t dropouts are fine, one more is not
    seed = draw(st.integers(0, 2**32))
    return updates, t, drops, bits, frac_bits, seed


@FAST
@given(bonawitz_cases())
def test_bonawitz_sum_is_exact_or_refused(case):
    updates, t, drops, bits, frac_bits, seed = case
    n = len(updates)
    short = first_short_round(secagg.complete_graph(n), drops, t)
    event("refused" if short is not None else f"summed, {len(drops)} dropout(s)")
    run = dict(threshold=t, dropouts=drops, bits=bits, frac_bits=frac_bits, seed=seed)
    if short is not None:
        with pytest.raises(secagg.DropoutError, match=f"round {short} ") as info:
            secagg.simulate(updates, **run)
        assert info.value.round == short and len(info.value.survivors) < t
        assert info.value.threshold == t
        return
    result = secagg.simulate(updates, **run)
    assert result.included == tuple(u for u in range(n) if drops.get(u, NO_DROPOUT) > 2)
    expected = encoded_sum(result, updates)
    np.testing.assert_array_equal(result.encoded_sum, expected)
    np.testing.assert_array_equal(
        result.sum, result.fixed_point.decode_sum(expected, num_summands=len(result.included))
    )
    true_sum = np.sum([updates[u] for u in result.included], axis=0)
    np.testing.assert_allclose(result.sum, true_sum, atol=len(result.included) * 2.0 ** -(frac_bits + 1))


def test_every_dropout_pattern_of_four_clients():
    """All 5^4 fates (never drop, or drop from round 0, 1, 2 or 3) of 4 clients with t = 3."""
    updates = np.random.default_rng(4).uniform(-1, 1, (4, 3))
    summed = 0
    for fates in itertools.product([NO_DROPOUT, 0, 1, 2, 3], repeat=4):
        drops = {u: r for u, r in enumerate(fates) if r != NO_DROPOUT}
        short = first_short_round(secagg.complete_graph(4), drops, 3)
        if short is not None:
            with pytest.raises(secagg.DropoutError, match=f"round {short} "):
                secagg.simulate(updates, threshold=3, dropouts=drops, seed=len(drops))
            continue
        result = secagg.simulate(updates, threshold=3, dropouts=drops, seed=len(drops))
        np.testing.assert_array_equal(result.encoded_sum, encoded_sum(result, updates))
        summed += 1
    assert summed == 1 + 4 * 4  # at most n − t = 1 client drops, at any round


@st.composite
def secaggplus_cases(draw):
    n = draw(st.integers(5, 9))
    k = draw(st.sampled_from([k for k in range(2, n) if k % 2 == 0]))
    d = draw(st.integers(1, 4))
    values = st.floats(-1.0, 1.0, allow_nan=False, width=32)
    updates = [draw(st.lists(values, min_size=d, max_size=d)) for _ in range(n)]
    t = draw(st.integers((k + 1) // 2 + 1, k + 1))
    drops = draw(dropout_patterns(n, most=k + 2 - t))
    seed = draw(st.integers(0, 2**32))
    return updates, k, t, drops, seed


@FAST
@given(secaggplus_cases())
def test_secaggplus_sum_is_exact_or_refused(case):
    updates, k, t, drops, seed = case
    # The graph depends only on (seed, n, k): read it off a run without dropouts.
    g = secagg.simulate(updates, threshold=t, neighbours=k, seed=seed).graph
    short = first_short_round(g, drops, t)
    event("refused" if short is not None else f"summed, {len(drops)} dropout(s)")
    if short is not None:
        with pytest.raises(secagg.DropoutError, match=f"round {short} ") as info:
            secagg.simulate(updates, threshold=t, dropouts=drops, neighbours=k, seed=seed)
        assert len(info.value.survivors) < t
        return
    result = secagg.simulate(updates, threshold=t, dropouts=drops, neighbours=k, seed=seed)
    assert result.graph == g
    np.testing.assert_array_equal(result.encoded_sum, encoded_sum(result, updates))


@pytest.mark.parametrize("drops", [None, {0: 2}, {1: 3, 4: 2}, {2: 1, 5: 3}, {3: 0, 6: 2, 7: 3}])
def test_secaggplus_gives_the_bonawitz_sum(drops):
    updates = np.random.default_rng(1).uniform(-1, 1, (11, 30))
    plain = secagg.simulate(updates, threshold=7, dropouts=drops, seed=3)
    plus = secagg.simulate(updates, threshold=3, dropouts=drops, neighbours=4, seed=3)
    assert plus.graph.kind == "harary" and plus.graph.degree == 4
    assert plus.included == plain.included
    np.testing.assert_array_equal(plus.encoded_sum, plain.encoded_sum)
    np.testing.assert_array_equal(plus.sum, plain.sum)


def test_every_dropout_round_is_handled():
    updates = np.random.default_rng(2).uniform(-0.5, 0.5, (9, 6))
    drops = {0: 0, 1: 1, 2: 2, 3: 3}
    result = secagg.simulate(updates, threshold=5, dropouts=drops, seed=0)
    assert result.responders == (tuple(range(1, 9)), tuple(range(2, 9)), tuple(range(3, 9)),
                                 tuple(range(4, 9)))
    assert result.included == tuple(range(3, 9))  # client 3 sent its masked input, then left
    np.testing.assert_array_equal(result.encoded_sum, encoded_sum(result, updates))


def test_too_many_dropouts_name_round_survivors_and_threshold():
    updates = np.zeros((5, 3))
    with pytest.raises(
        secagg.DropoutError,
        match=r"round 2 \(masked input collection\): only 2 client\(s\) still respond \[0, 1\], "
        r"fewer than the threshold t=3",
    ) as info:
        secagg.simulate(updates, threshold=3, dropouts={2: 2, 3: 2, 4: 1}, seed=0)
    assert isinstance(info.value, ValueError)
    assert (info.value.round, info.value.survivors, info.value.threshold) == (2, (0, 1), 3)


def test_secaggplus_refuses_a_neighbourhood_below_threshold():
    updates = np.zeros((9, 2))
    g = secagg.simulate(updates, threshold=3, neighbours=2, seed=5).graph
    a = min(g.neighbours[0])  # each neighbourhood has 3 members: losing a leaves 2 in a's and its neighbours'
    with pytest.raises(secagg.DropoutError, match=r"round 3 \(unmasking\): client \d+'s neighbourhood .* t=3") as info:
        secagg.simulate(updates, threshold=3, neighbours=2, dropouts={a: 3}, seed=5)
    assert info.value.round == 3 and info.value.client in g.neighbourhood(a)
    assert len(info.value.survivors) == 2 and a not in info.value.survivors


# --- what the server sees ------------------------------------------------------------------


def test_one_masked_input_looks_uniform_to_the_server():
    """Top 4 bits of a masked all-zero update, 16 bins, 40,000 values: chi-square p > 0.001."""
    d = 40_000
    updates = np.zeros((3, d))
    result = secagg.simulate(updates, threshold=2, seed=7, transcript=True)
    y = result.transcript.masked_inputs[0].y
    counts = np.bincount((y >> np.uint64(28)).astype(np.int64), minlength=16)
    assert stats.chisquare(counts).pvalue > 0.001
    # The same test rejects the unmasked encoding (all zeros in one bin), so it can fail.
    plain = result.fixed_point.encode(updates[0]) >> np.uint64(28)
    assert stats.chisquare(np.bincount(plain.astype(np.int64), minlength=16)).pvalue < 1e-12
    # And the masks do cancel: the sum is exactly zero.
    assert not result.encoded_sum.any()


def test_the_server_rebuilds_one_secret_per_client_never_both():
    """The rounds by hand, as notebook 06 shows them, with a client gone at rounds 2 and 3."""
    n, t, d = 5, 3, 4
    fp = secagg.simulate(np.zeros((n, d)), threshold=t, seed=0).fixed_point
    x = np.random.default_rng(0).uniform(-1, 1, (n, d))
    params = secagg.ProtocolParams(threshold=t, bits=fp.bits, length=d)
    clients = [secagg.Client(u, fp.encode(x[u]), params=params, rng=np.random.default_rng(u))
               for u in range(n)]
    srv = secagg.Server(params=params, graph=secagg.complete_graph(n))
    public = srv.collect_keys([c.advertise_keys() for c in clients])
    forwarded = srv.forward_shares([clients[m.recipient].share_keys(m) for m in public])
    masked = [clients[m.recipient].masked_input(m) for m in forwarded if m.recipient != 4]
    requests = srv.collect_masked_inputs(masked)
    answers = [clients[m.recipient].unmask(m) for m in requests if m.recipient != 3]
    total = srv.unmask(answers)
    assert srv.revealed == {0: "b", 1: "b", 2: "b", 3: "b", 4: "s_sk"}
    np.testing.assert_array_equal(total, fp.sum_encoded([fp.encode(x[u]) for u in range(4)]))


def _clients_at_round_3(n=4, t=3):
    params = secagg.ProtocolParams(threshold=t, bits=32, length=2)
    clients = [secagg.Client(u, np.zeros(2, np.uint64), params=params, rng=np.random.default_rng(u))
               for u in range(n)]
    srv = secagg.Server(params=params, graph=secagg.complete_graph(n))
    public = srv.collect_keys([c.advertise_keys() for c in clients])
    forwarded = srv.forward_shares([clients[m.recipient].share_keys(m) for m in public])
    srv.collect_masked_inputs([clients[m.recipient].masked_input(m) for m in forwarded])
    return clients, forwarded


def test_a_client_refuses_to_reveal_both_secrets_of_one_client():
    clients, _ = _clients_at_round_3()
    with pytest.raises(secagg.ProtocolError, match=r"lists \[2\] both as survivors and as dropped"):
        clients[0].unmask(messages.UnmaskRequest(0, (0, 1, 2, 3), (2,)))
    clients[0].unmask(messages.UnmaskRequest(0, (0, 1, 2), (3,)))  # honest: b of 0-2, s_sk of 3
    with pytest.raises(secagg.ProtocolError, match="already revealed client 2's self-mask seed b and is now asked for its mask key"):
        clients[0].unmask(messages.UnmaskRequest(0, (0, 1, 3), (2,)))


def test_a_client_refuses_to_be_called_dropped():
    clients, _ = _clients_at_round_3()
    with pytest.raises(secagg.ProtocolError, match="lists it as dropped"):
        clients[1].unmask(messages.UnmaskRequest(1, (0, 2, 3), (1,)))


def test_a_tampered_share_fails_authentication():
    clients, forwarded = _clients_at_round_3()
    e = forwarded[0].shares[0]
    forged = messages.EncryptedShare(e.sender, e.recipient, e.nonce,
                                     bytes([e.ciphertext[0] ^ 1]) + e.ciphertext[1:])
    clients[0]._received[e.sender] = forged  # the server altered it in transit
    with pytest.raises(secagg.ProtocolError, match="cannot authenticate"):
        clients[0].unmask(messages.UnmaskRequest(0, (0, 1, 2, 3), ()))


def mpc_share():
    return ShamirBytesShare(1, (5, 6, 7), 2, 32)


def test_a_share_cannot_be_read_under_another_pair_key():
    run = secagg.simulate(np.zeros((3, 1)), threshold=2, seed=0, transcript=True)
    e = run.transcript.share_keys[0].shares[0]
    assert len(e.ciphertext) == 112 + 16  # 2 ids, 2 shares of (x + 3 field elements), GCM tag
    rng = np.random.default_rng(0)
    a, b, c = (keys.generate_keypair(rng) for _ in range(3))
    k_ab = keys.agree(a.private, b.public, label=keys.CHANNEL_LABEL)
    k_ac = keys.agree(a.private, c.public, label=keys.CHANNEL_LABEL)
    sealed = channel.seal_shares(k_ab, sender=0, recipient=1, mask_key_share=mpc_share(),
                                 self_mask_share=mpc_share(), rng=rng)
    assert channel.open_shares(k_ab, sealed, recipient=1, t=2, length=32)[0] == mpc_share()
    with pytest.raises(secagg.ProtocolError, match="cannot authenticate"):
        channel.open_shares(k_ac, sealed, recipient=1, t=2, length=32)
    with pytest.raises(secagg.ProtocolError, match="redirected"):
        channel.open_shares(k_ab, sealed, recipient=2, t=2, length=32)


# --- costs ---------------------------------------------------------------------------------


def test_costs_are_counted_for_every_round_and_party():
    d, n = 50, 6
    result = secagg.simulate(np.zeros((n, d)), threshold=4, dropouts={5: 2}, seed=0)
    report = result.costs
    assert [r.round for r in report.rounds] == [0, 1, 2, 3]
    for r in report.rounds:
        assert r.server_seconds > 0 and r.server_bytes_received > 0
        assert all(s > 0 for s in r.client_seconds.values())
        assert all(b > 0 for b in r.client_bytes_sent.values())
    assert len(report.rounds[2].client_seconds) == n - 1  # client 5 did not work in round 2
    # Sizes from the wire layout: keys 4 + 2·32; shares 4 + (n−1)·(8 + 12 + 128); y 4 + d·4.
    assert set(report.rounds[0].client_bytes_sent.values()) == {68}
    assert set(report.rounds[1].client_bytes_sent.values()) == {4 + (n - 1) * 148}
    assert set(report.rounds[2].client_bytes_sent.values()) == {4 + 4 * d}
    assert report.rounds[2].server_bytes_received == (n - 1) * (4 + 4 * d)
    assert report.server_seconds > 0 and report.client_seconds > 0
    assert len(report.table()) == 4 and "unmasking" in str(report)


def test_secaggplus_client_bytes_grow_with_k_not_n():
    def share_bytes(n, k):
        r = secagg.simulate(np.zeros((n, 2)), threshold=n // 2 + 1 if k is None else k // 2 + 1,
                            neighbours=k, seed=0)
        return r.costs.rounds[1].client_bytes_sent, r.costs.max_client_bytes_sent

    (small, _), (large, _) = share_bytes(9, 4), share_bytes(21, 4)
    assert set(small.values()) == set(large.values()) == {4 + 4 * 148}
    assert share_bytes(21, 8)[1] > share_bytes(21, 4)[1]
    assert share_bytes(21, None)[1] > share_bytes(9, None)[1] > share_bytes(9, 4)[1]


# --- building blocks -----------------------------------------------------------------------


def test_prg_is_deterministic_and_masks_cancel():
    seed = bytes(range(32))
    m = prg.expand(seed, length=1000, bits=20)
    assert m.dtype == np.uint64 and m.max() < 2**20
    np.testing.assert_array_equal(m, prg.expand(seed, length=1000, bits=20))
    assert (m != prg.expand(bytes(32), length=1000, bits=20)).mean() > 0.99
    acc = np.arange(1000, dtype=np.uint64)
    prg.add_mask(acc, seed, sign=1)
    prg.add_mask(acc, seed, sign=-1)
    np.testing.assert_array_equal(acc, np.arange(1000, dtype=np.uint64))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: prg.expand(b"short", length=4, bits=8), "seed must be 32 bytes.*Got 5 bytes"),
        (lambda: prg.expand(bytes(32), length=0, bits=8), "length must be a positive integer"),
        (lambda: prg.expand(bytes(32), length=4, bits=65), r"bits must be an integer in \[1, 64\]"),
        (lambda: prg.add_mask(np.zeros(3, np.int64), bytes(32)), "acc must be a 1-D uint64"),
        (lambda: prg.add_mask(np.zeros(3, np.uint64), bytes(32), sign=2), "sign must be"),
    ],
)
def test_prg_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_key_agreement_is_symmetric_and_labelled():
    rng = np.random.default_rng(0)
    a, b = keys.generate_keypair(rng), keys.generate_keypair(rng)
    mask = keys.agree(a.private, b.public, label=keys.MASK_LABEL)
    assert mask == keys.agree(b.private, a.public, label=keys.MASK_LABEL)
    assert mask != keys.agree(a.private, b.public, label=keys.CHANNEL_LABEL)
    assert keys.private_key_from_bytes(a.private_bytes).public == a.public
    with pytest.raises(ValueError, match="peer_public must be a 32-byte"):
        keys.agree(a.private, b"x", label=keys.MASK_LABEL)


@pytest.mark.parametrize(("n", "k"), [(5, 2), (10, 4), (11, 10), (30, 6)])
def test_harary_graph_is_k_regular_and_symmetric(n, k):
    g = secagg.harary_graph(n, k, rng=0)
    assert all(len(nb) == k and u not in nb for u, nb in enumerate(g.neighbours))
    assert all(u in g.neighbours[v] for u in range(n) for v in g.neighbours[u])
    assert len(g.edges()) == n * k // 2
    assert g.neighbourhood(0) == g.neighbours[0] | {0}


def test_harary_graph_labels_are_random():
    graphs = {secagg.harary_graph(12, 4, rng=s).neighbours for s in range(5)}
    assert len(graphs) == 5


# --- bad inputs ----------------------------------------------------------------------------

X3 = [[0.1, 0.2], [0.3, -0.4], [0.0, 0.5]]


@pytest.mark.parametrize(
    ("updates", "kwargs", "match"),
    [
        (X3, {"threshold": 1}, r"threshold must be an integer in \[2, 3\].*Got threshold=1"),
        (X3, {"threshold": 4}, r"threshold must be an integer in \[2, 3\].*Got threshold=4"),
        (X3, {"threshold": 2.5}, r"threshold must be an integer in \[2, 3\].*Got threshold=2.5"),
        ([[0.1] * 3, [0.2] * 3, [0.3] * 3, [0.4] * 3, [0.5] * 3], {"threshold": 1, "neighbours": 2},
         r"threshold must be an integer in \[2, 3\]: t > \(h \+ n_C\)/2 = \(3 \+ 0\)/2 = 1.5 for h = 3 share "
         r"holders \(each client and its k = 2 neighbours"),
        ([[0.1] * 3] * 5, {"threshold": 4, "neighbours": 2}, r"each client and its k = 2 neighbours"),
        ([[0.1, 0.2, 0.3], [0.1, 0.2]], {"threshold": 2},
         r"updates\[0\] has 3 values but updates\[1\] has 2"),
        ([[0.1, 0.2], [float("nan"), 0.0]], {"threshold": 2}, r"updates\[1\]\[0\] = nan is not finite"),
        ([[0.1, 0.2], [np.inf, 0.0]], {"threshold": 2}, r"updates\[1\]\[0\] = inf is not finite"),
        ([[0.1, 1.5], [0.0, 0.0]], {"threshold": 2},
         r"updates\[0\]\[1\] = 1.5 is outside clip_range \[-1.0, 1.0\].*clip=True"),
        ([[0.1, 0.2]], {"threshold": 1}, "at least 2 clients"),
        ([[[0.1]], [[0.2]]], {"threshold": 2}, r"updates\[0\] must be a non-empty 1-D vector"),
        ([[], []], {"threshold": 2}, r"updates\[0\] must be a non-empty 1-D vector"),
        ([["a"], ["b"]], {"threshold": 2}, r"updates\[0\] must hold real numbers"),
        ("not updates", {"threshold": 2}, "updates must be a list"),
        (X3, {"threshold": 2, "dropouts": {7: 2}}, r"dropouts names client 7, but the clients are 0..2"),
        (X3, {"threshold": 2, "dropouts": {-1: 2}}, "dropouts names client -1"),
        (X3, {"threshold": 2, "dropouts": {1: 4}}, r"dropouts\[1\] = 4 is not a round"),
        (X3, {"threshold": 2, "dropouts": [1]}, "dropouts must be a dict"),
        ([[0.1]] * 6, {"threshold": 3, "neighbours": 3}, r"neighbours must be an even integer in \[2, 5\]"),
        ([[0.1]] * 6, {"threshold": 3, "neighbours": 6}, r"neighbours must be an even integer in \[2, 5\].*Got neighbours=6"),
        ([[0.1]] * 6, {"threshold": 3, "neighbours": 0}, r"neighbours must be an even integer"),
        ([[0.1]] * 6, {"threshold": 3, "neighbours": "4"}, r"neighbours must be an even integer.*'4'"),
        ([[0.1]] * 2, {"threshold": 2, "neighbours": 2}, "use neighbours=None"),
        (X3, {"threshold": 2, "clip_range": -1.0}, "clip_range must be a positive number"),
        (X3, {"threshold": 2, "bits": 8}, "does not fit in bits=8"),
        ([[0.5]] * 40_000, {"threshold": 20_001, "bits": 16, "frac_bits": 0}, "num_clients=40000 could overflow"),
    ],
)
def test_bad_inputs_are_named(updates, kwargs, match):
    with pytest.raises(ValueError, match=match):
        secagg.simulate(updates, seed=0, **kwargs)


def test_bad_seed_is_named():
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        secagg.simulate(X3, threshold=2, seed=-1)


def test_clip_true_clamps_explicitly():
    result = secagg.simulate([[0.5, 3.0], [-2.0, 0.25]], threshold=2, clip=True, seed=0)
    np.testing.assert_array_equal(result.sum, [-0.5, 1.25])


def test_seed_none_uses_os_randomness_and_still_sums():
    result = secagg.simulate(X3, threshold=2, dropouts={0: 2}, seed=None)
    np.testing.assert_array_equal(result.encoded_sum, encoded_sum(result, X3))


def test_messages_print_short():
    result = secagg.simulate(X3, threshold=2, seed=0, transcript=True)
    text = repr(result.transcript.share_keys[0])
    assert text.startswith("ShareKeys(sender=0, shares=(EncryptedShare(sender=0, recipient=1")
    assert "<128 B" in text
    assert "private state hidden" in repr(secagg.Client(0, np.zeros(1, np.uint64),
                                                        params=secagg.ProtocolParams(threshold=1, bits=8, length=1), rng=0))
    assert "t=2" in repr(server.Server(params=secagg.ProtocolParams(threshold=2, bits=8, length=1),
                                       graph=secagg.complete_graph(3)))
    assert client.ROUND_NAMES[2] == "masked input collection"
