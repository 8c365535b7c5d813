"""How well a membership score separates members from non-members: the ROC and its summaries.

Carlini et al. (2022) argue for reading attacks at low false-positive rates
(TPR at FPR = 0.1 %, on a log-log ROC) rather than by AUC or accuracy: an
attack that confidently identifies a few members is a privacy failure even
when its average accuracy is near a coin flip. Introduced in
``05_membership_inference``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["RocMetrics", "check_scores", "roc_curve", "roc_metrics", "tpr_at_fpr"]

#: The false-positive rates at which :func:`roc_metrics` reports the true-positive rate.
REPORTED_FPRS = (0.001, 0.01)


class RocMetrics(NamedTuple):
    """Summary of an attack's ROC (higher score = "member").

    Attributes:
        auc: area under the ROC (ties count one half); 0.5 is guessing.
        balanced_accuracy: the best (TPR + TNR) / 2 over all thresholds.
        tpr_at_0_1pct_fpr: the largest TPR at a threshold whose FPR is at most 0.1 %.
        tpr_at_1pct_fpr: the same at FPR ≤ 1 %.
        fpr, tpr, thresholds: the ROC, from the strictest threshold (nothing
            flagged: FPR = TPR = 0) to the loosest (everything flagged).
    """

    auc: float
    balanced_accuracy: float
    tpr_at_0_1pct_fpr: float
    tpr_at_1pct_fpr: float
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def check_scores(scores, name: str) -> np.ndarray:
    """A 1-D float array of finite scores, at least one; otherwise a ValueError naming ``name``."""
    arr = np.asarray(scores, dtype=np.float64) if not hasattr(scores, "detach") else (
        scores.detach().cpu().double().numpy())
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of scores, one per example. Got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: need at least one score.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), "
                         f"first at index {int(np.argmax(bad))}. Scores must be finite.")
    return arr


def roc_curve(member_scores, nonmember_scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact ROC: ``(fpr, tpr, thresholds)``, flagging "member" when score ≥ threshold.

    One point per distinct score (ties move together), plus the origin with
    threshold +inf. Exact: no interpolation, no binning.
    """
    members = check_scores(member_scores, "member_scores")
    nonmembers = check_scores(nonmember_scores, "nonmember_scores")
    scores = np.concatenate([members, nonmembers])
    is_member = np.concatenate([np.ones(members.size), np.zeros(nonmembers.size)])
    order = np.argsort(-scores, kind="mergesort")
    scores, is_member = scores[order], is_member[order]
    last_of_tie = np.r_[np.diff(scores) != 0, True]
    tp = np.cumsum(is_member)[last_of_tie]
    fp = np.cumsum(1 - is_member)[last_of_tie]
    tpr = np.r_[0.0, tp / members.size]
    fpr = np.r_[0.0, fp / nonmembers.size]
    return fpr, tpr, np.r_[math.inf, scores[last_of_tie]]


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """The largest TPR among ROC points with FPR ≤ ``target`` (no interpolation)."""
    if not 0 <= target <= 1:
        raise ValueError(f"target must be a false-positive rate in [0, 1]. Got {target!r}.")
    return float(tpr[fpr <= target].max())


def roc_metrics(member_scores, nonmember_scores) -> RocMetrics:
    """AUC, balanced accuracy, TPR at FPR = 0.1 % and 1 %, and the ROC arrays.

    Args:
        member_scores: one finite score per member (training example); higher = "member".
        nonmember_scores: one finite score per non-member.

    A TPR at 0.1 % FPR needs at least 1,000 non-members to mean anything: with
    fewer, the only threshold with FPR ≤ 0.1 % is the one that flags no
    non-member at all.

    Raises:
        ValueError: an argument that is not a non-empty 1-D array of finite numbers.
    """
    fpr, tpr, thresholds = roc_curve(member_scores, nonmember_scores)
    auc = float(np.trapezoid(tpr, fpr)) if hasattr(np, "trapezoid") else float(np.trapz(tpr, fpr))
    balanced = float(((tpr + 1 - fpr) / 2).max())
    low, one = (tpr_at_fpr(fpr, tpr, f) for f in REPORTED_FPRS)
    return RocMetrics(auc, balanced, low, one, fpr, tpr, thresholds)
