"""Self-checks for the notebooks' exercises: ``check_<name>(learner_function)``.

Each check calls the learner's function on its own inputs, compares with the
reference in the package, and returns a :class:`CheckResult` that displays as
a pass, as what is wrong with a hint, or, while the exercise is unsolved, as
"not attempted yet" (never an exception, so "Run All" reaches the last cell).
"""

from ._core import FAIL_MARK, NOT_ATTEMPTED, NOT_ATTEMPTED_MARK, PASS_MARK, CheckResult
from .nb00 import (
    SERVER_VIEW_ITEMS,
    THREAT_ACTORS,
    THREAT_BEHAVIOURS,
    THREAT_SCENARIOS,
    check_clip_and_noise,
    check_recover_label,
    check_server_view,
    check_threat_models,
)
from .nb01 import (
    check_bytes_to_target,
    check_client_update,
    check_dirichlet_partition,
    check_fedavg_round,
    check_weighted_average,
)
from .nb02 import (
    check_attack_config,
    check_krum_scores,
    check_local_train,
    check_sign_flip,
)
from .nb03 import (
    check_estimate_fraction,
    check_laplace_release,
    check_mean_sensitivity,
    check_steps_within_budget,
)
from .nb04 import (
    check_clip_per_example,
    check_lowest_epsilon,
    check_noisy_average,
    check_poisson_batch,
)
from .nb05 import (
    check_epsilon_from_counts,
    check_lira_offline,
    check_loss_scores,
    check_tpr_at_fpr,
)
from .nb06 import (
    check_additive_share,
    check_client_bytes_sent,
    check_lagrange_at_zero,
    check_max_clients,
    check_pairwise_mask,
    check_threshold_range,
)
from .nb07 import (
    check_batched_scores,
    check_choose_parameters,
    check_ciphertexts_needed,
    check_expansion_factor,
)
from .nb08 import (
    CONFIGURATION_SCENARIOS,
    check_choose_configuration,
    check_noise_share,
    check_patient_epsilon,
    check_plan_threshold,
)

__all__ = [
    "CONFIGURATION_SCENARIOS",
    "FAIL_MARK",
    "NOT_ATTEMPTED",
    "NOT_ATTEMPTED_MARK",
    "PASS_MARK",
    "SERVER_VIEW_ITEMS",
    "THREAT_ACTORS",
    "THREAT_BEHAVIOURS",
    "THREAT_SCENARIOS",
    "CheckResult",
    "check_additive_share",
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
    "check_dirichlet_partition",
    "check_epsilon_from_counts",
    "check_estimate_fraction",
    "check_expansion_factor",
    "check_fedavg_round",
    "check_krum_scores",
    "check_lagrange_at_zero",
    "check_laplace_release",
    "check_lira_offline",
    "check_local_train",
    "check_loss_scores",
    "check_lowest_epsilon",
    "check_max_clients",
    "check_mean_sensitivity",
    "check_noise_share",
    "check_noisy_average",
    "check_pairwise_mask",
    "check_patient_epsilon",
    "check_plan_threshold",
    "check_poisson_batch",
    "check_recover_label",
    "check_server_view",
    "check_sign_flip",
    "check_steps_within_budget",
    "check_threat_models",
    "check_threshold_range",
    "check_tpr_at_fpr",
    "check_weighted_average",
]
