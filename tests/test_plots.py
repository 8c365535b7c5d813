"""ppml_helpers.plots: the privacy-utility table and curve."""

from __future__ import annotations

import math

import matplotlib
import pandas as pd
import pytest

from ppml_helpers.plots import plot_privacy_utility, privacy_utility_table

matplotlib.use("Agg")

RUNS = pd.DataFrame({
    "epsilon": [1.0, 1.0, 1.0, 8.0, 8.0, 8.0, math.inf, math.inf, math.inf],
    "seed": [0, 1, 2] * 3,
    "accuracy": [0.70, 0.74, 0.72, 0.80, 0.82, 0.81, 0.84, 0.85, 0.86],
})


def test_table_is_the_mean_and_sample_sd_per_epsilon():
    table = privacy_utility_table(RUNS)
    assert list(table.index) == [1.0, 8.0, math.inf]
    assert table.loc[1.0, "mean"] == pytest.approx(0.72)
    assert table.loc[1.0, "sd"] == pytest.approx(0.02)  # sample sd of 0.70, 0.72, 0.74
    assert list(table["runs"]) == [3, 3, 3]


def test_curve_draws_finite_points_and_infinity_at_the_edge():
    _, ax = plot_privacy_utility(RUNS, baseline=0.85)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1", "8", "∞"]
    assert ax.get_xscale() == "log"


def test_table_names_a_missing_column():
    with pytest.raises(ValueError, match="'accuracy'"):
        privacy_utility_table(RUNS.drop(columns="accuracy"))
