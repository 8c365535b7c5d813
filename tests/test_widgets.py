"""ppml_helpers.widgets: the Dirichlet explorer redraws and reports skew as alpha moves."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest

from ppml_helpers.data import label_skew, partition_iid
from ppml_helpers.widgets import dirichlet_explorer

matplotlib.use("Agg")
LABELS = np.repeat(np.arange(10), 200)


def _share(box) -> float:
    return float(re.search(r"top-label share ([0-9.]+)", box.children[1].value).group(1))


def test_label_skew_extremes():
    one_label_each = [np.flatnonzero(LABELS == c) for c in range(10)]
    assert label_skew(LABELS, one_label_each) == 1.0
    assert label_skew(LABELS, partition_iid(LABELS, 2, seed=0)) < 0.12


def test_moving_the_slider_redraws_with_more_skew():
    box = dirichlet_explorer(LABELS, 10, seed=0, alpha=100.0)
    near_iid = _share(box)
    box.children[0].value = 0.1
    assert "alpha = 0.1" in box.children[1].value
    assert _share(box) > near_iid + 0.3


def test_explorer_needs_a_seed():
    with pytest.raises(ValueError, match="seed"):
        dirichlet_explorer(LABELS, 10, seed=None)


def _scale(box, name: str) -> float:
    return float(re.search(name + r" = ([0-9.e+-]+)", box.children[3].value).group(1))


def test_noise_explorer_scales_follow_epsilon_delta_and_sensitivity():
    from ppml_helpers.dp import gaussian_sigma
    from ppml_helpers.widgets import noise_explorer

    box = noise_explorer(100.0, epsilon=1.0, delta=1e-5, sensitivity=1.0)
    assert _scale(box, "scale b") == pytest.approx(1.0)
    box.children[0].value = 0.1  # ε down: ten times the Laplace noise
    assert _scale(box, "scale b") == pytest.approx(10.0, rel=1e-2)
    box.children[2].value = 2.0  # Δ doubled
    assert _scale(box, "scale b") == pytest.approx(20.0, rel=2e-2)
    sigma_before = _scale(box, "σ")
    box.children[1].value = 1e-9  # smaller δ costs more Gaussian noise
    assert _scale(box, "σ") > sigma_before
    assert _scale(box, "σ") == pytest.approx(
        gaussian_sigma(epsilon=box.children[0].value, delta=1e-9, sensitivity=box.children[2].value), rel=1e-2
    )


def test_roc_explorer_reports_the_counts_at_the_chosen_quantile():
    from ppml_helpers.mia import epsilon_lower_bound
    from ppml_helpers.widgets import roc_explorer

    members, nonmembers = np.arange(100.0, 200.0), np.arange(0.0, 150.0)
    box = roc_explorer(members, nonmembers)
    box.children[0].value = 0.8  # threshold at the 80 % quantile of all 250 scores
    text = box.children[1].value
    threshold = np.quantile(np.concatenate([members, nonmembers]), 0.8)
    tp, fp = int((members >= threshold).sum()), int((nonmembers >= threshold).sum())
    assert f"TP = {tp}, FP = {fp}" in text
    bound = epsilon_lower_bound(tp=tp, fn=100 - tp, fp=fp, tn=150 - fp, alpha=0.05)
    assert f"ln((TPR - δ)/FPR) = {bound.epsilon_point:.3g}: a point estimate" in text
    assert "not a certified ε" in text and "ε_LB" not in text
    with pytest.raises(ValueError, match="member_scores contains"):
        roc_explorer([np.nan], [0.0])


def test_he_parameter_explorer_shows_the_report_of_the_chosen_parameters():
    import html

    from ppml_helpers.he import parameter_report
    from ppml_helpers.widgets import he_parameter_explorer

    def shown(box):
        return html.unescape(box.children[6].value)

    def report(chain, degree, scale):
        return parameter_report(poly_modulus_degree=degree, coeff_mod_bit_sizes=chain, global_scale_bits=scale)

    box = he_parameter_explorer()  # 8192, [60, 40, 40, 60], scale 40: secure
    degree, first, levels, middle, special, scale = box.children[:6]
    r = report([60, 40, 40, 60], 8192, 40)
    assert r.valid and r.verdict in shown(box)
    assert "200 of 218 modulus bits; slots = 4096; depth = 2; ciphertext = 384 KiB" in shown(box)

    levels.value = 3  # [60, 40, 40, 40, 60] = 240 bits > 218: insecure at N = 8192
    r = report([60, 40, 40, 40, 60], 8192, 40)
    assert not r.secure and r.verdict.startswith("insecure") and r.verdict in shown(box)
    assert "240 of 218 modulus bits" in shown(box) and "depth = 3" in shown(box)

    degree.value = 16384  # the same chain is secure with twice the degree
    r = report([60, 40, 40, 40, 60], 16384, 40)
    assert r.valid and r.verdict in shown(box)
    assert f"slots = 8192; depth = 3; ciphertext = {r.ciphertext_bytes / 1024:.0f} KiB" in shown(box)

    scale.value = 30  # middle primes no longer match the scale: invalid, though secure
    r = report([60, 40, 40, 40, 60], 16384, 30)
    assert r.secure and not r.valid and r.verdict.startswith("invalid") and r.verdict in shown(box)
    for control, value in ((middle, 30), (first, 50), (special, 50)):
        control.value = value
    r = report([50, 30, 30, 30, 50], 16384, 30)
    assert r.valid and r.verdict in shown(box) and f"|x| < {r.max_abs_value:g}" in shown(box)


def test_he_parameter_explorer_refuses_a_degree_outside_the_table():
    from ppml_helpers.widgets import he_parameter_explorer

    with pytest.raises(ValueError, match="poly_modulus_degree"):
        he_parameter_explorer(poly_modulus_degree=3000)
    with pytest.raises(ValueError, match="depth"):
        he_parameter_explorer(depth=-1)
