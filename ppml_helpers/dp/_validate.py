"""Input checks shared by the ``dp`` modules: each names the argument, the value and what is allowed."""

from __future__ import annotations

import math

__all__ = [
    "check_delta",
    "check_epsilon",
    "check_max_grad_norm",
    "check_noise_multiplier",
    "check_sample_rate",
    "check_sensitivity",
    "check_steps",
]


def _real(value, name: str) -> float:
    if isinstance(value, bool) or (not isinstance(value, (int, float)) and not hasattr(value, "__float__")):
        raise TypeError(f"{name} must be a real number. Got {value!r}.")
    out = float(value)
    if math.isnan(out):
        raise ValueError(f"{name} must be a number, not NaN.")
    return out


def check_epsilon(epsilon, name: str = "epsilon") -> float:
    """ε must be positive and finite (ε = 0 would mean no information at all)."""
    eps = _real(epsilon, name)
    if not 0 < eps < math.inf:
        raise ValueError(f"{name} must be positive and finite. Got {epsilon!r}.")
    return eps


def check_delta(delta, name: str = "delta", *, allow_zero: bool = False) -> float:
    """δ must lie in (0, 1) ([0, 1) where pure ε-DP is meant)."""
    d = _real(delta, name)
    low_ok = d >= 0 if allow_zero else d > 0
    if not (low_ok and d < 1):
        allowed = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(
            f"{name} must lie in {allowed}; choose it well below 1/n for n records. Got {delta!r}."
        )
    return d


def check_sensitivity(sensitivity, name: str = "sensitivity") -> float:
    """A query's sensitivity must be positive and finite."""
    s = _real(sensitivity, name)
    if not 0 < s < math.inf:
        raise ValueError(
            f"{name} must be positive and finite (the most one record can change the answer). "
            f"Got {sensitivity!r}."
        )
    return s


def check_sample_rate(sample_rate, name: str = "sample_rate") -> float:
    """A Poisson sampling rate q must lie in (0, 1]."""
    q = _real(sample_rate, name)
    if not 0 < q <= 1:
        raise ValueError(
            f"{name} must lie in (0, 1] (expected batch size / dataset size). Got {sample_rate!r}."
        )
    return q


def check_noise_multiplier(noise_multiplier, name: str = "noise_multiplier") -> float:
    """σ = noise std / clipping norm must be non-negative and finite (0 means no privacy)."""
    sigma = _real(noise_multiplier, name)
    if not 0 <= sigma < math.inf:
        raise ValueError(
            f"{name} must be non-negative and finite (noise std divided by the clipping norm). "
            f"Got {noise_multiplier!r}."
        )
    return sigma


def check_max_grad_norm(max_grad_norm, name: str = "max_grad_norm") -> float:
    """The clipping norm C must be positive and finite."""
    c = _real(max_grad_norm, name)
    if not 0 < c < math.inf:
        raise ValueError(
            f"{name} must be positive and finite (each example's gradient is clipped to it). "
            f"Got {max_grad_norm!r}."
        )
    return c


def check_steps(steps, name: str = "steps") -> int:
    """A number of steps must be a non-negative integer."""
    if isinstance(steps, bool) or (not isinstance(steps, int) and not hasattr(steps, "__index__")):
        raise TypeError(f"{name} must be an integer. Got {steps!r}.")
    n = int(steps)
    if n < 0:
        raise ValueError(f"{name} must be non-negative. Got {steps!r}.")
    return n
