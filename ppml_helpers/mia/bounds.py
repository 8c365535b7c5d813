"""The ε that an attack's counts certify: a lower bound on the privacy loss, from Clopper–Pearson.

If a mechanism is (ε, δ)-DP, every membership test on its output obeys
TPR ≤ e^ε · FPR + δ (Kairouz et al. 2015), so ε ≥ ln((TPR − δ) / FPR). An
audit (Jagielski et al. 2020; Nasr et al. 2021) runs the mechanism many
times with and without a canary, counts the test's outcomes, and turns the
counts into an ε that holds with confidence 1 − α. Introduced in
``05_membership_inference``.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

from scipy import stats

__all__ = ["EpsilonBound", "clopper_pearson", "epsilon_lower_bound"]


class EpsilonBound(NamedTuple):
    """Result of :func:`epsilon_lower_bound`.

    Attributes:
        epsilon: the certified lower bound ε_LB (0 when the counts certify nothing).
        epsilon_point: ln((TPR − δ) / FPR) at the observed rates (inf when FPR = 0): an
            estimate, not a bound.
        tpr, fpr: the observed rates.
        tpr_interval, fpr_interval: their two-sided 1 − α Clopper–Pearson intervals.
    """

    epsilon: float
    epsilon_point: float
    tpr: float
    fpr: float
    tpr_interval: tuple[float, float]
    fpr_interval: tuple[float, float]


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer count. Got {value!r}.")
    return int(value)


def clopper_pearson(successes: int, trials: int, *, alpha: float) -> tuple[float, float]:
    """The exact two-sided 1 − α interval for a binomial proportion (Clopper & Pearson 1934).

    Each end is a one-sided 1 − α/2 bound: lower = Beta(α/2; k, n − k + 1),
    upper = Beta(1 − α/2; k + 1, n − k), with 0 and 1 at the edges.
    """
    k, n = _count(successes, "successes"), _count(trials, "trials")
    if n == 0 or k > n:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1. Got {k} of {n}.")
    _check_alpha(alpha)
    lower = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    upper = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lower, upper


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), e.g. 0.05 for 95 % confidence. Got {alpha!r}.")
    return float(alpha)


def epsilon_lower_bound(*, tp: int, fp: int, tn: int, fn: int, alpha: float, delta: float = 0.0) -> EpsilonBound:
    """The ε that a membership test's counts certify with confidence at least 1 − α.

    The test said "canary in" on ``tp`` of the ``tp + fn`` runs with the
    canary and on ``fp`` of the ``fp + tn`` runs without it. With TPR_lo the
    lower end of the two-sided 1 − α Clopper–Pearson interval for the TPR and
    FPR_hi the upper end of the FPR's (so each is a one-sided 1 − α/2 bound,
    and both hold together with probability at least 1 − α by the union bound):

        ε_LB = max(0, ln((TPR_lo − δ) / FPR_hi)).

    Only this direction is used (the test flags "in"); a test that flags
    "out" better than chance certifies through the complementary inequality
    TNR ≤ e^ε · FNR + δ, which you get by swapping the roles (tp ↔ tn, fp ↔ fn).

    Args:
        tp, fn: runs with the canary flagged in / out.
        fp, tn: runs without the canary flagged in / out.
        alpha: 1 − confidence, in (0, 1).
        delta: the δ of the guarantee being audited, in [0, 1).

    Raises:
        ValueError: a negative or non-integer count, no runs on one side, alpha outside
            (0, 1), delta outside [0, 1).
    """
    tp, fp, tn, fn = (_count(v, n) for v, n in ((tp, "tp"), (fp, "fp"), (tn, "tn"), (fn, "fn")))
    if tp + fn == 0:
        raise ValueError(f"tp + fn must be at least 1 (the runs with the canary). Got tp={tp}, fn={fn}.")
    if fp + tn == 0:
        raise ValueError(f"fp + tn must be at least 1 (the runs without the canary). Got fp={fp}, tn={tn}.")
    alpha = _check_alpha(alpha)
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not 0 <= delta < 1:
        raise ValueError(f"delta must lie in [0, 1). Got {delta!r}.")
    tpr, fpr = tp / (tp + fn), fp / (fp + tn)
    tpr_ci = clopper_pearson(tp, tp + fn, alpha=alpha)
    fpr_ci = clopper_pearson(fp, fp + tn, alpha=alpha)
    numerator = tpr_ci[0] - delta
    epsilon = max(0.0, math.log(numerator / fpr_ci[1])) if numerator > 0 else 0.0
    if tpr - delta <= 0:
        point = 0.0
    elif fpr == 0:
        point = math.inf
    else:
        point = max(0.0, math.log((tpr - delta) / fpr))
    return EpsilonBound(epsilon, point, tpr, fpr, tpr_ci, fpr_ci)
