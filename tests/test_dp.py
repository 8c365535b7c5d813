"""ppml_helpers.dp: mechanisms, composition, the RDP accountant and the noise source.

Oracles: Opacus's RDP accountant and noise calibration, Google's dp_accounting
(the exact Gaussian privacy loss), closed forms, and sampling statistics with
fixed seeds and stated tolerances.
"""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from dp_accounting.pld import privacy_loss_mechanism
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.accountants import RDPAccountant as OpacusRDP
from opacus.accountants.analysis import rdp as opacus_rdp
from opacus.accountants.utils import get_noise_multiplier
from scipy import optimize, stats

from ppml_helpers import dp
from ppml_helpers.dp import composition, floating_point, mechanisms, noise, rdp

# (σ, q, steps, δ): MNIST-like, Adult-like, tiny and huge σ, q = 1, large q, one step.
HISTORIES = [
    (1.1, 256 / 60000, 14040, 1e-5),
    (0.5, 0.01, 1000, 1e-5),
    (4.0, 0.001, 100_000, 1e-6),
    (1.0, 1.0, 10, 1e-5),
    (0.8, 0.3, 50, 1e-3),
    (2.3, 0.05, 3, 1e-7),
    (10.0, 0.5, 1, 1e-5),
]


def _opacus_epsilon(history, delta):
    acc = OpacusRDP()
    acc.history = list(history)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus warns when the best order is at the edge
        return acc.get_epsilon(delta=delta)


@pytest.mark.parametrize(("doc_module"), [composition, floating_point, mechanisms, noise, rdp], ids=lambda m: m.__name__)
def test_docstring_examples(doc_module):
    assert doctest.testmod(doc_module).failed == 0


# --- the RDP accountant against Opacus's ------------------------------------------------


@pytest.mark.parametrize(("sigma", "q", "steps", "delta"), HISTORIES)
def test_rdp_accountant_matches_opacus(sigma, q, steps, delta):
    ours = dp.RDPAccountant()
    ours.step(noise_multiplier=sigma, sample_rate=q, steps=steps)
    assert ours.get_epsilon(delta=delta) == pytest.approx(
        _opacus_epsilon([(sigma, q, steps)], delta), rel=1e-6
    )


@pytest.mark.parametrize(("sigma", "q", "steps", "delta"), HISTORIES[:3])
def test_rdp_curve_matches_opacus_order_by_order(sigma, q, steps, delta):
    ours = dp.rdp_subsampled_gaussian(
        noise_multiplier=sigma, sample_rate=q, steps=steps, orders=dp.DEFAULT_ORDERS
    )
    theirs = opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=list(dp.DEFAULT_ORDERS))
    # Near α = 1 the values are differences of nearly equal sums, rounded differently by
    # each implementation (about 1e-9 absolute); they never set ε.
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-8)


def test_mixed_history_and_step_by_step_equal_one_block():
    mixed = [(1.0, 0.01, 300), (2.0, 0.02, 200), (1.0, 0.01, 100)]
    ours = dp.RDPAccountant()
    for sigma, q, n in mixed:
        ours.step(noise_multiplier=sigma, sample_rate=q, steps=n)
    assert ours.history == mixed
    assert ours.get_epsilon(delta=1e-5) == pytest.approx(_opacus_epsilon(mixed, 1e-5), rel=1e-6)

    one_by_one = dp.RDPAccountant()
    for _ in range(50):
        one_by_one.step(noise_multiplier=1.0, sample_rate=0.01)
    block = dp.RDPAccountant()
    block.step(noise_multiplier=1.0, sample_rate=0.01, steps=50)
    assert one_by_one.history == [(1.0, 0.01, 50)]
    assert one_by_one.get_epsilon(delta=1e-5) == block.get_epsilon(delta=1e-5)


def test_epsilon_grows_with_steps_and_falls_with_noise():
    def eps(sigma, steps):
        acc = dp.RDPAccountant()
        acc.step(noise_multiplier=sigma, sample_rate=0.01, steps=steps)
        return acc.get_epsilon(delta=1e-5)

    assert eps(1.0, 100) < eps(1.0, 1000) < eps(1.0, 10000)
    assert eps(0.8, 1000) > eps(1.0, 1000) > eps(2.0, 1000)


def test_full_batch_rdp_is_the_gaussian_closed_form():
    orders = [2.0, 4.5, 32.0]
    got = dp.rdp_subsampled_gaussian(noise_multiplier=2.0, sample_rate=1.0, steps=3, orders=orders)
    np.testing.assert_allclose(got, [3 * a / (2 * 2.0**2) for a in orders], rtol=1e-15)


def test_fractional_series_is_continuous_with_the_integer_sum():
    # Just off an integer order, the fractional series must give the binomial sum's value.
    q, sigma = 0.02, 1.3
    alphas = np.array([2.0, 3.0, 17.0])
    near = rdp._log_a_fractional(q, sigma, alphas + 1e-9)
    assert near == pytest.approx(rdp._log_a_integer(q, sigma, alphas), rel=1e-6)


def test_no_steps_no_noise_and_conversion_edges():
    assert dp.RDPAccountant().get_epsilon(delta=1e-5) == 0.0
    acc = dp.RDPAccountant()
    acc.step(noise_multiplier=0.0, sample_rate=0.5)
    assert acc.get_epsilon(delta=1e-5) == math.inf


def test_conversion_is_tighter_than_mironovs():
    orders = np.array(dp.DEFAULT_ORDERS)
    curve = dp.rdp_subsampled_gaussian(noise_multiplier=1.1, sample_rate=0.004, steps=10000, orders=orders)
    eps, best = dp.rdp_to_epsilon(orders=orders, rdp=curve, delta=1e-5)
    mironov = float(np.min(curve + math.log(1e5) / (orders - 1)))
    assert eps < mironov and best in dp.DEFAULT_ORDERS


@pytest.mark.parametrize(("target", "q", "steps", "delta"), [(3.0, 512 / 60000, 4680, 1e-5), (1.0, 0.01, 500, 1e-5), (8.0, 0.05, 200, 1e-6)])
def test_calibrate_noise_is_the_smallest_sigma_and_agrees_with_opacus(target, q, steps, delta):
    sigma = dp.calibrate_noise(target_epsilon=target, delta=delta, sample_rate=q, steps=steps)

    def eps(s):
        acc = dp.RDPAccountant()
        acc.step(noise_multiplier=s, sample_rate=q, steps=steps)
        return acc.get_epsilon(delta=delta)

    assert eps(sigma) <= target < eps(sigma * (1 - 1e-5))
    # Opacus stops its bisection once ε is within 0.01 below the target, so its σ is
    # a little larger than the smallest one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = get_noise_multiplier(target_epsilon=target, target_delta=delta, sample_rate=q, steps=steps)
    assert sigma <= theirs <= sigma * 1.02


def test_calibrate_noise_refuses_an_unreachable_target():
    with pytest.raises(ValueError, match=r"target_epsilon=0\.05"):
        dp.calibrate_noise(target_epsilon=0.05, delta=1e-5, sample_rate=0.01, steps=10)


# --- the mechanisms --------------------------------------------------------------------


@pytest.mark.parametrize(("epsilon", "delta", "sensitivity"), [(0.1, 1e-5, 1.0), (0.5, 1e-6, 2.0), (1.0, 1e-5, 1.0), (4.0, 1e-3, 0.5), (10.0, 1e-8, 1.0)])
def test_analytic_gaussian_sigma_meets_delta_exactly(epsilon, delta, sensitivity):
    sigma = dp.gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity, method="analytic")

    def exact_delta(s):  # dp_accounting's privacy-loss distribution of the Gaussian mechanism
        loss = privacy_loss_mechanism.GaussianPrivacyLoss(standard_deviation=s, sensitivity=sensitivity)
        return loss.get_delta_for_epsilon(epsilon)

    assert exact_delta(sigma) == pytest.approx(delta, rel=1e-6)
    assert exact_delta(sigma * 0.999) > delta  # any smaller σ fails
    assert dp.gaussian_delta(sigma=sigma, epsilon=epsilon, sensitivity=sensitivity) <= delta


@pytest.mark.parametrize(("sigma", "delta", "sensitivity"), [(4.045387, 1e-5, 1.0), (1.0, 1e-5, 1.0), (0.5, 1e-3, 2.0),
                                                            (20.0, 1e-8, 1.0)])
def test_gaussian_epsilon_is_dp_accountings_exact_epsilon(sigma, delta, sensitivity):
    loss = privacy_loss_mechanism.GaussianPrivacyLoss(standard_deviation=sigma, sensitivity=sensitivity)
    exact = optimize.brentq(lambda e: loss.get_delta_for_epsilon(e) - delta, 1e-9, 100.0, xtol=1e-14)
    assert dp.gaussian_epsilon(sigma=sigma, delta=delta, sensitivity=sensitivity) == pytest.approx(exact, rel=1e-6)


def test_gaussian_epsilon_inverts_the_analytic_calibration_and_names_bad_input():
    for eps in (0.3, 1.0, 5.0):
        sigma = dp.gaussian_sigma(epsilon=eps, delta=1e-5, sensitivity=1.0)
        assert dp.gaussian_epsilon(sigma=sigma, delta=1e-5, sensitivity=1.0) == pytest.approx(eps, rel=1e-9)
    with pytest.raises(ValueError, match="sigma"):
        dp.gaussian_epsilon(sigma=-1.0, delta=1e-5, sensitivity=1.0)
    with pytest.raises(ValueError, match="delta"):
        dp.gaussian_epsilon(sigma=1.0, delta=1.5, sensitivity=1.0)


def test_analytic_beats_classic_and_classic_is_the_formula():
    for eps in (0.1, 0.5, 0.9):
        classic = dp.gaussian_sigma(epsilon=eps, delta=1e-5, sensitivity=1.0, method="classic")
        assert classic == pytest.approx(math.sqrt(2 * math.log(1.25 / 1e-5)) / eps, rel=1e-15)
        assert dp.gaussian_sigma(epsilon=eps, delta=1e-5, sensitivity=1.0) < classic


def test_classic_gaussian_refuses_epsilon_of_one_or_more():
    with pytest.raises(ValueError, match="epsilon must be below 1"):
        dp.gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0, method="classic")


def test_laplace_mechanism_noise_has_the_right_distribution():
    draws = dp.laplace_mechanism(np.zeros(50_000), sensitivity=2.0, epsilon=0.5, rng=dp.NoiseSource(seed=0))
    assert stats.kstest(draws, stats.laplace(scale=4.0).cdf).pvalue > 0.01
    assert dp.laplace_mechanism(10, sensitivity=1.0, epsilon=1.0, rng=1) == pytest.approx(
        dp.laplace_mechanism(10, sensitivity=1.0, epsilon=1.0, rng=1)
    )


def test_gaussian_mechanism_noise_has_the_calibrated_std():
    sigma = dp.gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0)
    draws = dp.gaussian_mechanism(np.full(50_000, 3.0), sensitivity=1.0, epsilon=1.0, delta=1e-5, rng=2)
    assert stats.kstest(draws - 3.0, stats.norm(scale=sigma).cdf).pvalue > 0.01


def test_randomized_response_rates_and_unbiased_estimate():
    truth = np.r_[np.ones(30_000, bool), np.zeros(70_000, bool)]
    reports = dp.randomized_response(truth, epsilon=math.log(3), rng=dp.NoiseSource(seed=3))
    p = dp.rr_truth_probability(epsilon=math.log(3))
    assert p == pytest.approx(0.75)
    assert (reports == truth).mean() == pytest.approx(p, abs=0.01)
    # the estimate's sd at n = 1e5 and p = 3/4 is about 0.003; allow 4 sd
    assert dp.rr_estimate(reports, epsilon=math.log(3)) == pytest.approx(0.3, abs=0.012)


def test_randomized_response_likelihood_ratio_is_e_to_the_epsilon():
    eps = 0.7
    p = dp.rr_truth_probability(epsilon=eps)
    assert p / (1 - p) == pytest.approx(math.exp(eps), rel=1e-12)


# --- composition -------------------------------------------------------------------------


def test_basic_and_advanced_composition_closed_forms():
    assert dp.basic_composition(epsilon=0.5, delta=1e-6, k=4) == (2.0, 4e-6)
    eps, delta = dp.advanced_composition(epsilon=0.01, delta=1e-7, k=10_000, delta_prime=1e-5)
    assert eps == pytest.approx(0.01 * math.sqrt(2e4 * math.log(1e5)) + 100 * math.expm1(0.01), rel=1e-12)
    assert delta == pytest.approx(1e-3 + 1e-5)
    assert eps < 10_000 * 0.01  # √k beats k for small ε and many steps


def test_advanced_composition_refuses_a_total_delta_of_one():
    with pytest.raises(ValueError, match="not below 1"):
        dp.advanced_composition(epsilon=0.1, delta=0.1, k=10, delta_prime=0.5)


# --- the noise source ----------------------------------------------------------------------


def test_seeded_source_repeats_and_secure_source_does_not():
    assert np.array_equal(dp.NoiseSource(seed=5).normal(10), dp.NoiseSource(seed=5).normal(10))
    secure = dp.NoiseSource(secure=True)
    assert not np.array_equal(secure.normal(10), secure.normal(10))


@pytest.mark.parametrize("secure", [False, True])
def test_noise_source_distributions(secure):
    src = dp.NoiseSource(secure=True) if secure else dp.NoiseSource(seed=7)
    assert stats.kstest(src.normal(40_000, std=2.0), stats.norm(scale=2.0).cdf).pvalue > 1e-3
    assert stats.kstest(src.laplace(40_000, scale=0.5), stats.laplace(scale=0.5).cdf).pvalue > 1e-3
    u = src.uniform(40_000)
    assert (u > 0).all() and (u < 1).all()
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    t = src.torch_normal((3, 4), std=1.0)
    assert tuple(t.shape) == (3, 4) and str(t.dtype) == "torch.float32"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=50), st.floats(0.01, 10))
def test_randomized_response_keeps_shape_and_is_boolean(bits, eps):
    out = dp.randomized_response(bits, epsilon=eps, rng=0)
    assert out.shape == (len(bits),) and out.dtype == bool


# --- bad input -----------------------------------------------------------------------------

BAD = [
    ("epsilon", lambda v: dp.laplace_mechanism(1.0, sensitivity=1.0, epsilon=v, rng=0), [0, -1.0, math.inf, math.nan]),
    ("epsilon", lambda v: dp.gaussian_sigma(epsilon=v, delta=1e-5, sensitivity=1.0), [0, -0.5]),
    ("delta", lambda v: dp.gaussian_sigma(epsilon=1.0, delta=v, sensitivity=1.0), [0, 1, 1.5, -1e-5]),
    ("delta", lambda v: dp.RDPAccountant().get_epsilon(delta=v), [0, 1.0]),
    ("sensitivity", lambda v: dp.laplace_mechanism(1.0, sensitivity=v, epsilon=1.0, rng=0), [0, -2.0]),
    ("sensitivity", lambda v: dp.gaussian_mechanism(1.0, sensitivity=v, epsilon=1.0, delta=1e-5, rng=0), [0]),
    ("sample_rate", lambda v: dp.RDPAccountant().step(noise_multiplier=1.0, sample_rate=v), [0, -0.1, 1.01]),
    ("sample_rate", lambda v: dp.calibrate_noise(target_epsilon=1.0, delta=1e-5, sample_rate=v, steps=10), [0, 2]),
    ("noise_multiplier", lambda v: dp.RDPAccountant().step(noise_multiplier=v, sample_rate=0.1), [-1.0, math.inf]),
    ("target_epsilon", lambda v: dp.calibrate_noise(target_epsilon=v, delta=1e-5, sample_rate=0.1, steps=10), [0, -3]),
    ("k", lambda v: dp.basic_composition(epsilon=1.0, k=v), [0, -1]),
    ("delta_prime", lambda v: dp.advanced_composition(epsilon=1.0, k=3, delta_prime=v), [0, 1]),
    ("method", lambda v: dp.gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0, method=v), ["exact"]),
    ("steps", lambda v: dp.RDPAccountant().step(noise_multiplier=1.0, sample_rate=0.1, steps=v), [-1]),
]


@pytest.mark.parametrize(
    ("name", "call", "value"),
    [(name, call, v) for name, call, values in BAD for v in values],
    ids=[f"{name}={v}" for name, _, values in BAD for v in values],
)
def test_bad_input_is_refused_with_its_name(name, call, value):
    with pytest.raises(ValueError, match=name):
        call(value)


def test_noise_source_needs_a_seed_or_secure_and_not_both():
    with pytest.raises(ValueError, match="seed=<int>"):
        dp.NoiseSource()
    with pytest.raises(ValueError, match="seed must be None"):
        dp.NoiseSource(seed=1, secure=True)
    with pytest.raises(TypeError, match="rng must be"):
        dp.laplace_mechanism(1.0, sensitivity=1.0, epsilon=1.0, rng=None)


def test_randomized_response_refuses_non_bits():
    with pytest.raises(ValueError, match="answers"):
        dp.randomized_response([0, 2, 1], epsilon=1.0, rng=0)


# --- the floating-point attack ---------------------------------------------------------------


def test_naive_laplace_support_is_every_equally_likely_output():
    support = dp.naive_laplace_support(5.0, scale=2.0, grid_bits=8)
    assert support.shape == (2**9,) and support.dtype == np.float64
    assert np.median(support) == pytest.approx(5.0, abs=0.05)
    # u = (i + 1/2)/256 gives |noise| from -2 ln(511/512) up to -2 ln(1/512)
    assert support.max() == pytest.approx(5.0 + 2.0 * math.log(512), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_naive_sampler_is_distinguishable_and_snapping_closes_most_gaps(dtype):
    naive = dp.distinguishable_fraction(0.0, 1.0, scale=1.0, grid_bits=16, dtype=dtype)
    snapped = dp.distinguishable_fraction(0.0, 1.0, scale=1.0, grid_bits=16, dtype=dtype, snap=2.0**-10)
    assert naive > 0.95 and snapped < 0.02


@pytest.mark.parametrize(("kwargs", "name"), [({"grid_bits": 30}, "grid_bits"), ({"dtype": "float16"}, "dtype"), ({"scale": 0}, "scale")])
def test_naive_laplace_support_refuses_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dp.naive_laplace_support(0.0, **{"scale": 1.0, **kwargs})


@given(st.integers(min_value=-(2**52), max_value=2**52).filter(lambda i: i != 0),
       st.integers(min_value=-1000, max_value=900))
@settings(max_examples=300, deadline=None)
def test_grid_exponent_is_the_weight_of_the_lowest_set_bit(whole, k):
    value = math.ldexp(whole, k)  # whole * 2**k, exact
    odd_part, twos = whole, 0
    while odd_part % 2 == 0:
        odd_part //= 2
        twos += 1
    assert dp.grid_exponent([value]) == k + twos
    assert dp.grid_exponent([value, math.ldexp(1, k)]) == k  # a coarser value does not lift the grid
    assert dp.grid_exponent([value, 0.0, -value]) == k + twos  # zeros and signs change nothing


def test_grid_exponent_edges_and_refusals():
    assert dp.grid_exponent([0.0, -0.0]) is None
    assert dp.grid_exponent([5e-324]) == -1074  # the smallest subnormal
    assert dp.grid_exponent(np.array([[0.5, 0.25], [2.0, 8.0]])) == -2  # any shape
    rng = np.random.default_rng(0)
    assert dp.grid_exponent(1.0 + rng.laplace(0.0, 1.0, 1000)) <= -50  # float noise uses every bit
    with pytest.raises(ValueError, match="at least one"):
        dp.grid_exponent([])
    with pytest.raises(ValueError, match=r"finite.*nan"):
        dp.grid_exponent([1.0, float("nan")])
    with pytest.raises(ValueError, match=r"finite.*inf"):
        dp.grid_exponent([float("inf")])
