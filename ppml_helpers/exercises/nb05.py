"""Self-checks for ``05_membership_inference``."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..mia import epsilon_lower_bound, roc_curve, tpr_at_fpr
from ._core import CheckResult, call_learner, check, failed, passed

__all__ = [
    "check_epsilon_from_counts",
    "check_lira_offline",
    "check_loss_scores",
    "check_tpr_at_fpr",
]


def _as_float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@check
def check_tpr_at_fpr(tpr_at) -> CheckResult:
    """Check ``tpr_at(member_scores, nonmember_scores, fpr)``: the largest TPR over thresholds
    (flag score >= t) whose FPR is at most ``fpr``; on three score sets, with ties (exact)."""
    ex = "5.2"
    rng = np.random.default_rng(0)
    cases = [
        (np.round(rng.normal(1, 1, 200), 1), np.round(rng.normal(0, 1, 2000), 1), 0.01),
        (rng.normal(0.3, 1, 500), rng.normal(0, 1, 1000), 0.001),
        (np.array([5.0, 4.0, 3.0, 0.0]), np.array([4.0, 1.0, 0.5, 0.2, 0.1]), 0.2),
    ]
    for members, nonmembers, target in cases:
        got = _as_float(call_learner(ex, tpr_at, members.copy(), nonmembers.copy(), target))
        fpr, tpr, _ = roc_curve(members, nonmembers)
        want = tpr_at_fpr(fpr, tpr, target)
        if got is None:
            return failed(ex, "expected one number, the TPR.", "Return a float between 0 and 1.")
        if abs(got - want) < 1e-12:
            continue
        if got > want:
            return failed(ex, f"{got:.4f} is more than any threshold with FPR <= {target} achieves.",
                          "At your threshold, count the non-members flagged too: their share must "
                          "not exceed the FPR.")
        return failed(ex, f"{got:.4f} is below the best TPR available at FPR <= {target}.",
                      "Try every distinct score as a threshold and keep the best TPR among those "
                      "whose FPR stays within the limit; ties move together.")
    return passed(ex, "the best TPR at a fixed FPR on three score sets, ties included.")


def _tiny_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3))


@check
def check_loss_scores(loss_scores) -> CheckResult:
    """Check ``loss_scores(model, x, y)``: one score per example, minus its cross-entropy loss
    (higher = more likely a member), to 1e-5."""
    ex = "5.1"
    model = _tiny_model()
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(12, 4, generator=gen), torch.randint(0, 3, (12,), generator=gen)
    got = call_learner(ex, loss_scores, model, x.clone(), y.clone())
    got = np.asarray(got.detach() if isinstance(got, torch.Tensor) else got, dtype=np.float64)
    with torch.no_grad():
        losses = F.cross_entropy(model(x), y, reduction="none").double().numpy()
    if got.shape != (12,):
        return failed(ex, f"expected one score per example (shape (12,)), got shape {got.shape}.",
                      "Don't average over the batch: ask for the loss of each example.")
    if np.allclose(got, losses, atol=1e-5):
        return failed(ex, "these are the losses themselves: members would get the LOWER scores.",
                      "A member's loss is small; make the score grow as the loss shrinks.")
    if not np.allclose(got, -losses, atol=1e-5):
        return failed(ex, "the scores are not minus each example's cross-entropy loss.",
                      "Use the model's logits and the true labels, one loss per example.")
    return passed(ex, "minus each example's cross-entropy loss.")


@check
def check_lira_offline(lira_offline) -> CheckResult:
    """Check ``lira_offline(target_phi, out_phi, out_mask)``: per example, how many (sample)
    standard deviations the target's φ lies above the mean of its OUT models' φ, to 1e-6."""
    ex = "5.3"
    rng = np.random.default_rng(2)
    n, models = 30, 10
    target = rng.normal(0, 3, n)
    shadow = rng.normal(0, 1, (models, n)) + rng.normal(0, 3, n)
    out_mask = rng.random((models, n)) < 0.5
    out_mask[:3] = True  # at least 3 OUT models per example
    got = call_learner(ex, lira_offline, target.copy(), shadow.copy(), out_mask.copy())
    got = np.asarray(got, dtype=np.float64)
    if got.shape != (n,):
        return failed(ex, f"expected one score per example (shape ({n},)), got {got.shape}.",
                      "Fit the OUT Gaussian separately for each example (each column).")
    want = np.empty(n)
    all_models = np.empty(n)
    for i in range(n):
        out = shadow[out_mask[:, i], i]
        want[i] = (target[i] - out.mean()) / out.std(ddof=1)
        all_models[i] = (target[i] - shadow[:, i].mean()) / shadow[:, i].std(ddof=1)
    if np.allclose(got, want, atol=1e-6):
        return passed(ex, "the z-score of the target's φ against each example's OUT models.")
    if np.allclose(got, all_models, atol=1e-6):
        return failed(ex, "you used every shadow model, IN ones included.",
                      "Only the models that did NOT train on the example describe 'not a member'.")
    if np.allclose(got, -want, atol=1e-6):
        return failed(ex, "the sign is reversed: a member's φ lies ABOVE its OUT models'.",
                      "Higher score must mean more likely a member.")
    return failed(ex, "the scores don't match (φ - mean of OUT) / sd of OUT per example.",
                  "Per column, select the OUT models with the mask; use the sample sd (ddof=1).")


@check
def check_epsilon_from_counts(epsilon_from_counts) -> CheckResult:
    """Check ``epsilon_from_counts(tp, fn, fp, tn, alpha, delta)``: ln((TPR_lo - δ) / FPR_hi)
    with two-sided 1 - α Clopper-Pearson bounds, floored at 0, on four count sets (1e-6)."""
    ex = "5.4"
    cases = [(900, 100, 50, 950, 0.05, 0.0), (990, 10, 2, 998, 0.05, 1e-5),
             (1000, 0, 0, 1000, 0.1, 0.0), (520, 480, 500, 500, 0.05, 0.0)]
    for tp, fn, fp, tn, alpha, delta in cases:
        got = _as_float(call_learner(ex, epsilon_from_counts, tp, fn, fp, tn, alpha, delta))
        want = epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, alpha=alpha, delta=delta)
        if got is None:
            return failed(ex, "expected one number, ε_LB.", "Return a float.")
        if abs(got - want.epsilon) < 1e-6:
            continue
        tpr, fpr = tp / (tp + fn), fp / (fp + tn)
        if fpr > 0 and tpr > delta and abs(got - math.log((tpr - delta) / fpr)) < 1e-6:
            return failed(ex, "that is the point estimate from the observed rates, not a bound.",
                          "Replace the TPR by its lower confidence bound and the FPR by its upper one.")
        one_sided = epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, alpha=2 * alpha, delta=delta).epsilon
        if abs(got - one_sided) < 1e-6:
            return failed(ex, "your bounds are one-sided at 1 - α each (too loose a confidence).",
                          "Use the two-sided 1 - α interval's ends, i.e. α/2 in each tail.")
        if got < 0:
            return failed(ex, f"ε_LB = {got:.3f} < 0.", "A lower bound on ε is never below 0.")
        return failed(ex, f"for tp={tp}, fn={fn}, fp={fp}, tn={tn} you returned {got:.4f}.",
                      "Clopper-Pearson: lower = Beta(α/2; k, n-k+1), upper = Beta(1-α/2; k+1, n-k), "
                      "0 and 1 at the edges.")
    return passed(ex, "ε_LB from Clopper-Pearson bounds on four count sets, edges included.")
