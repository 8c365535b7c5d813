"""ppml_helpers.remote (appendix A2): the permuted mock, the differencing attack, the noisy
mean, the budget ledger; exact oracles where they exist, fixed seeds and stated tolerances
otherwise, and every documented bad input."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from ppml_helpers import remote


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"id": np.arange(200), "x": rng.normal(size=200), "flag": rng.integers(0, 2, 200),
                         "site": rng.choice(["a", "b"], 200).astype(object)})


# --- permuted_mock ----------------------------------------------------------------------


def test_mock_keeps_columns_values_and_dtypes_but_not_records(table):
    mock = remote.permuted_mock(table, np.random.default_rng(1))
    assert list(mock.columns) == list(table.columns) and list(mock.dtypes) == list(table.dtypes)
    for col in table.columns:
        assert sorted(mock[col].tolist()) == sorted(table[col].tolist())
    real = set(table.itertuples(index=False))
    assert sum(row in real for row in mock.itertuples(index=False)) <= 2


def test_mock_repeats_with_the_seed_and_leaves_the_table_alone(table):
    before = table.copy()
    a = remote.permuted_mock(table, np.random.default_rng(3))
    b = remote.permuted_mock(table, np.random.default_rng(3))
    c = remote.permuted_mock(table, np.random.default_rng(4))
    assert a.equals(b) and not a.equals(c) and table.equals(before)


def test_mock_breaks_the_relation_between_columns():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    private = pd.DataFrame({"x": x, "y": x + 0.1 * rng.normal(size=2000)})
    mock = remote.permuted_mock(private, np.random.default_rng(1))
    assert private["x"].corr(private["y"]) > 0.99
    assert abs(mock["x"].corr(mock["y"])) < 0.1  # 0 in expectation; sd about 1/sqrt(2000)


@pytest.mark.parametrize(("private", "rng", "match"), [
    (np.zeros((3, 2)), np.random.default_rng(0), "DataFrame"),
    (pd.DataFrame({"a": [1]}), 0, "Generator"),
])  # fmt: skip
def test_mock_bad_input(private, rng, match):
    with pytest.raises(TypeError, match=match):
        remote.permuted_mock(private, rng)


# --- recover_excluded -------------------------------------------------------------------


def test_recovery_of_one_record_is_exact_for_a_whole_row(table):
    numeric = table[["id", "x", "flag"]].astype(float)
    others = numeric.drop(index=17)
    got = remote.recover_excluded(numeric.mean(), len(numeric), others.mean(), len(others))
    np.testing.assert_allclose(got.to_numpy(), numeric.loc[17].to_numpy(), atol=1e-10)


def test_recovery_of_a_group_is_its_mean():
    v = np.arange(10.0)
    assert remote.recover_excluded(v.mean(), 10, v[:7].mean(), 7) == pytest.approx(8.0)


@pytest.mark.parametrize(("n_all", "n_without"), [(5, 5), (5, 6), (5, -1), (5.0, 4), (True, 0), (5, 4.5)])
def test_recovery_bad_counts(n_all, n_without):
    with pytest.raises(ValueError, match="n_"):
        remote.recover_excluded(1.0, n_all, 1.0, n_without)


# --- dp_mean ----------------------------------------------------------------------------


def test_dp_mean_is_centred_on_the_clamped_mean_with_laplace_spread():
    values = np.array([-5.0, 0.2, 0.4, 0.6, 3.0] * 20)  # clamped to [0, 1]: mean 0.44
    rng = np.random.default_rng(0)
    draws = np.array([remote.dp_mean(values, 0.0, 1.0, 0.5, rng) for _ in range(4000)])
    scale = 1.0 / (100 * 0.5)
    assert abs(draws.mean() - 0.44) < 5 * scale * math.sqrt(2) / math.sqrt(4000)  # 5 standard errors
    assert np.abs(draws - 0.44).mean() == pytest.approx(scale, rel=0.08)  # E|Laplace(b)| = b


@pytest.mark.parametrize(("values", "lower", "upper", "eps", "match"), [
    ([], 0.0, 1.0, 1.0, "empty"),
    ([1.0], 1.0, 1.0, 1.0, "lower < upper"),
    ([1.0], 0.0, 1.0, 0.0, "epsilon"),
    ([1.0], 0.0, 1.0, math.inf, "epsilon"),
])  # fmt: skip
def test_dp_mean_bad_input(values, lower, upper, eps, match):
    with pytest.raises(ValueError, match=match):
        remote.dp_mean(values, lower, upper, eps, np.random.default_rng(0))


# --- differencing_success ---------------------------------------------------------------


def test_exact_releases_always_reveal_the_value():
    others = np.random.default_rng(0).integers(0, 2, 568)
    assert remote.differencing_success(others, math.inf, 1000, np.random.default_rng(1)) == 1.0


@pytest.mark.parametrize("epsilon", [0.1, 1.0, 3.0])
def test_noisy_releases_stay_under_the_dp_bound(epsilon):
    others = np.random.default_rng(0).integers(0, 2, 568)
    rate = remote.differencing_success(others, epsilon, 20_000, np.random.default_rng(2))
    bound = math.exp(epsilon) / (1 + math.exp(epsilon))
    assert 0.45 < rate <= bound + 3 * math.sqrt(0.25 / 20_000)  # 3 standard errors above the bound


def test_differencing_bad_input():
    with pytest.raises(ValueError, match="0/1"):
        remote.differencing_success([0, 2], 1.0, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="trials"):
        remote.differencing_success([0, 1], 1.0, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="epsilon"):
        remote.differencing_success([0, 1], -1.0, 10, np.random.default_rng(0))


# --- approve_within_budget --------------------------------------------------------------


def test_ledger_spends_only_what_it_approves():
    assert remote.approve_within_budget([0.5, 2.0, 0.5, 0.4, 0.2], 1.5) == [True, False, True, True, False]
    assert remote.approve_within_budget([0.1, 0.2], 0.3) == [True, True]
    assert remote.approve_within_budget([], 1.0) == []


@pytest.mark.parametrize(("epsilons", "budget", "match"), [
    ([1.0], 0.0, "budget"), ([1.0], math.nan, "budget"), ([1.0, -0.1], 1.0, r"epsilons\[1\]"),
    ([True], 1.0, r"epsilons\[0\]"),
])  # fmt: skip
def test_ledger_bad_input(epsilons, budget, match):
    with pytest.raises(ValueError, match=match):
        remote.approve_within_budget(epsilons, budget)


# --- deadline ---------------------------------------------------------------------------


def test_deadline_stops_a_hung_block_with_a_message():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="launching the Datasite took more than 1 s"):
        with remote.deadline(1, "launching the Datasite"):
            time.sleep(30)
    assert time.monotonic() - start < 10


def test_deadline_lets_a_quick_block_through_and_disarms():
    with remote.deadline(1, "a quick step"):
        value = 42
    time.sleep(1.5)  # the alarm was cancelled: nothing fires after the block
    assert value == 42


@pytest.mark.parametrize("seconds", [0, -1, 1.5, True])
def test_deadline_bad_seconds(seconds):
    with pytest.raises(ValueError, match="seconds"):
        with remote.deadline(seconds, "x"):
            pass
