"""Differential privacy: mechanisms, composition, accounting and DP-SGD from scratch.

The notebooks also use Opacus's and Google's ``dp_accounting`` accountants; the
from-scratch versions here are for teaching and are tested against them.
Introduced in ``03_differential_privacy`` and ``04_dp_sgd``.
"""

from .composition import advanced_composition, basic_composition
from .floating_point import distinguishable_fraction, grid_exponent, naive_laplace_support
from .mechanisms import (
    gaussian_delta,
    gaussian_epsilon,
    gaussian_mechanism,
    gaussian_sigma,
    laplace_mechanism,
    laplace_scale,
    randomized_response,
    rr_estimate,
    rr_truth_probability,
)
from .noise import NoiseSource, as_noise_source
from .rdp import (
    DEFAULT_ORDERS,
    RDPAccountant,
    calibrate_noise,
    rdp_subsampled_gaussian,
    rdp_to_epsilon,
)
from .sgd import (
    ClippedSum,
    DPHistory,
    StepInfo,
    add_noise,
    clip_and_sum,
    dp_sgd_step,
    per_sample_gradients,
    poisson_sample,
    steps_per_epoch,
    train_dp_sgd,
)
from .tuning import expected_runs, selection_epsilon, selection_rdp

__all__ = [
    "DEFAULT_ORDERS",
    "ClippedSum",
    "DPHistory",
    "NoiseSource",
    "RDPAccountant",
    "StepInfo",
    "add_noise",
    "advanced_composition",
    "as_noise_source",
    "basic_composition",
    "calibrate_noise",
    "clip_and_sum",
    "distinguishable_fraction",
    "dp_sgd_step",
    "expected_runs",
    "gaussian_delta",
    "gaussian_epsilon",
    "gaussian_mechanism",
    "gaussian_sigma",
    "grid_exponent",
    "laplace_mechanism",
    "laplace_scale",
    "naive_laplace_support",
    "per_sample_gradients",
    "poisson_sample",
    "randomized_response",
    "rdp_subsampled_gaussian",
    "rdp_to_epsilon",
    "rr_estimate",
    "rr_truth_probability",
    "selection_epsilon",
    "selection_rdp",
    "steps_per_epoch",
    "train_dp_sgd",
]
