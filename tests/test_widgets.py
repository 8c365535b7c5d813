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
    box = roc_explorer(members, nonmembers, alpha=0.05)
    box.children[0].value = 0.8  # threshold at the 80 % quantile of all 250 scores
    text = box.children[1].value
    threshold = np.quantile(np.concatenate([members, nonmembers]), 0.8)
    tp, fp = int((members >= threshold).sum()), int((nonmembers >= threshold).sum())
    assert f"TP = {tp}, FP = {fp}" in text
    bound = epsilon_lower_bound(tp=tp, fn=100 - tp, fp=fp, tn=150 - fp, alpha=0.05)
    assert f"certified ε_LB = {bound.epsilon:.3g}" in text
    with pytest.raises(ValueError, match="member_scores contains"):
        roc_explorer([np.nan], [0.0])
