"""Self-checks for ``A2_pysyft`` (the PySyft appendix).

They run without PySyft and without torch (the appendix kernel has neither the course's
torch nor the course's other dependencies): each takes the learner's function, calls it
on tables and numbers of its own, and compares with :mod:`ppml_helpers.remote`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..remote import approve_within_budget, recover_excluded
from ._core import CheckResult, LearnerError, call_learner, check, failed, passed

__all__ = ["check_approve_within_budget", "check_make_mock", "check_recover_excluded"]


# ---------------------------------------------------------------- A2.1


def _check_table(n: int = 400, seed: int = 7) -> pd.DataFrame:
    """A small private table: a record number, integers, strings, a 0/1 flag, floats."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "record": np.arange(1000, 1000 + n),
        "age": rng.integers(30, 85, n),
        "site": rng.choice(["north", "south", "east"], n).astype(object),
        "malignant": rng.integers(0, 2, n),
        "radius": np.round(rng.normal(14.0, 3.5, n), 3),
    })  # fmt: skip


def _real_rows(private: pd.DataFrame, mock: pd.DataFrame) -> int:
    """How many of the mock's rows are a record of the private table, all columns equal."""
    keys = {tuple(row) for row in private.astype(object).itertuples(index=False)}
    return sum(tuple(row) in keys for row in mock.astype(object).itertuples(index=False))


@check
def check_make_mock(make_mock) -> CheckResult:
    """Check ``make_mock(private, rng)``: a DataFrame with the private table's columns,
    dtypes and length, each column holding exactly the private column's values, under 5 %
    of its rows equal to a real record, the private table left unchanged, and the same
    mock again for the same seed (drawn from ``rng``)."""
    ex = "A2.1"
    private = _check_table()
    original = private.copy()
    mock = call_learner(ex, make_mock, private, np.random.default_rng(11))
    if not isinstance(mock, pd.DataFrame):
        return failed(ex, f"expected a pandas DataFrame, got {type(mock).__name__}.",
                      "Build the mock as a DataFrame with the same columns as the private one.")
    if not private.equals(original):
        return failed(ex, "your function changed the private table it was given.",
                      "Build a new DataFrame; do not shuffle the private table's columns in place.")
    if list(mock.columns) != list(private.columns) or len(mock) != len(private):
        return failed(ex, f"the mock has columns {list(mock.columns)} and {len(mock)} rows; the private "
                          f"table has {list(private.columns)} and {len(private)}.",
                      "Code written against the mock must run on the private table: same columns, "
                      "same number of rows.")
    for col in private.columns:
        if Counter(mock[col].tolist()) != Counter(private[col].tolist()):
            return failed(ex, f"column {col!r} of the mock does not hold the private column's values.",
                          "Keep each column's values and change only their order, so every "
                          "column's distribution stays exactly as it is.")
        if mock[col].dtype != private[col].dtype:
            return failed(ex, f"column {col!r} is {mock[col].dtype} in the mock and "
                              f"{private[col].dtype} in the private table.",
                          "Keep each column's dtype (select and reorder, do not convert).")
    real = _real_rows(private, mock)
    if real > 0.05 * len(private):
        if mock.reset_index(drop=True).equals(private.reset_index(drop=True)):
            return failed(ex, "the mock is the private table itself.",
                          "Change the order of each column's values, with the rng you are given.")
        return failed(ex, f"{real} of the mock's {len(mock)} rows are real patients' records.",
                      "Shuffling whole rows keeps every record intact: permute each column on "
                      "its own, so that no row is a real patient.")
    again = call_learner(ex, make_mock, private.copy(), np.random.default_rng(11))
    other = call_learner(ex, make_mock, private.copy(), np.random.default_rng(12))
    if not (isinstance(again, pd.DataFrame) and again.reset_index(drop=True).equals(mock.reset_index(drop=True))):
        return failed(ex, "two calls with the same seed gave different mocks.",
                      "Draw every permutation from the rng argument (rng.permutation), not from "
                      "np.random or random.")
    if isinstance(other, pd.DataFrame) and other.reset_index(drop=True).equals(mock.reset_index(drop=True)):
        return failed(ex, "two different seeds gave the same mock.",
                      "Draw every permutation from the rng argument.")
    return passed(ex, f"every column keeps its values and dtype; real records among the mock's "
                      f"{len(mock)} rows: {real}; the same seed gives the same mock.")


# ---------------------------------------------------------------- A2.2


def _recover_cases():
    rng = np.random.default_rng(3)
    radius = np.round(rng.normal(14.0, 3.5, 569), 3)
    table = pd.DataFrame({"radius": radius, "malignant": (radius > 15).astype(float),
                          "texture": np.round(rng.normal(19.0, 4.0, 569), 3)})
    keep_one = np.ones(569, bool)
    keep_one[17] = False
    keep_three = np.ones(569, bool)
    keep_three[[3, 40, 400]] = False
    return [
        (float(radius.mean()), 569, float(radius[keep_one].mean()), 568, "one patient's radius"),
        (table.mean(), 569, table[keep_one].mean(), 568, "one patient's record (a Series of means)"),
        (float(radius.mean()), 569, float(radius[keep_three].mean()), 566,
         "three patients left out"),
        (table.to_numpy().mean(0), 569, table[keep_three].to_numpy().mean(0), 566,
         "three patients, an array of column means"),
    ]


def _as_vector(value):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


@check
def check_recover_excluded(recover_excluded_fn) -> CheckResult:
    """Check ``recover_excluded(mean_all, n_all, mean_without, n_without)``: the mean of the
    ``n_all - n_without`` records left out of the second mean, to 1e-9, on a number, a
    pandas Series and a NumPy array of means, with one and with three records left out."""
    ex = "A2.2"
    for mean_all, n_all, mean_without, n_without, what in _recover_cases():
        try:
            raw = call_learner(ex, recover_excluded_fn, mean_all, n_all, mean_without, n_without)
        except LearnerError as err:
            if not err.result.attempted or np.ndim(mean_all) == 0:
                raise
            return failed(ex, f"for {what}: {err.result.message}",
                          "The means can be a pandas Series or a NumPy array (one per column): use "
                          "arithmetic that works on numbers, Series and arrays alike (no float()).")
        got = _as_vector(raw)
        want = np.asarray(recover_excluded(mean_all, n_all, mean_without, n_without), dtype=np.float64)
        if got is None or got.shape != want.shape:
            return failed(ex, f"for {what} expected {'one number' if want.ndim == 0 else f'{want.size} numbers'}"
                              f", got {got!r}.",
                          "Use arithmetic that works on numbers, Series and arrays alike (no float()).")
        if np.allclose(got, want, rtol=1e-9, atol=1e-9):
            continue
        message = f"for {what} your value differs from the excluded records' mean."

        def same(formula, got=got) -> bool:
            return np.allclose(got, np.asarray(formula, dtype=np.float64), rtol=1e-9, atol=1e-9)

        k = n_all - n_without
        if same(np.asarray(mean_all) - np.asarray(mean_without)):
            return failed(ex, message, "The two means are over different numbers of records: "
                                       "turn each back into a sum before subtracting.")
        if same(n_all * (np.asarray(mean_all) - np.asarray(mean_without))):
            return failed(ex, message, "The second mean is over n_without records, not n_all: "
                                       "multiply each mean by its own count.")
        if k > 1 and same(n_all * np.asarray(mean_all) - n_without * np.asarray(mean_without)):
            return failed(ex, message + f" That is the sum of the {k} records left out.",
                          "Divide the left-out sum by the number of records left out.")
        return failed(ex, message, "sum over everyone − sum over the others = the left-out records' "
                                   "sum; then divide by how many they are.")
    return passed(ex, "the excluded records' mean from two exact means: one patient's value, "
                      "a whole record, and a group of three.")


# ---------------------------------------------------------------- A2.3

_BUDGET_CASES = [
    ([1.0, 1.0, 1.0], 2.5),
    ([3.0], 2.0),
    ([], 1.0),
    ([1.0, 1.0], 2.0),
    ([0.5, 2.0, 0.5, 0.4], 1.5),
    ([0.1, 0.2, 0.05], 0.3),
    ([0.25, 1.0, 0.25, 0.25, 0.3, 0.2], 1.0),
]


def _as_decisions(got, n: int):
    if isinstance(got, (str, bytes)) or not isinstance(got, (Sequence, np.ndarray)) or len(got) != n:
        return None
    if not all(isinstance(x, (bool, np.bool_)) for x in got):
        return None
    return [bool(x) for x in got]


@check
def check_approve_within_budget(approve_within_budget_fn) -> CheckResult:
    """Check ``approve_within_budget(epsilons, budget)``: one True/False per request, in
    order, approving while the spent ε plus the request's stays within the budget (equal
    allowed, to a relative 1e-9), denied requests spending nothing; on seven ledgers."""
    ex = "A2.3"
    for epsilons, budget in _BUDGET_CASES:
        raw = call_learner(ex, approve_within_budget_fn, list(epsilons), budget)
        got = _as_decisions(raw, len(epsilons))
        case = f"requests ε = {epsilons} against a budget of {budget}"
        if got is None:
            return failed(ex, f"for {case} expected a list of {len(epsilons)} True/False, got {raw!r}.",
                          "Return one bool per request, in the order they arrived.")
        want = approve_within_budget(epsilons, budget)
        if got == want:
            continue
        message = f"for {case} you returned {got}."
        first = next(i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
        spent = sum(e for e, ok in zip(epsilons[:first], want[:first], strict=True) if ok)
        if want[first] and not any(got[first:]) and any(not w for w in want[:first]):
            return failed(ex, message, "A denied request spends nothing: a later, smaller request "
                                       "may still fit in what is left.")
        if want[first] and math.isclose(spent + epsilons[first], budget, rel_tol=1e-9):
            if spent + epsilons[first] == budget:
                return failed(ex, message, "A total equal to the budget is within it (≤, not <).")
            return failed(ex, message, "0.1 + 0.2 is not exactly 0.3 in floating point: compare "
                                       "with a small relative tolerance (math.isclose).")
        if got[first] and not want[first]:
            return failed(ex, message, "Approve only if what is already spent plus this request's "
                                       "ε stays within the budget.")
        return failed(ex, message, "Keep a running total of the ε of approved requests only.")
    return passed(ex, "seven ledgers: exact totals, floating-point sums and denied requests that "
                      "leave room for later ones.")
