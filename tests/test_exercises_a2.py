"""Self-checks of A2_pysyft: right answers pass, typical wrong ones fail with a hint that does
not give the answer, unsolved ones show "not attempted yet". The checks need neither PySyft
nor torch (the appendix kernel has no torch); the learner functions here are written from
the exercise statements, and the references are checked against ppml_helpers.remote."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from exercise_contract import contract_tests

from ppml_helpers import exercises as ex
from ppml_helpers import remote
from ppml_helpers.exercises import a2

# --- A2.1 --------------------------------------------------------------------------------


def mock_right(private, rng):
    return pd.DataFrame({c: rng.permutation(private[c].to_numpy()) for c in private.columns})


def mock_rows_shuffled(private, rng):  # every row is still a real patient
    return private.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)


def mock_copy(private, rng):
    return private.copy()


def mock_in_place(private, rng):
    for c in private.columns:
        private[c] = rng.permutation(private[c].to_numpy())
    return private


def mock_global_rng(private, rng):  # ignores the rng it is given
    return pd.DataFrame({c: np.random.permutation(private[c].to_numpy()) for c in private.columns})


def mock_gaussian(private, rng):  # new values: the marginals change
    out = mock_right(private, rng)
    out["radius"] = rng.normal(out["radius"].mean(), out["radius"].std(), len(out))
    return out


def mock_floats(private, rng):
    out = mock_right(private, rng)
    out["age"] = out["age"].astype(float)
    return out


# --- A2.2 --------------------------------------------------------------------------------


def recover_right(mean_all, n_all, mean_without, n_without):
    return (n_all * mean_all - n_without * mean_without) / (n_all - n_without)


def recover_mean_difference(mean_all, n_all, mean_without, n_without):
    return mean_all - mean_without


def recover_same_count(mean_all, n_all, mean_without, n_without):
    return n_all * (mean_all - mean_without)


def recover_sum_only(mean_all, n_all, mean_without, n_without):
    return n_all * mean_all - n_without * mean_without


def recover_float(mean_all, n_all, mean_without, n_without):  # breaks on a Series of means
    return float((n_all * mean_all - n_without * mean_without) / (n_all - n_without))


# --- A2.3 --------------------------------------------------------------------------------


def ledger_right(epsilons, budget):
    spent, out = 0.0, []
    for e in epsilons:
        ok = spent + e < budget or math.isclose(spent + e, budget, rel_tol=1e-9)
        out.append(ok)
        if ok:
            spent += e
    return out


def ledger_stops_at_first_denial(epsilons, budget):
    spent, out, closed = 0.0, [], False
    for e in epsilons:
        ok = not closed and (spent + e < budget or math.isclose(spent + e, budget, rel_tol=1e-9))
        closed = closed or not ok
        out.append(ok)
        spent += e if ok else 0.0
    return out


def ledger_strict(epsilons, budget):
    spent, out = 0.0, []
    for e in epsilons:
        out.append(spent + e < budget)
        spent += e if out[-1] else 0.0
    return out


def ledger_no_tolerance(epsilons, budget):
    spent, out = 0.0, []
    for e in epsilons:
        out.append(spent + e <= budget)
        spent += e if out[-1] else 0.0
    return out


def ledger_each_alone(epsilons, budget):  # forgets that ε adds up
    return [e <= budget for e in epsilons]


def ledger_ints(epsilons, budget):
    return [int(x) for x in ledger_right(epsilons, budget)]


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests([
    (ex.check_make_mock, mock_right, mock_rows_shuffled),
    (ex.check_recover_excluded, recover_right, recover_mean_difference),
    (ex.check_approve_within_budget, ledger_right, ledger_stops_at_first_denial),
])


@pytest.mark.parametrize(
    ("check", "wrong", "hint_word"),
    [
        (ex.check_make_mock, mock_rows_shuffled, "whole rows"),
        (ex.check_make_mock, mock_copy, "order of each column"),
        (ex.check_make_mock, mock_in_place, "in place"),
        (ex.check_make_mock, mock_global_rng, "rng argument"),
        (ex.check_make_mock, mock_gaussian, "distribution"),
        (ex.check_make_mock, mock_floats, "dtype"),
        (ex.check_recover_excluded, recover_mean_difference, "sum before subtracting"),
        (ex.check_recover_excluded, recover_same_count, "its own count"),
        (ex.check_recover_excluded, recover_sum_only, "Divide"),
        (ex.check_recover_excluded, recover_float, "Series"),
        (ex.check_approve_within_budget, ledger_stops_at_first_denial, "spends nothing"),
        (ex.check_approve_within_budget, ledger_strict, "≤"),
        (ex.check_approve_within_budget, ledger_no_tolerance, "tolerance"),
        (ex.check_approve_within_budget, ledger_each_alone, "already spent"),
        (ex.check_approve_within_budget, ledger_ints, "bool"),
    ],
    ids=lambda v: getattr(v, "__name__", v) if callable(v) else None,
)
def test_typical_mistakes_get_their_own_hint(check, wrong, hint_word):
    result = check(wrong)
    assert not result
    assert hint_word in result.hint, result.hint


def test_hints_never_show_the_formula():
    for wrong in (recover_mean_difference, recover_same_count, recover_sum_only):
        result = ex.check_recover_excluded(wrong)
        assert "n_all * mean_all" not in result.hint and "n_all*mean_all" not in result.hint


def test_reference_mock_passes_and_keeps_every_column():
    assert ex.check_make_mock(lambda private, rng: remote.permuted_mock(private, rng))
    table = a2._check_table()
    mock = remote.permuted_mock(table, np.random.default_rng(0))
    assert list(mock.dtypes) == list(table.dtypes)
    for col in table.columns:
        assert sorted(mock[col].tolist()) == sorted(table[col].tolist())
    assert a2._real_rows(table, mock) <= 1


def test_real_rows_counts_records_not_values():
    table = a2._check_table(n=50)
    assert a2._real_rows(table, table.iloc[::-1]) == 50
    assert a2._real_rows(table, table.iloc[:0]) == 0


@pytest.mark.parametrize("case", range(4))
def test_reference_recovery_is_the_left_out_records_mean(case):
    mean_all, n_all, mean_without, n_without, _ = a2._recover_cases()[case]
    got = np.asarray(remote.recover_excluded(mean_all, n_all, mean_without, n_without), dtype=float)
    assert np.isfinite(got).all()
    # the identity the attack rests on: n_all·mean_all = n_without·mean_without + k·got
    np.testing.assert_allclose(n_all * np.asarray(mean_all, dtype=float),
                               n_without * np.asarray(mean_without, dtype=float) + (n_all - n_without) * got,
                               rtol=1e-12)


def test_reference_recovery_returns_the_patients_value_exactly():
    rng = np.random.default_rng(5)
    values = rng.normal(10, 2, 300)
    mask = np.ones(300, bool)
    mask[123] = False
    got = remote.recover_excluded(values.mean(), 300, values[mask].mean(), 299)
    assert got == pytest.approx(values[123], abs=1e-9)


def test_reference_ledger_on_the_check_cases():
    expected = [[True, True, False], [False], [], [True, True], [True, False, True, True],
                [True, True, False], [True, False, True, True, False, True]]
    assert [remote.approve_within_budget(e, b) for e, b in a2._BUDGET_CASES] == expected
    assert [ledger_right(e, b) for e, b in a2._BUDGET_CASES] == expected
