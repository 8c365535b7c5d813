"""ppml_helpers.mia: ROC metrics and ε bounds against independent computations; attacks; audit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import ppml_helpers as ph
from ppml_helpers import mia

# ---------------------------------------------------------------- ROC metrics


def _brute_auc(members, nonmembers):
    """P(member score > non-member score) + half the ties, over all pairs."""
    m, n = np.asarray(members)[:, None], np.asarray(nonmembers)[None, :]
    return float((m > n).mean() + 0.5 * (m == n).mean())


def _brute_tpr_at(members, nonmembers, target):
    """Best TPR over every threshold (flag score >= t) whose FPR is at most target."""
    best = 0.0
    for t in np.unique(np.concatenate([members, nonmembers, [np.inf]])):
        if (nonmembers >= t).mean() <= target:
            best = max(best, (members >= t).mean())
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_metrics_match_brute_force_and_mann_whitney(seed):
    rng = np.random.default_rng(seed)
    members = np.round(rng.normal(0.5, 1, 300), 1)  # rounding makes ties
    nonmembers = np.round(rng.normal(0, 1, 1200), 1)
    r = mia.roc_metrics(members, nonmembers)
    assert r.auc == pytest.approx(_brute_auc(members, nonmembers), abs=1e-12)
    u = stats.mannwhitneyu(members, nonmembers, alternative="two-sided").statistic
    assert r.auc == pytest.approx(u / (members.size * nonmembers.size), abs=1e-12)
    assert r.tpr_at_0_1pct_fpr == _brute_tpr_at(members, nonmembers, 0.001)
    assert r.tpr_at_1pct_fpr == _brute_tpr_at(members, nonmembers, 0.01)
    thresholds = np.unique(np.concatenate([members, nonmembers]))
    balanced = max(((members >= t).mean() + (nonmembers < t).mean()) / 2 for t in thresholds)
    assert r.balanced_accuracy == pytest.approx(max(balanced, 0.5), abs=1e-12)
    assert r.fpr[0] == r.tpr[0] == 0 and r.fpr[-1] == r.tpr[-1] == 1
    assert (np.diff(r.fpr) >= 0).all() and (np.diff(r.tpr) >= 0).all()


def test_perfect_and_useless_attacks():
    perfect = mia.roc_metrics([2.0, 3.0], [0.0, 1.0])
    assert perfect.auc == 1 and perfect.balanced_accuracy == 1 and perfect.tpr_at_0_1pct_fpr == 1
    same = mia.roc_metrics([1.0, 1.0], [1.0, 1.0, 1.0])
    assert same.auc == 0.5 and same.balanced_accuracy == 0.5 and same.tpr_at_1pct_fpr == 0


@pytest.mark.parametrize(
    ("members", "nonmembers", "match"),
    [
        ([[1.0, 2.0]], [0.0], "member_scores must be a 1-D"),
        ([1.0, np.nan], [0.0], "member_scores contains 1 non-finite"),
        ([1.0], [np.inf], "nonmember_scores contains 1 non-finite"),
        ([], [0.0], "member_scores is empty"),
    ],
)
def test_roc_metrics_refuse_bad_scores(members, nonmembers, match):
    with pytest.raises(ValueError, match=match):
        mia.roc_metrics(members, nonmembers)


# ---------------------------------------------------------------- ε lower bounds


@pytest.mark.parametrize(("k", "n"), [(0, 50), (3, 50), (25, 50), (50, 50), (917, 1000)])
def test_clopper_pearson_equals_scipys_exact_interval(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    assert mia.clopper_pearson(k, n, alpha=0.05) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize(
    ("tp", "fn", "fp", "tn", "delta"),
    [(900, 100, 50, 950, 0.0), (990, 10, 2, 998, 1e-5), (1000, 0, 0, 1000, 0.0), (600, 400, 300, 700, 0.0)],
)
def test_epsilon_lower_bound_equals_its_formula_on_scipy_intervals(tp, fn, fp, tn, delta):
    b = mia.epsilon_lower_bound(tp=tp, fn=fn, fp=fp, tn=tn, alpha=0.05, delta=delta)
    tpr_lo = stats.binomtest(tp, tp + fn).proportion_ci(0.95, method="exact").low
    fpr_hi = stats.binomtest(fp, fp + tn).proportion_ci(0.95, method="exact").high
    assert b.epsilon == pytest.approx(max(0.0, math.log((tpr_lo - delta) / fpr_hi)), abs=1e-9)
    assert b.epsilon <= b.epsilon_point
    assert b.tpr == tp / (tp + fn) and b.fpr == fp / (fp + tn)


def test_a_guessing_attack_certifies_nothing_and_more_runs_certify_more():
    assert mia.epsilon_lower_bound(tp=500, fn=500, fp=500, tn=500, alpha=0.05).epsilon == 0.0
    small = mia.max_certifiable_epsilon(100, alpha=0.05)
    large = mia.max_certifiable_epsilon(10_000, alpha=0.05)
    assert small < large
    # a perfect test over M runs per side certifies ln(TPR_lo / FPR_hi) with TPR_lo = 1 - FPR_hi
    fpr_hi = 1 - (0.025) ** (1 / 10_000)
    assert large == pytest.approx(math.log((1 - fpr_hi) / fpr_hi), rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tp": -1}, "tp must be a non-negative integer"),
        ({"fp": 1.5}, "fp must be a non-negative integer"),
        ({"tp": 0, "fn": 0}, "tp \\+ fn must be at least 1"),
        ({"fp": 0, "tn": 0}, "fp \\+ tn must be at least 1"),
        ({"alpha": 0.0}, "alpha must lie in \\(0, 1\\)"),
        ({"alpha": 1.0}, "alpha must lie in \\(0, 1\\)"),
        ({"delta": 1.0}, "delta must lie in \\[0, 1\\)"),
        ({"delta": -0.1}, "delta must lie in \\[0, 1\\)"),
    ],
)
def test_epsilon_lower_bound_refuses_bad_counts(kwargs, match):
    args = {"tp": 10, "fn": 5, "fp": 3, "tn": 12, "alpha": 0.05} | kwargs
    with pytest.raises(ValueError, match=match):
        mia.epsilon_lower_bound(**args)


# ---------------------------------------------------------------- attacks


def test_logit_confidence_is_log_odds_of_the_true_class():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    y = torch.tensor([0, 2])
    p = torch.softmax(logits.double(), 1)[torch.arange(2), y]
    assert mia.logit_confidence(logits, y) == pytest.approx((p / (1 - p)).log().numpy(), rel=1e-12)
    big = torch.tensor([[60.0, -60.0]])  # p_y = 1 - 1e-52: direct log(p/(1-p)) would give inf
    assert mia.logit_confidence(big, torch.tensor([0]))[0] == pytest.approx(120.0)


def test_loss_attack_is_minus_cross_entropy():
    logits, y = torch.randn(5, 3), torch.tensor([0, 1, 2, 0, 1])
    expected = -torch.nn.functional.cross_entropy(logits.double(), y, reduction="none")
    assert mia.loss_attack(logits, y) == pytest.approx(expected.numpy())
    with pytest.raises(ValueError, match="y must hold class indices"):
        mia.loss_attack(logits, torch.tensor([0, 1, 2, 0, 3]))


def _synthetic_lira(seed=0, n=400, models=32):
    """φ of IN models ~ N(μ_i + 2, 1), OUT ~ N(μ_i, 1), with μ_i spread widely per example.

    Model 0 is the target, the other ``models - 1`` are its shadows."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 5, n)
    masks = mia.population_masks(n, models, seed=seed)
    phi = mu + rng.normal(0, 1, (models, n)) + 2.0 * masks
    return phi[0], phi[1:], masks[1:], masks[0]


def test_lira_beats_a_global_threshold_when_examples_differ_in_difficulty():
    target, shadow, in_mask, members = _synthetic_lira()
    for online in (True, False):
        scores = mia.lira_scores(target, shadow, in_mask, online=online)
        assert mia.roc_metrics(scores[members], scores[~members]).auc > 0.8
    # thresholding φ itself (the loss attack's idea) drowns in the spread of μ_i
    assert mia.roc_metrics(target[members], target[~members]).auc < 0.7


def test_offline_lira_is_the_z_score_against_the_out_models():
    target, shadow, in_mask, _ = _synthetic_lira(seed=1, n=50, models=8)
    scores = mia.lira_scores(target, shadow, in_mask, online=False, fix_variance=False)
    for i in (0, 7, 49):
        out = shadow[~in_mask[:, i], i]
        assert scores[i] == pytest.approx((target[i] - out.mean()) / out.std(ddof=1))


def test_lira_refuses_mismatched_shapes_and_missing_out_models():
    target, shadow, in_mask, _ = _synthetic_lira(n=20, models=4)
    with pytest.raises(ValueError, match="shadow_phi must have shape"):
        mia.lira_scores(target[:-1], shadow, in_mask)
    with pytest.raises(ValueError, match="in_mask must be a bool array"):
        mia.lira_scores(target, shadow, in_mask.astype(int))
    with pytest.raises(ValueError, match="at least 2 OUT models"):
        mia.lira_scores(target, shadow, np.ones_like(in_mask))
    with pytest.raises(ValueError, match="target_phi contains 1 non-finite"):
        mia.lira_scores(np.r_[target[:-1], np.nan], shadow, in_mask)


def test_shadow_attack_learns_that_members_are_confident():
    rng = np.random.default_rng(0)
    models, n = 8, 300
    masks = mia.population_masks(n, models, seed=0)
    y = torch.from_numpy(rng.integers(0, 2, n))
    margin = torch.from_numpy(rng.normal(0, 1, (models, n)) + 2.5 * masks)
    logits = torch.zeros(models, n, 2, dtype=torch.float64)
    logits[..., 0] = torch.where(y == 0, margin, -margin)
    scores = mia.shadow_attack(logits[1:], masks[1:], y, logits[0])
    assert mia.roc_metrics(scores[masks[0]], scores[~masks[0]]).auc > 0.85


# ---------------------------------------------------------------- shadow models


def test_population_masks_put_every_example_in_half_the_models():
    masks = mia.population_masks(101, 16, seed=3)
    assert masks.shape == (16, 101) and (masks.sum(axis=0) == 8).all()
    assert (np.abs(masks.sum(axis=1) - 50.5) < 20).all()
    with pytest.raises(ValueError, match="num_models must be an even integer"):
        mia.population_masks(10, 3, seed=0)


def test_stacked_training_equals_training_each_model_alone():
    torch.manual_seed(0)
    x, y = torch.randn(40, 6), torch.randint(0, 3, (40,))
    masks = mia.population_masks(40, 4, seed=0)

    def make():
        return ph.models.MLP(6, 8, 3)

    stack = mia.train_models(make, x, y, masks, epochs=1, lr=0.5, momentum=0.9, batch_size=40, seed=0)
    # batch_size >= subset size: one full-batch step per epoch, so the order does not matter
    torch.manual_seed(0)
    models = [make() for _ in range(4)]
    for m, model in enumerate(models):
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        keep = torch.from_numpy(masks[m])
        torch.nn.functional.cross_entropy(model(x[keep]), y[keep]).backward()
        opt.step()
        assert torch.allclose(stack.model(m)(x), model(x), atol=1e-5)
    assert torch.allclose(stack.logits(x)[2], models[2](x), atol=1e-5)


def test_dp_training_with_a_huge_clipping_norm_and_no_noise_is_sgd_on_the_expected_batch():
    torch.manual_seed(1)
    x, y = torch.randn(30, 5), torch.randint(0, 2, (30,))
    masks = np.ones((2, 30), dtype=bool)

    def make():
        return ph.models.LogisticRegression(5, 2)

    # q = 1: every example in every step; σ = 0, C huge: the plain full-batch gradient
    stack = mia.train_models(make, x, y, masks, epochs=2, lr=0.3, seed=0, noise_multiplier=0.0,
                             max_grad_norm=1e6, sample_rate=1.0)
    torch.manual_seed(0)
    model = make()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    assert torch.allclose(stack.model(0)(x), model(x), atol=1e-5)


def test_dp_clipping_uses_each_examples_joint_norm():
    # Per-example norms from δ_i and a_i must equal those of ph.dp's per-sample gradients:
    # with C tiny every example is clipped, so one step moves by lr·Σ_i g_i/‖g_i‖ / (q·n).
    torch.manual_seed(2)
    x, y = torch.randn(12, 4), torch.randint(0, 2, (12,))

    def make():
        return ph.models.MLP(4, 6, 2)

    clip = 1e-3
    stack = mia.train_models(make, x, y, np.ones((1, 12), dtype=bool), epochs=1, lr=1.0, seed=0,
                             noise_multiplier=0.0, max_grad_norm=clip, sample_rate=1.0)
    torch.manual_seed(0)
    model = make()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clipped = ph.dp.clip_and_sum(ph.dp.per_sample_gradients(model, x, y), max_grad_norm=clip)
    after = stack.model(0).state_dict()
    for k, g in clipped.grads.items():
        assert torch.allclose(before[k] - g / 12, after[k], atol=1e-6), k


def test_train_models_refuses_bad_settings():
    x, y = torch.randn(10, 3), torch.randint(0, 2, (10,))
    masks = np.ones((2, 10), dtype=bool)

    def make():
        return ph.models.MLP(3, 4, 2)

    with pytest.raises(ValueError, match="masks must be bool"):
        mia.train_models(make, x, y, masks[:, :5], epochs=1, lr=0.1, batch_size=4, seed=0)
    with pytest.raises(ValueError, match="go together"):
        mia.train_models(make, x, y, masks, epochs=1, lr=0.1, seed=0, noise_multiplier=1.0)
    with pytest.raises(ValueError, match="LayerStack"):
        mia.train_models(lambda: ph.models.SmallCNN(), x, y, masks, epochs=1, lr=0.1, batch_size=4, seed=0)
    with pytest.raises(ValueError, match="lr must be positive"):
        mia.train_models(make, x, y, masks, epochs=1, lr=-1.0, batch_size=4, seed=0)


# ---------------------------------------------------------------- audit


def _gaussian_mechanism(shift: float):
    """One run: N(shift, 1) with the canary, N(0, 1) without (the projection on the canary)."""

    def mechanism(with_canary, runs, rng):
        return rng.normal(shift if with_canary else 0.0, 1.0, runs)

    return mechanism


def test_audit_of_a_correct_gaussian_mechanism_stays_below_its_epsilon():
    # shift Δ/σ with σ from the analytic Gaussian for ε = 1, δ = 1e-5
    sigma = ph.dp.gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0, method="analytic")
    result = mia.audit_mechanism(_gaussian_mechanism(1 / sigma), trials=2000, delta=1e-5, seed=0)
    assert result.epsilon_lb < 1.0
    assert result.tp + result.fn == result.fp + result.tn == 2000


def test_audit_catches_a_mechanism_far_weaker_than_claimed():
    result = mia.audit_mechanism(_gaussian_mechanism(10.0), trials=1000, delta=1e-5, seed=0)
    assert result.epsilon_lb > 4.0  # near the cap for 1,000 runs
    assert result.epsilon_lb <= mia.max_certifiable_epsilon(1000, alpha=0.05, delta=1e-5) + 1e-12


def test_audit_refuses_bad_mechanisms_and_trials():
    with pytest.raises(ValueError, match="trials must be a positive integer"):
        mia.audit_mechanism(_gaussian_mechanism(1.0), trials=0, seed=0)
    with pytest.raises(ValueError, match="returned 3 scores for 10 runs"):
        mia.audit_mechanism(lambda c, runs, rng: np.zeros(3), trials=10, seed=0)
    with pytest.raises(ValueError, match="mechanism output contains"):
        mia.audit_mechanism(lambda c, runs, rng: np.full(runs, np.nan), trials=10, seed=0)
