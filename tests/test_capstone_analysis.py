"""ppml_helpers.capstone's secure aggregation in the loop, attacks and generated privacy report.

The report's ε is recomputed by dp_accounting from the report's own JSON parameters.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from ppml_helpers import capstone as cap
from ppml_helpers.capstone import accounting as acc
from ppml_helpers.capstone.attacks import audit_round, invert_linear, membership_inference
from ppml_helpers.capstone.report import analyse, parameters_of, privacy_report, write_report
from ppml_helpers.capstone.secure import plan_threshold, secure_sum
from ppml_helpers.capstone.training import TrustConfig, per_patient_gradients, train_consortium


@pytest.fixture(scope="module")
def hospitals():
    return cap.split_hospitals(seed=0)


@pytest.fixture(scope="module")
def runs(hospitals):
    return {kind: train_consortium(hospitals, TrustConfig(kind, epsilon=3.0, rounds=40, lr=0.5), seed=0,
                                   evaluate_on=None)
            for kind in ("central", "local", "distributed")}


# --- secure aggregation ---------------------------------------------------------------------


def test_the_plans_threshold_is_n_minus_d_when_the_colluder_rule_allows_it():
    assert plan_threshold(5, colluders=1, dropouts=1) == 4
    assert plan_threshold(5, colluders=0, dropouts=1) == 4  # not 3: the plan allows one missing share only
    assert plan_threshold(10, colluders=2, dropouts=1) == 9
    with pytest.raises(ValueError, match=r"no threshold works for n=5 hospitals, colluders=2, dropouts=2"):
        plan_threshold(5, colluders=2, dropouts=2)


def test_secure_sum_refuses_more_dropouts_than_the_plan():
    x = np.arange(5 * 3).reshape(5, 3)
    from ppml_helpers.secagg import DropoutError

    with pytest.raises(DropoutError):
        secure_sum(x, colluders=0, dropouts_tolerated=1, dropouts={3: 2, 4: 2}, seed=0)


def test_secure_sum_is_exact_and_a_dropout_takes_its_input_out():
    rng = np.random.default_rng(0)
    x = rng.integers(-2**38, 2**38, size=(5, 31))
    full = secure_sum(x, colluders=1, dropouts_tolerated=1, seed=0)
    np.testing.assert_array_equal(full.sum, x.sum(axis=0))
    dropped = secure_sum(x, colluders=1, dropouts_tolerated=1, dropouts={3: 2}, seed=0)
    assert dropped.included == (0, 1, 2, 4)
    np.testing.assert_array_equal(dropped.sum, x[[0, 1, 2, 4]].sum(axis=0))


def test_secure_sum_refuses_floats_and_values_past_the_bound():
    with pytest.raises(ValueError, match="integer vector per hospital"):
        secure_sum(np.ones((5, 3)), colluders=1, dropouts_tolerated=1, seed=0)
    with pytest.raises(ValueError, match="above 2\\^40"):
        secure_sum(np.full((5, 3), 2**41), colluders=1, dropouts_tolerated=1, seed=0)


# --- attacks --------------------------------------------------------------------------------


def test_one_patients_gradient_gives_the_patient_back(hospitals):
    h = hospitals[4]
    g = per_patient_gradients(np.full(31, 0.1), h.x_train[:1], h.y_train[:1])[0]
    np.testing.assert_allclose(invert_linear(g), h.x_train[0], atol=1e-12)
    with pytest.raises(ValueError, match="bias gradient is 0"):
        invert_linear(np.zeros(31))


def test_the_audit_stays_below_an_honest_claim_and_catches_too_many_colluders(hospitals):
    one_round = train_consortium(hospitals, TrustConfig("distributed", epsilon=1.0, rounds=1), seed=0,
                                 evaluate_on=None)
    honest, claimed, actual = audit_round(one_round, trials=50_000, seed=0)  # the plan's worst case
    assert actual == pytest.approx(claimed) and honest.epsilon_lb <= claimed
    broken, claimed, actual = audit_round(one_round, colluding=3, trials=200_000, seed=0)
    assert actual > 1.5 * claimed  # 3 colluders and a dropout leave 1 of 5 shares; the plan allowed for 3
    assert broken.epsilon_lb > claimed  # and the audit refutes the claim
    with pytest.raises(ValueError, match="colluding=4 and dropped=1 leave no honest share"):
        audit_round(one_round, colluding=4, seed=0)
    gaussian = train_consortium(hospitals, TrustConfig("distributed", epsilon=1.0, rounds=1, noise="gaussian"), seed=0)
    with pytest.raises(ValueError, match="noise='gaussian'"):
        audit_round(gaussian, seed=0)


def test_membership_inference_pools_its_targets(hospitals):
    result = membership_inference(hospitals, TrustConfig("central", epsilon=3.0, rounds=10), models=8,
                                  targets=2, seed=0)
    assert result.members + result.nonmembers == 2 * 569
    for roc in (result.loss, result.lira):
        assert 0.3 < roc.auc < 0.7  # a 31-parameter DP model: close to guessing
        assert 0 <= roc.tpr_at_0_1pct_fpr <= roc.tpr_at_1pct_fpr <= 1


# --- the report -----------------------------------------------------------------------------


def _dp_accounting_rdp(sigma: float, rounds: int, delta: float) -> float:
    import dp_accounting
    from dp_accounting.rdp import RdpAccountant

    accountant = RdpAccountant(list(acc.GAUSSIAN_ORDERS))
    accountant.compose(dp_accounting.GaussianDpEvent(sigma), rounds)
    return accountant.get_epsilon(delta)


@pytest.mark.parametrize("kind", ["central", "local"])
def test_reported_epsilon_is_dp_accountings_within_one_percent(runs, hospitals, kind):
    report = privacy_report(analyse(runs[kind], hospitals, tuning=[runs[kind].config] * 3))
    p = parameters_of(report)
    theirs = _dp_accounting_rdp(p["noise_multiplier"], p["rounds"], p["delta"])
    assert p["epsilon"] == pytest.approx(theirs, rel=0.01)
    assert p["epsilon_with_tuning"] == pytest.approx(_dp_accounting_rdp(p["noise_multiplier"], 4 * p["rounds"],
                                                                         p["delta"]), rel=0.01)
    assert p["epsilon_pld"] <= p["epsilon"]  # PLD is tight, RDP an upper bound
    assert p["mu_gdp"] == pytest.approx(math.sqrt(p["rounds"]) / p["noise_multiplier"])


def test_reported_skellam_epsilon_is_within_one_percent_of_the_gaussian_of_its_variance(runs, hospitals):
    report = privacy_report(analyse(runs["distributed"], hospitals))
    p = parameters_of(report)
    gaussian = _dp_accounting_rdp(math.sqrt(p["skellam_variance"]) / p["l2_sensitivity"], p["rounds"], p["delta"])
    assert gaussian <= p["epsilon"] <= 1.01 * gaussian  # Skellam's extra term is tiny at this variance
    assert p["threshold"] == 4 and p["share_variance"] == pytest.approx(p["skellam_variance"] / 3)


def test_report_has_every_section_and_is_written(runs, hospitals, tmp_path):
    audit = audit_round(runs["distributed"], trials=2000, seed=0)
    analysis = analyse(runs["distributed"], hospitals, tuning=[replace(runs["distributed"].config, epsilon=1.0)],
                       audit=audit, utility={"test AUC": 0.99})
    text = privacy_report(analysis)
    for heading in ("Claim", "Trust model", "Privacy unit and adjacency", "Mechanism and parameters", "Accounting",
                    "The numbers", "What secure aggregation adds", "Empirical audit", "Utility cost",
                    "Residual risks", "For the IRB, in plain words", "Parameters (machine-readable)"):
        assert f"## {heading}" in text
    assert "hospital-level DP with five silos is vacuous" in text
    assert "counts all 2 training runs" in text
    assert analysis.epsilon < analysis.epsilon_with_tuning < analysis.epsilon + 1.0 + 0.5  # ε = 3 and a run at ε = 1
    assert write_report(analysis, tmp_path / "privacy.md").read_text(encoding="utf-8") == text


def test_a_non_private_run_has_no_analysis(hospitals):
    run = train_consortium(hospitals, TrustConfig("non_private", rounds=1), seed=0, evaluate_on=None)
    with pytest.raises(ValueError, match="no privacy guarantee"):
        analyse(run, hospitals)
