"""Self-checks of 05_membership_inference: right answers pass, typical wrong ones fail with a
hint that does not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from exercise_contract import contract_tests
from scipy import stats

from ppml_helpers import exercises as ex


def tpr_right(members, nonmembers, fpr):
    best = 0.0
    for t in np.unique(np.concatenate([members, nonmembers])):
        if (nonmembers >= t).mean() <= fpr:
            best = max(best, (members >= t).mean())
    return best


def tpr_strict(members, nonmembers, fpr):  # flags score > t: misses the ties at t
    best = 0.0
    for t in np.unique(np.concatenate([members, nonmembers])):
        if (nonmembers > t).mean() <= fpr:
            best = max(best, (members > t).mean())
    return max(best, 1.0)


def loss_right(model, x, y):
    with torch.no_grad():
        return -F.cross_entropy(model(x), y, reduction="none")


def loss_wrong_sign(model, x, y):
    with torch.no_grad():
        return F.cross_entropy(model(x), y, reduction="none")


def lira_right(target, shadow, out_mask):
    out = np.empty(len(target))
    for i in range(len(target)):
        o = shadow[out_mask[:, i], i]
        out[i] = (target[i] - o.mean()) / o.std(ddof=1)
    return out


def lira_all_models(target, shadow, out_mask):
    return (target - shadow.mean(0)) / shadow.std(0, ddof=1)


def eps_right(tp, fn, fp, tn, alpha, delta):
    lo = 0.0 if tp == 0 else stats.beta.ppf(alpha / 2, tp, fn + 1)
    hi = 1.0 if tn == 0 else stats.beta.ppf(1 - alpha / 2, fp + 1, tn)
    return max(0.0, math.log((lo - delta) / hi)) if lo > delta else 0.0


def eps_point(tp, fn, fp, tn, alpha, delta):
    return math.log((tp / (tp + fn) - delta) / max(fp / (fp + tn), 1e-12))


test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests([
    (ex.check_tpr_at_fpr, tpr_right, tpr_strict),
    (ex.check_loss_scores, loss_right, loss_wrong_sign),
    (ex.check_lira_offline, lira_right, lira_all_models),
    (ex.check_epsilon_from_counts, eps_right, eps_point),
])


def test_one_sided_bounds_get_their_own_hint():
    def one_sided(tp, fn, fp, tn, alpha, delta):
        return eps_right(tp, fn, fp, tn, 2 * alpha, delta)

    result = ex.check_epsilon_from_counts(one_sided)
    assert not result and "two-sided" in result.hint
