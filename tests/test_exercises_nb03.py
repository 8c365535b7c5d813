"""Self-checks of 03_differential_privacy: right answers pass, typical wrong ones fail with a
hint that does not give the answer, unsolved ones show "not attempted yet"."""

from __future__ import annotations

import math

import numpy as np
from exercise_contract import contract_tests

from ppml_helpers import dp
from ppml_helpers import exercises as ex


def estimate(reports, epsilon):
    p = math.exp(epsilon) / (1 + math.exp(epsilon))
    return (np.mean(reports) - (1 - p)) / (2 * p - 1)


def raw_share(reports, epsilon):
    return float(np.mean(reports))


def laplace(value, sensitivity, epsilon, rng):
    return value + rng.laplace(0.0, sensitivity / epsilon)


def laplace_wrong_scale(value, sensitivity, epsilon, rng):
    return value + rng.laplace(0.0, epsilon / sensitivity)


def mean_sens(lower, upper, n):
    return (upper - lower) / n


def sum_sens(lower, upper, n):
    return upper - lower


def steps_fit(noise_multiplier, sample_rate, target_epsilon, delta):
    def eps(steps):
        acc = dp.RDPAccountant()
        acc.step(noise_multiplier=noise_multiplier, sample_rate=sample_rate, steps=steps)
        return acc.get_epsilon(delta=delta)

    lo, hi = 0, 1
    while eps(hi) <= target_epsilon:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if eps(mid) <= target_epsilon else (lo, mid)
    return lo


def steps_one_too_many(noise_multiplier, sample_rate, target_epsilon, delta):
    return steps_fit(noise_multiplier, sample_rate, target_epsilon, delta) + 1


CASES = [
    (ex.check_estimate_fraction, estimate, raw_share),
    (ex.check_laplace_release, laplace, laplace_wrong_scale),
    (ex.check_mean_sensitivity, mean_sens, sum_sens),
    (ex.check_steps_within_budget, steps_fit, steps_one_too_many),
]

test_right_passes_wrong_fails_with_a_hint, test_unsolved_is_not_attempted = contract_tests(CASES)


def test_constant_release_is_told_it_has_no_noise():
    result = ex.check_laplace_release(lambda value, sensitivity, epsilon, rng: value)
    assert not result and "no noise" in result.message


def laplace_uniform_same_error(value, sensitivity, epsilon, rng):
    """Uniform noise with the Laplace mechanism's mean absolute error b: it passes two moments."""
    b = sensitivity / epsilon
    return value + rng.uniform(-2 * b, 2 * b)


def laplace_gaussian_same_error(value, sensitivity, epsilon, rng):
    b = sensitivity / epsilon
    return value + rng.normal(0.0, b * math.sqrt(math.pi / 2))


def test_noise_with_the_right_spread_but_the_wrong_shape_fails():
    for wrong in (laplace_uniform_same_error, laplace_gaussian_same_error):
        result = ex.check_laplace_release(wrong)
        assert not result and "Laplace shape" in result.message and "e^ε" in result.hint


def test_hints_never_state_the_answer():
    wrong = ex.check_mean_sensitivity(lambda lower, upper, n: upper / n)
    assert "upper - lower" not in wrong.hint and "(upper − lower)/n" not in wrong.hint
