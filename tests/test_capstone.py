"""ppml_helpers.capstone: the hospitals' data, the accounting (Skellam and Gaussian, per patient
and per hospital), the noise shares and the four training configurations.

Oracles: the exact Rényi divergence of two Skellam distributions (scipy's pmf, summed), the
exact subsampled-Gaussian RDP, Google's dp_accounting, finite differences of the logistic loss
and the course's secure aggregation summing the same integers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from ppml_helpers import capstone as cap
from ppml_helpers.capstone import accounting as acc
from ppml_helpers.capstone.noise import plan_shares, randomized_round, skellam_noise
from ppml_helpers.capstone.training import (
    TrustConfig,
    clipped_gradients,
    per_patient_gradients,
    train_consortium,
)
from ppml_helpers.dp import rdp_subsampled_gaussian


@pytest.fixture(scope="module")
def hospitals():
    return cap.split_hospitals(seed=0)


# --- data -----------------------------------------------------------------------------------


def test_hospitals_hold_every_patient_once_and_differ_in_size_and_mix(hospitals):
    x, y = cap.load_wdbc()
    assert x.shape == (569, 30) and y.sum() == 212  # 212 malignant, labelled 1
    rows = np.concatenate([np.concatenate([h.x_train, h.x_val, h.x_test]) for h in hospitals])
    assert len(rows) == 569
    assert len(np.unique(rows, axis=0)) == len(np.unique(x, axis=0))
    sizes = [h.num_patients for h in hospitals]
    mixes = [h.malignant_share for h in hospitals]
    assert len(set(sizes)) == 5 and max(sizes) > 2 * min(sizes)
    assert max(mixes) - min(mixes) > 0.2


def test_split_is_repeatable_and_seeded(hospitals):
    again = cap.split_hospitals(seed=0)
    other = cap.split_hospitals(seed=1)
    assert all(np.array_equal(a.x_train, b.x_train) for a, b in zip(hospitals, again, strict=True))
    assert not all(np.array_equal(a.x_train, b.x_train) for a, b in zip(hospitals, other, strict=True))


def test_each_split_is_stratified_roughly(hospitals):
    for h in hospitals:
        n = h.num_patients
        assert abs(len(h.y_train) / n - 0.6) < 0.05
        assert abs(h.y_train.mean() - h.malignant_share) < 0.06


def test_published_ranges_are_the_data_extremes_and_ours_are_wider_round_numbers():
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer().data
    published = cap.published_ranges()
    np.testing.assert_allclose(published[:, 0], raw.min(axis=0), rtol=5e-3, atol=5e-4)
    np.testing.assert_allclose(published[:, 1], raw.max(axis=0), rtol=5e-3, atol=5e-4)
    ours = cap.feature_ranges()
    assert (ours[:, 0] <= raw.min(axis=0)).all() and (ours[:, 1] >= raw.max(axis=0)).all()
    for j in range(30):  # no range end is a patient's value (0, the floor of a measure, aside)
        assert ours[j, 1] not in raw[:, j] and (ours[j, 0] == 0 or ours[j, 0] not in raw[:, j])
    assert ours[0].tolist() == [6, 30] and ours[3].tolist() == [100, 3000]
    assert ours[4].tolist() == pytest.approx([0.05, 0.2])


def test_preprocessing_is_per_patient_and_bounded():
    from sklearn.datasets import load_breast_cancer

    raw = load_breast_cancer().data
    full = cap.preprocess(raw)
    assert full.min() >= -1 and full.max() <= 1
    np.testing.assert_array_equal(cap.preprocess(raw[:7]), full[:7])  # nobody else's data matters
    with pytest.raises(ValueError, match="non-negative"):
        cap.preprocess(-raw[:2])
    with pytest.raises(ValueError, match=r"shape \(patients, 30\)"):
        cap.preprocess(raw[:, :5])


def test_hospital_files_round_trip_and_an_empty_one_is_refused(hospitals, tmp_path):
    paths = cap.save_hospitals(hospitals, tmp_path)
    assert [p.name for p in paths] == [f"hospital_{k}.npz" for k in range(5)]
    back = cap.load_hospital(paths[2])
    assert back.name == "hospital_2"
    np.testing.assert_array_equal(back.x_test, hospitals[2].x_test)
    empty = tmp_path / "hospital_9.npz"
    np.savez(empty, **{f"{k}_{s}": np.zeros((0, 30) if k == "x" else 0)
                       for s in ("train", "val", "test") for k in ("x", "y")})
    with pytest.raises(ValueError, match="no patients in its train split"):
        cap.load_hospital(empty)
    with pytest.raises(FileNotFoundError, match="data-path"):
        cap.load_hospital(tmp_path / "nowhere.npz")


@pytest.mark.parametrize("shares, match", [
    ({"malignant": (0.5, 0.5), "benign": (0.7, 0.4)}, r"summing to 1"),
    ({"malignant": (1.0,), "benign": (1.0,)}, r"at least 2 hospitals"),
    ({"malignant": (0.5, 0.5)}, r"keys 'malignant' and 'benign'"),
])
def test_bad_shares_are_refused(shares, match):
    with pytest.raises(ValueError, match=match):
        cap.split_hospitals(class_shares=shares)


def test_a_hospital_left_without_patients_is_refused():
    tiny = {"malignant": (0.999, 0.001), "benign": (0.999, 0.001)}
    with pytest.raises(ValueError, match=r"hospital 1 has no patients in its \w+ split"):
        cap.split_hospitals(class_shares=tiny)


# --- accounting -----------------------------------------------------------------------------


def _skellam_renyi(alpha: int, mu: float, shift: int) -> float:
    """D_α(Sk + shift ‖ Sk) for Sk of variance μ, summed over the support (the exact value)."""
    half = mu / 2
    k = np.arange(-int(15 * math.sqrt(mu)) - 30, int(15 * math.sqrt(mu)) + 30)
    log_p = stats.skellam.logpmf(k - shift, half, half)
    log_q = stats.skellam.logpmf(k, half, half)
    keep = np.isfinite(log_p) & np.isfinite(log_q)  # past ±15 sd both underflow; their mass is < 1e-40
    return float(special.logsumexp(alpha * log_p[keep] + (1 - alpha) * log_q[keep]) / (alpha - 1))


@pytest.mark.parametrize("mu", [20.0, 200.0, 2000.0])
@pytest.mark.parametrize("shift", [1, 3])
def test_skellam_bound_holds_and_is_tight_for_a_one_dimensional_shift(mu, shift):
    orders = np.array([2, 4, 8, 16])
    bound = acc.skellam_rdp(orders, variance=mu, l2_sensitivity=shift, l1_sensitivity=shift)
    exact = np.array([_skellam_renyi(int(a), mu, shift) for a in orders])
    assert (exact <= bound * (1 + 1e-9)).all()
    gaussian = orders * shift**2 / (2 * mu)
    assert (bound >= gaussian).all()
    if mu >= 200:
        np.testing.assert_allclose(exact, gaussian, rtol=0.05)  # large μ: Skellam ≈ Gaussian


@pytest.mark.parametrize("q", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("sigma", [0.8, 2.0, 5.0])
def test_zhu_wang_bound_is_above_the_exact_subsampled_gaussian(q, sigma):
    every = np.arange(2, 65)
    exact = rdp_subsampled_gaussian(noise_multiplier=sigma, sample_rate=q, steps=1, orders=every)
    bound = acc.subsampled_rdp(every / (2 * sigma**2), sample_rate=q)
    assert (bound >= exact * (1 - 1e-9)).all()
    assert (bound <= every / (2 * sigma**2) + 1e-15).all()
    np.testing.assert_allclose(bound[0], exact[0], rtol=1e-9)  # order 2: the bound is exact


def test_without_sampling_skellam_costs_at_most_half_a_percent_more_noise_than_gaussian():
    l2, l1 = acc.rounded_sensitivities(1.0, 2.0**12, 31)
    for eps in (1, 3, 8):
        sigma = acc.calibrate_gaussian(target_epsilon=eps, sample_rate=1.0, rounds=100, delta=1e-5)
        mu = acc.calibrate_skellam(target_epsilon=eps, l2_sensitivity=l2, l1_sensitivity=l1,
                                   sample_rate=1.0, rounds=100, delta=1e-5)
        ratio = math.sqrt(mu) / (sigma * l2)
        assert 1 <= ratio < 1.005


@pytest.mark.parametrize("sigma, q, rounds", [(1.1, 0.05, 300), (10.0, 1.0, 100), (3.0, 0.2, 50)])
def test_gaussian_epsilon_matches_dp_accounting(sigma, q, rounds):
    import dp_accounting
    from dp_accounting.rdp import RdpAccountant

    ours = acc.gaussian_epsilon(noise_multiplier=sigma, sample_rate=q, rounds=rounds, delta=1e-5)
    theirs = RdpAccountant(list(acc.GAUSSIAN_ORDERS))
    event = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))
    theirs.compose(dp_accounting.SelfComposedDpEvent(event, rounds))
    # dp_accounting evaluates the fractional orders by its own series: agreement to 1e-3 (the issue asks 1 %)
    assert ours == pytest.approx(theirs.get_epsilon(1e-5), rel=1e-3)


def test_calibration_meets_its_target_and_no_less_noise_would():
    sigma = acc.calibrate_gaussian(target_epsilon=3.0, sample_rate=1.0, rounds=100, delta=1e-5)
    assert acc.gaussian_epsilon(noise_multiplier=sigma, sample_rate=1.0, rounds=100, delta=1e-5) <= 3.0
    assert acc.gaussian_epsilon(noise_multiplier=sigma * 0.999, sample_rate=1.0, rounds=100, delta=1e-5) > 3.0


def test_rounded_sensitivities():
    l2, l1 = acc.rounded_sensitivities(1.0, 100.0, 4)
    assert l2 == 102.0 and l1 == 204.0
    l2, l1 = acc.rounded_sensitivities(0.5, 4.0, 9)
    assert l2 == 5.0 and l1 == 15.0


def test_hospital_level_epsilon_is_vacuous_for_the_patient_level_noise():
    eps = acc.hospital_level_epsilon(noise_std=40.0, sensitivity=94.0, rounds=100, delta=1e-5)
    assert eps > 100


def test_group_privacy():
    assert acc.group_privacy(1.0, 1e-6, 2) == pytest.approx((2.0, 2 * math.e * 1e-6))


@pytest.mark.parametrize("delta", [1 / 569, 0.01, 0.5])
def test_delta_not_below_one_over_n_is_refused(delta):
    with pytest.raises(ValueError, match=r"not below 1/n = 1/569"):
        acc.check_delta_for(delta, 569)


# --- noise shares ---------------------------------------------------------------------------


def test_shares_cover_colluders_and_dropouts():
    plan = plan_shares(300.0, hospitals=5, colluders=1, dropouts=1)
    assert plan.share_variance == 100.0
    assert plan.noise_left(included=4, colluding=1) == 300.0  # the worst case still has μ
    assert plan.noise_left(included=3, colluding=1) == 200.0  # one dropout too many: short
    assert plan.excess() == pytest.approx(5 / 3)


@pytest.mark.parametrize("colluders, dropouts", [(4, 1), (3, 2), (5, 0)])
def test_a_plan_with_no_honest_share_is_refused(colluders, dropouts):
    with pytest.raises(ValueError, match=rf"colluders={colluders} and dropouts={dropouts} leave no honest"):
        plan_shares(1.0, hospitals=5, colluders=colluders, dropouts=dropouts)


def test_skellam_shares_sum_to_the_total_variance():
    rng = np.random.default_rng(0)
    total = sum(skellam_noise(rng, 40.0, 200_000) for _ in range(5))
    assert total.dtype == np.int64
    assert abs(total.mean()) < 0.1  # sd of the mean: sqrt(200 / 2e5) = 0.032
    assert total.var() == pytest.approx(200.0, rel=0.02)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=30), st.integers(0, 2**32 - 1))
def test_randomized_rounding_moves_each_value_by_less_than_one(values, seed):
    x = np.array(values)
    r = randomized_round(x, np.random.default_rng(seed))
    assert r.dtype == np.int64 and (np.abs(r - x) < 1).all()


def test_randomized_rounding_is_unbiased():
    r = randomized_round(np.full(100_000, 0.3), np.random.default_rng(1))
    assert r.mean() == pytest.approx(0.3, abs=0.005)


# --- training -------------------------------------------------------------------------------


def _loss(w, x, y):
    z = x @ w[:-1] + w[-1]
    return np.logaddexp(0, z) - y * z


def test_per_patient_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x, y, w = rng.normal(size=(6, 4)), rng.integers(0, 2, 6), rng.normal(size=5)
    g = per_patient_gradients(w, x, y)
    for j in range(5):
        e = np.zeros(5)
        e[j] = 1e-6
        np.testing.assert_allclose(g[:, j], (_loss(w + e, x, y) - _loss(w - e, x, y)) / 2e-6, atol=1e-6)


def test_clipping_bounds_every_patients_norm():
    rng = np.random.default_rng(0)
    x, y, w = 5 * rng.normal(size=(50, 4)), rng.integers(0, 2, 50), rng.normal(size=5)
    g = clipped_gradients(w, x, y, 0.1)
    assert (np.linalg.norm(g, axis=1) <= 0.1 + 1e-12).all()


def test_secure_aggregation_sums_the_noised_integers_exactly(hospitals):
    from ppml_helpers.secagg import simulate

    def secure_sum(ints):
        bound = float(2**40)
        return simulate(np.array(ints, dtype=np.float64), threshold=4, colluders=1, clip_range=bound,
                        bits=63, frac_bits=0, seed=0).sum

    config = TrustConfig("distributed", epsilon=3.0, rounds=3)
    plain = train_consortium(hospitals, config, seed=5)
    secure = train_consortium(hospitals, config, seed=5, sum_fn=secure_sum)
    np.testing.assert_array_equal(plain.weights, secure.weights)


def test_configurations_learn_and_noise_ranks_as_trust_predicts(hospitals):
    runs = {kind: train_consortium(hospitals, TrustConfig(kind, epsilon=None if kind == "non_private" else 3.0,
                                                          rounds=50, lr=0.5), seed=0, evaluate_on=None)
            for kind in ("non_private", "central", "distributed", "local")}
    assert runs["non_private"].history[-1]["auc"] > 0.95
    assert runs["central"].epsilon_spent <= 3.0 and runs["distributed"].epsilon_spent <= 3.0
    stds = [runs[k].noise_std() for k in ("central", "distributed", "local")]
    assert stds == sorted(stds)  # trusted curator < shares sized for a colluder and a dropout < √5 × central
    assert runs["local"].noise_std() == pytest.approx(math.sqrt(5) * runs["central"].noise_std())


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "federated"}, r"kind must be one of"),
    ({"kind": "central"}, r"needs a positive epsilon"),
    ({"kind": "central", "epsilon": 0.0}, r"epsilon must be positive"),
    ({"kind": "central", "epsilon": -1.0}, r"epsilon must be positive"),
    ({"kind": "non_private", "epsilon": 1.0}, r"takes epsilon=None"),
    ({"kind": "local", "epsilon": 1.0, "rounds": 0}, r"rounds must be an integer >= 1"),
])
def test_bad_configurations_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrustConfig(**kwargs)


def test_delta_above_one_over_n_stops_a_run(hospitals):
    with pytest.raises(ValueError, match=r"delta=0.01 is not below 1/n"):
        train_consortium(hospitals, TrustConfig("central", epsilon=1.0, delta=0.01, rounds=2), seed=0)


def test_a_hospital_without_training_patients_stops_a_run(hospitals):
    empty = cap.Hospital("hospital_x", np.zeros((0, 30)), np.zeros(0, np.int64), *[a for h in hospitals[:1]
                         for a in (h.x_val, h.y_val, h.x_test, h.y_test)])
    with pytest.raises(ValueError, match="hospital_x has no training patients"):
        train_consortium([*hospitals[:2], empty], TrustConfig("central", epsilon=1.0, rounds=2), seed=0)
