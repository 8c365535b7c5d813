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
