"""Auditing a DP claim: run the mechanism many times with and without a canary, bound ε from below.

A DP guarantee is a statement about every pair of neighbouring datasets, so
one pair (D, D + canary) where a test tells the outputs apart too well
refutes it. The harness runs the mechanism ``trials`` times on each side,
picks the test's threshold on separate calibration runs (choosing it on the
same runs that are counted would bias the bound upward), and turns the counts
into :func:`~ppml_helpers.mia.bounds.epsilon_lower_bound`. An audit can prove
that a claim is false, never that it is true; and with M runs per side the
largest ε it can certify is about ln(M / ln(2/α)), however broken the
mechanism. Introduced in ``05_membership_inference``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..config import check_seed
from .bounds import EpsilonBound, epsilon_lower_bound
from .metrics import check_scores

__all__ = ["AuditResult", "audit_mechanism", "max_certifiable_epsilon"]

#: ``mechanism(with_canary, runs, rng)`` -> one score per run (higher = "canary in").
Mechanism = Callable[[bool, int, np.random.Generator], np.ndarray]


class AuditResult(NamedTuple):
    """Result of :func:`audit_mechanism`.

    Attributes:
        bound: the ε lower bound with its Clopper–Pearson intervals.
        threshold: the score above which the test says "canary in", chosen on the
            calibration runs.
        tp, fn, fp, tn: the counts on the evaluation runs.
        trials: evaluation runs per side.
    """

    bound: EpsilonBound
    threshold: float
    tp: int
    fn: int
    fp: int
    tn: int
    trials: int

    @property
    def epsilon_lb(self) -> float:
        return self.bound.epsilon


def max_certifiable_epsilon(trials: int, *, alpha: float, delta: float = 0.0) -> float:
    """The largest ε_LB that ``trials`` runs per side can give: a perfect test (TPR 1, FPR 0)."""
    return epsilon_lower_bound(tp=trials, fn=0, fp=0, tn=trials, alpha=alpha, delta=delta).epsilon


def _counts(inside: np.ndarray, outside: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    tp = int((inside >= threshold).sum())
    fp = int((outside >= threshold).sum())
    return tp, inside.size - tp, fp, outside.size - fp


def _best_threshold(inside: np.ndarray, outside: np.ndarray, *, alpha: float, delta: float) -> float:
    """The candidate threshold whose counts give the largest ε_LB on these (calibration) runs."""
    candidates = np.unique(np.concatenate([inside, outside]))
    if candidates.size > 400:  # quantiles are enough to find the best region
        candidates = np.unique(np.quantile(candidates, np.linspace(0, 1, 401)))
    best, best_eps = math.inf, -1.0
    for t in candidates:
        tp, fn, fp, tn = _counts(inside, outside, t)
        eps = epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, alpha=alpha, delta=delta).epsilon
        if eps > best_eps:
            best, best_eps = float(t), eps
    return best


def audit_mechanism(
    mechanism: Mechanism, *, trials: int, calibration_trials: int | None = None, alpha: float = 0.05,
    delta: float = 0.0, seed: int,
) -> AuditResult:
    """Audit a mechanism: ε_LB from ``trials`` runs with the canary and ``trials`` without.

    Args:
        mechanism: ``mechanism(with_canary, runs, rng)`` returns ``runs`` scores, one per
            independent run of the mechanism on D + canary (``True``) or D (``False``),
            e.g. the projection of a noisy gradient on the canary's gradient.
        trials: evaluation runs per side (M).
        calibration_trials: separate runs per side used only to choose the threshold;
            ``trials`` by default.
        alpha: 1 − confidence of the bound.
        delta: the δ of the claim.
        seed: seeds the runs.

    Raises:
        ValueError: ``trials`` or ``calibration_trials`` below 1, a mechanism returning the
            wrong number of scores or non-finite ones, or a bad ``alpha``/``delta``.
    """
    for name, value in (("trials", trials), ("calibration_trials", calibration_trials)):
        if value is None and name == "calibration_trials":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer. Got {value!r}.")
    calibration = trials if calibration_trials is None else calibration_trials
    epsilon_lower_bound(tp=1, fn=0, fp=0, tn=1, alpha=alpha, delta=delta)  # validates alpha, delta
    rng = np.random.default_rng(check_seed(seed))

    def run(with_canary: bool, runs: int) -> np.ndarray:
        scores = check_scores(mechanism(with_canary, runs, rng), "mechanism output")
        if scores.size != runs:
            raise ValueError(f"mechanism returned {scores.size} scores for {runs} runs.")
        return scores

    threshold = _best_threshold(run(True, calibration), run(False, calibration), alpha=alpha, delta=delta)
    tp, fn, fp, tn = _counts(run(True, trials), run(False, trials), threshold)
    bound = epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, alpha=alpha, delta=delta)
    return AuditResult(bound, threshold, tp, fn, fp, tn, trials)
