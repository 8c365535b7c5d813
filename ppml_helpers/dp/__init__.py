"""Differential privacy: mechanisms, composition, accounting and DP-SGD from scratch.

The notebooks also use Opacus's and Google's ``dp_accounting`` accountants; the
from-scratch versions here are for teaching and are tested against them.
Introduced in ``03_differential_privacy`` and ``04_dp_sgd``.
"""

from .noise import NoiseSource, as_noise_source

__all__ = ["NoiseSource", "as_noise_source"]
