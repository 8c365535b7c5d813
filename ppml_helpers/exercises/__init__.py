"""Self-checks for the notebooks' exercises: ``check_<name>(learner_function)``.

Each check calls the learner's function on its own inputs, compares with the
reference in the package, and returns a :class:`CheckResult` that displays as
a pass, as what is wrong with a hint, or, while the exercise is unsolved, as
"not attempted yet" (never an exception, so "Run All" reaches the last cell).

The checks of each notebook live in a submodule (``nb00`` … ``nb09``, ``a1``, ``a2``) that
loads on first use of one of its names: most import torch, and the PySyft appendix
kernel, which has none, uses only ``a2``'s checks.
"""

from __future__ import annotations

import importlib

from ._core import FAIL_MARK, NOT_ATTEMPTED, NOT_ATTEMPTED_MARK, PASS_MARK, CheckResult

#: Every public name of the notebooks' submodules, and the submodule that defines it.
_LAZY = {
    **dict.fromkeys(
        ["SERVER_VIEW_ITEMS", "THREAT_ACTORS", "THREAT_BEHAVIOURS", "THREAT_SCENARIOS",
         "check_clip_and_noise", "check_recover_label", "check_server_view", "check_threat_models"],
        "nb00"),
    **dict.fromkeys(
        ["check_bytes_to_target", "check_client_update", "check_dirichlet_partition",
         "check_fedavg_round", "check_weighted_average"],
        "nb01"),
    **dict.fromkeys(
        ["check_attack_config", "check_krum_scores", "check_local_train", "check_sign_flip"], "nb02"),
    **dict.fromkeys(
        ["check_estimate_fraction", "check_laplace_release", "check_mean_sensitivity",
         "check_steps_within_budget"],
        "nb03"),
    **dict.fromkeys(
        ["check_clip_per_example", "check_lowest_epsilon", "check_noisy_average",
         "check_poisson_batch"],
        "nb04"),
    **dict.fromkeys(
        ["check_epsilon_from_counts", "check_lira_offline", "check_loss_scores", "check_tpr_at_fpr"],
        "nb05"),
    **dict.fromkeys(
        ["check_additive_share", "check_client_bytes_sent", "check_lagrange_at_zero",
         "check_max_clients", "check_pairwise_mask", "check_threshold_range"],
        "nb06"),
    **dict.fromkeys(
        ["check_batched_scores", "check_choose_parameters", "check_ciphertexts_needed",
         "check_expansion_factor"],
        "nb07"),
    **dict.fromkeys(
        ["CONFIGURATION_SCENARIOS", "check_choose_configuration", "check_noise_share",
         "check_patient_epsilon", "check_plan_threshold"],
        "nb08"),
    **dict.fromkeys(["ATTACKS", "PREMISES", "QUICK_NUMBERS", "check_defence_for", "check_premise_is_sound",
                     "check_quick_numbers"], "nb09"),
    **dict.fromkeys(["FLOWER_COUNTERPARTS", "TFF_CONCEPTS", "check_effective_noise_multiplier",
                     "check_keras_weights", "check_tff_to_flower"], "a1"),
    **dict.fromkeys(["check_approve_within_budget", "check_make_mock", "check_recover_excluded"], "a2"),
}  # fmt: skip

#: The per-notebook submodules, importable as attributes too (``exercises.nb07``).
_SUBMODULES = ("nb00", "nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08", "nb09", "a1", "a2")

# The _core names and every key of _LAZY (a test keeps the two in step).
__all__ = [
    "ATTACKS",
    "CONFIGURATION_SCENARIOS",
    "FAIL_MARK",
    "FLOWER_COUNTERPARTS",
    "NOT_ATTEMPTED",
    "NOT_ATTEMPTED_MARK",
    "PASS_MARK",
    "PREMISES",
    "QUICK_NUMBERS",
    "SERVER_VIEW_ITEMS",
    "TFF_CONCEPTS",
    "THREAT_ACTORS",
    "THREAT_BEHAVIOURS",
    "THREAT_SCENARIOS",
    "CheckResult",
    "check_additive_share",
    "check_approve_within_budget",
    "check_attack_config",
    "check_batched_scores",
    "check_bytes_to_target",
    "check_choose_configuration",
    "check_choose_parameters",
    "check_ciphertexts_needed",
    "check_client_bytes_sent",
    "check_client_update",
    "check_clip_and_noise",
    "check_clip_per_example",
    "check_defence_for",
    "check_dirichlet_partition",
    "check_effective_noise_multiplier",
    "check_epsilon_from_counts",
    "check_estimate_fraction",
    "check_expansion_factor",
    "check_fedavg_round",
    "check_keras_weights",
    "check_krum_scores",
    "check_lagrange_at_zero",
    "check_laplace_release",
    "check_lira_offline",
    "check_local_train",
    "check_loss_scores",
    "check_lowest_epsilon",
    "check_make_mock",
    "check_max_clients",
    "check_mean_sensitivity",
    "check_noise_share",
    "check_noisy_average",
    "check_pairwise_mask",
    "check_patient_epsilon",
    "check_plan_threshold",
    "check_poisson_batch",
    "check_premise_is_sound",
    "check_quick_numbers",
    "check_recover_excluded",
    "check_recover_label",
    "check_server_view",
    "check_sign_flip",
    "check_steps_within_budget",
    "check_tff_to_flower",
    "check_threat_models",
    "check_threshold_range",
    "check_tpr_at_fpr",
    "check_weighted_average",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
