"""Which Shamir threshold is safe against a lying server with colluders, and SecAgg+'s graph risk.

The oracle for the threshold rule is the protocol itself: the split-story
attack is run on real clients (who refuse what the protocol says they must),
and it succeeds exactly where ``check_threshold`` refuses.
"""

from __future__ import annotations

import doctest
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from ppml_helpers import secagg
from ppml_helpers.secagg import attacks, threshold


@pytest.mark.parametrize("module", [threshold, attacks])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


def _updates(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 3)).round(3)


CASES = [(n, t, c) for n in range(3, 7) for t in range(1, n + 1) for c in range(n - 1)]


@pytest.mark.parametrize(("n", "t", "c"), CASES)
def test_the_split_attack_works_exactly_where_the_threshold_is_refused(n, t, c):
    x = _updates(n, seed=n * 100 + t * 10 + c)
    result = secagg.split_story_attack(x, threshold=t, colluders=c, seed=n + t + c)
    assert result.succeeded == (2 * t <= n + c)
    if result.succeeded:
        assert np.abs(result.recovered - x[-1]).max() <= 2.0**-16
    else:
        assert min(result.mask_key_shares, result.self_mask_shares) < t
    try:
        secagg.check_threshold(t, n, colluders=c)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (not result.succeeded)


def test_the_issue_case_one_colluder_breaks_three_of_five():
    """n = 5, t = 3 (safe with no colluder) falls to one colluder; t = 4 holds."""
    x = _updates(5)
    assert not secagg.split_story_attack(x, threshold=3, colluders=0, seed=1).succeeded
    broken = secagg.split_story_attack(x, threshold=3, colluders=1, seed=1)
    assert broken.succeeded and broken.colluders == (0,)
    assert set(broken.told_dropped).isdisjoint(broken.told_survived)
    assert np.allclose(broken.recovered, x[4], atol=2.0**-16)
    assert not secagg.split_story_attack(x, threshold=4, colluders=1, seed=1).succeeded


def test_honest_clients_in_the_attack_never_reveal_both_secrets():
    x = _updates(5)
    result = secagg.split_story_attack(x, threshold=3, colluders=1, seed=2)
    honest = set(result.told_dropped) | set(result.told_survived)
    assert honest.isdisjoint(result.colluders) and len(honest) + len(result.colluders) == 5


def test_simulate_refuses_an_unsafe_threshold_naming_n_t_colluders_and_the_smallest_safe_t():
    with pytest.raises(ValueError, match=r"\(5 \+ 1\)/2 = 3.*n_C = 1.*Got threshold=3.*smallest safe threshold is 4"):
        secagg.simulate(_updates(5), threshold=3, colluders=1, seed=0)
    run = secagg.simulate(_updates(5), threshold=4, colluders=1, dropouts={2: 2}, seed=0)
    assert run.included == (0, 1, 3, 4)


def test_secaggplus_counts_colluders_per_neighbourhood():
    with pytest.raises(ValueError, match=r"h = 5 share holders \(each client and its k = 4 neighbours"):
        secagg.simulate(_updates(9), threshold=3, neighbours=4, colluders=1, seed=0)
    secagg.simulate(_updates(9), threshold=4, neighbours=4, colluders=1, seed=0)


@pytest.mark.parametrize(("h", "c", "expected"), [(5, 0, 3), (5, 1, 4), (5, 2, 4), (6, 0, 4), (100, 33, 67)])
def test_smallest_safe_threshold(h, c, expected):
    assert secagg.smallest_safe_threshold(h, c) == expected
    assert expected > (h + c) / 2 >= expected - 1


def test_all_but_one_colluding_leaves_only_t_equal_h():
    assert secagg.check_threshold(4, 4, colluders=3) == 4
    with pytest.raises(ValueError, match=r"an integer in \[4, 4\].*smallest safe threshold is 4"):
        secagg.check_threshold(3, 4, colluders=3)


def test_threshold_range_is_every_t_meeting_both_rules():
    for n, d, c in itertools.product(range(2, 12), range(11), range(11)):
        if d >= n or c >= n:
            with pytest.raises(ValueError):
                secagg.threshold_range(n, dropouts=d, colluders=c)
            continue
        expected = [t for t in range(1, n + 1) if 2 * t > n + c and n - t >= d]
        assert list(secagg.threshold_range(n, dropouts=d, colluders=c)) == expected, (n, d, c)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: secagg.threshold_range(10, dropouts=-1, colluders=0), r"dropouts must be an integer in \[0, 9\].*-1"),
        (lambda: secagg.threshold_range(10, dropouts=0, colluders=1.5), r"colluders must be an integer.*1.5"),
        (lambda: secagg.threshold_range(1, dropouts=0, colluders=0), r"num_clients must be an integer in \[2"),
        (lambda: secagg.check_threshold(3, 5, colluders=5), r"colluders must be an integer in \[0, 4\]"),
        (lambda: secagg.check_threshold("3", 5), r"threshold must be an integer in \[3, 5\].*'3'"),
        (lambda: secagg.check_threshold(6, 5), r"above the 5 holders"),
        (lambda: secagg.split_story_attack(_updates(4), threshold=0, colluders=0, seed=0), r"threshold must be"),
        (lambda: secagg.split_story_attack(_updates(4), threshold=2, colluders=4, seed=0), r"colluders must be"),
        (lambda: secagg.split_story_attack(_updates(4), threshold=2, colluders=0, victim=4, seed=0), r"victim must"),
        (lambda: secagg.neighbourhood_risk(100, 14, 16, 33, lying_server=False), r"threshold must be"),
        (lambda: secagg.neighbourhood_risk(100, 100, 10, 33, lying_server=False), r"neighbours must be"),
    ],
)
def test_bad_inputs_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- SecAgg+: the random graph's risk ---------------------------------------------------------


def test_neighbourhood_risk_is_the_hypergeometric_tail_with_its_union_bound():
    r = secagg.neighbourhood_risk(100, 14, 10, 33, lying_server=False)
    assert r.needed == 10
    assert r.per_client == pytest.approx(sum(
        math.comb(33, j) * math.comb(66, 14 - j) for j in range(10, 15)) / math.comb(99, 14), rel=1e-9)
    assert r.expected_exposed == pytest.approx(67 * r.per_client)
    lying = secagg.neighbourhood_risk(100, 14, 10, 33, lying_server=True)
    assert lying.needed == 2 * 10 - 15 and lying.per_client > r.per_client
    assert lying.union_bound == 1.0 and lying.expected_exposed > 1


def test_neighbourhood_risk_matches_a_monte_carlo_on_the_real_graph():
    """Per-client exposure on harary_graph with colluders fixed first: the exact tail, within 4 sd."""
    n, k, t, c, trials = 40, 8, 6, 10, 4000
    rng = np.random.default_rng(7)
    corrupt = set(range(c))
    hits = 0
    for _ in range(trials):
        g = secagg.harary_graph(n, k, rng=rng)
        hits += len(g.neighbours[n - 1] & corrupt) >= t
    p = secagg.neighbourhood_risk(n, k, t, c, lying_server=False).per_client
    assert p == pytest.approx(stats.hypergeom(n - 1, c, k).sf(t - 1))
    assert abs(hits / trials - p) <= 4 * math.sqrt(p * (1 - p) / trials) + 1 / trials
