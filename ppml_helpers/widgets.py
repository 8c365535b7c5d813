"""ipywidgets explorers for the notebooks; each returns a widget to display.

Introduced in ``01_federated_averaging`` (Dirichlet alpha against label skew).
"""

from __future__ import annotations

import numpy as np

from .config import check_seed
from .data.partitions import label_skew, partition_dirichlet, partition_summary

__all__ = ["dirichlet_explorer"]


def dirichlet_explorer(labels, num_clients: int = 20, *, seed: int = 0, alpha: float = 1.0):
    """A slider for Dirichlet alpha (log scale, 0.01 to 1000) that redraws the partition heatmap.

    Each move re-partitions ``labels`` among ``num_clients`` with
    :func:`~ppml_helpers.data.partition_dirichlet` (same ``seed``) and shows the
    per-client label counts and the mean top-label share (:func:`label_skew`).

    Returns:
        An ``ipywidgets.VBox``; its ``.children`` are the slider, a summary line and the plot.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from .plots import plot_partition

    check_seed(seed)
    slider = w.FloatLogSlider(value=alpha, base=10, min=-2, max=3, step=0.1, description="alpha",
                              continuous_update=False, readout_format=".3g")
    summary_line = w.HTML()
    out = w.Output()

    def redraw(change=None):
        a = float(slider.value)
        parts = partition_dirichlet(labels, num_clients, alpha=a, seed=seed, min_size=1)
        skew = label_skew(labels, parts)
        sizes = [len(p) for p in parts]
        summary_line.value = (
            f"alpha = {a:.3g}: mean top-label share {skew:.2f} "
            f"(balanced: {1 / len(np.unique(np.asarray(labels))):.2f}); "
            f"client sizes {min(sizes)} to {max(sizes)}"
        )
        out.clear_output(wait=True)
        with out:
            fig, _ = plot_partition(partition_summary(labels, parts), title=f"Dirichlet(alpha={a:.3g})")
            plt.show()
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return w.VBox([slider, summary_line, out])
