"""The privacy cost of hyperparameter tuning, and Mironov's RDP conversion beside Balle et al.'s."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from ppml_helpers import dp
from ppml_helpers.dp import tuning


def test_docstring_examples():
    assert doctest.testmod(tuning).failed == 0


def test_mironov_conversion_reproduces_the_published_mnist_epsilons():
    """Opacus's README (σ 1.1, q 0.004, 60 epochs) printed 2.91 and Tramèr & Boneh (σ 1.23, q 512/60,000,
    4,680 steps) 3: both are Mironov's conversion; Balle et al.'s gives 2.50 and 2.58."""
    for sigma, q, steps, published, balle in ((1.1, 0.004, 15_000, 2.91, 2.50), (1.23, 512 / 60_000, 4_680, 3.0, 2.58)):
        acc = dp.RDPAccountant()
        acc.step(noise_multiplier=sigma, sample_rate=q, steps=steps)
        assert acc.get_epsilon(delta=1e-5, conversion="mironov2017") == pytest.approx(published, abs=0.01)
        assert acc.get_epsilon(delta=1e-5) == pytest.approx(balle, abs=0.005)


def test_mironov_conversion_is_the_formula_and_never_tighter():
    orders, rdp = np.array([2.0, 8.0, 32.0]), np.array([0.1, 0.5, 3.0])
    eps, _ = dp.rdp_to_epsilon(orders=orders, rdp=rdp, delta=1e-5, conversion="mironov2017")
    assert eps == pytest.approx(min(r + math.log(1e5) / (a - 1) for a, r in zip(orders, rdp, strict=True)))
    assert eps >= dp.rdp_to_epsilon(orders=orders, rdp=rdp, delta=1e-5)[0]
    with pytest.raises(ValueError, match="conversion must be one of"):
        dp.rdp_to_epsilon(orders=orders, rdp=rdp, delta=1e-5, conversion="moments")


def test_selection_overhead_matches_the_closed_form_for_a_gaussian():
    """For ε(λ) = λ/(2σ²) the minimum over λ̂ is (1 + η)(√(2 log(1/gamma))/σ − 1/(2σ²))."""
    sigma, eta, gamma = 5.0, 1.0, 0.1
    orders = np.linspace(1.01, 200.0, 200_000)
    rdp = orders / (2 * sigma**2)
    got = dp.selection_rdp(orders=orders, rdp=rdp, eta=eta, gamma=gamma) - rdp - math.log(10.0) / (orders - 1)
    want = (1 + eta) * (math.sqrt(2 * math.log(1 / gamma)) / sigma - 1 / (2 * sigma**2))
    assert got == pytest.approx(np.full_like(orders, want), rel=1e-6)


def test_a_random_number_of_runs_costs_far_less_than_composing_them():
    one = dp.RDPAccountant()
    one.step(noise_multiplier=1.0, sample_rate=0.01, steps=1_000)
    composed = dp.RDPAccountant()
    composed.step(noise_multiplier=1.0, sample_rate=0.01, steps=20_000)  # 20 runs of 1,000 steps
    orders = np.asarray(one.orders)
    single, tuned = one.get_epsilon(delta=1e-5), dp.selection_epsilon(
        orders=orders, rdp=one.rdp(), eta=1.0, gamma=1 / 20, delta=1e-5)
    assert single < tuned < composed.get_epsilon(delta=1e-5)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"eta": -1.0, "gamma": 0.5}, "eta must be a number above -1"),
    ({"eta": 1.0, "gamma": 1.0}, r"gamma must be a number in \(0, 1\)"),
    ({"eta": 1.0, "gamma": 0.5, "orders": [1.0, 2.0], "rdp": [0.1, 0.2]}, "orders must all be above 1"),
    ({"eta": 1.0, "gamma": 0.5, "orders": [2.0, 3.0], "rdp": [0.1]}, "one length"),
])
def test_bad_inputs_are_named(kwargs, match):
    kwargs = {"orders": [2.0, 3.0], "rdp": [0.1, 0.2], **kwargs}
    with pytest.raises(ValueError, match=match):
        dp.selection_rdp(**kwargs)


def test_expected_runs_of_the_logarithmic_case():
    assert dp.expected_runs(eta=0.0, gamma=0.5) == pytest.approx(1 / math.log(2))
