"""Membership inference and privacy auditing: attacks, their ROC, and ε lower bounds.

Introduced in ``05_membership_inference``: attack a model (loss threshold,
shadow models, LiRA), defend it with DP-SGD, attack again, and audit a DP
claim empirically.
"""

from .attacks import lira_scores, logit_confidence, loss_attack, shadow_attack
from .audit import AuditResult, audit_mechanism, max_certifiable_epsilon
from .bounds import EpsilonBound, clopper_pearson, epsilon_lower_bound
from .metrics import RocMetrics, check_scores, roc_curve, roc_metrics, tpr_at_fpr
from .shadow import ModelStack, population_masks, train_models

__all__ = [
    "AuditResult",
    "EpsilonBound",
    "ModelStack",
    "RocMetrics",
    "audit_mechanism",
    "check_scores",
    "clopper_pearson",
    "epsilon_lower_bound",
    "lira_scores",
    "logit_confidence",
    "loss_attack",
    "max_certifiable_epsilon",
    "population_masks",
    "roc_curve",
    "roc_metrics",
    "shadow_attack",
    "tpr_at_fpr",
    "train_models",
]
