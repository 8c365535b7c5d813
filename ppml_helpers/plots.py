"""The course's recurring figures; each returns ``(fig, ax)`` (or ``(fig, axes)``)."""

from __future__ import annotations

import numpy as np

__all__ = ["image_grid", "plot_history", "plot_partition", "plot_rounds"]


def _figure(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    return plt.subplots(figsize=figsize)


def plot_history(history, *, metrics=("test_accuracy",), ax=None, label=None):
    """Line plot of one or more per-epoch metrics of a :class:`~ppml_helpers.train.History`."""
    fig, ax = _figure(ax, (6, 3.5))
    for m in metrics:
        values = getattr(history, m, None)
        if not values:
            raise ValueError(f"history has no values for metric {m!r}.")
        ax.plot(history.epoch, values, marker="o", label=label or m.replace("_", " "))
    ax.set_xlabel("epoch")
    ax.legend()
    return fig, ax


def plot_rounds(results, *, target=None, ax=None, title=None, marker="o"):
    """Test accuracy per round for several federated runs: ``{label: FedAvgResult}``, or
    ``{label: [accuracy after round 1, 2, ...]}`` (Flower's runs in ``02_flower``).

    A dashed line marks ``target`` when given.
    """
    fig, ax = _figure(ax, (6, 3.5))
    for label, result in results.items():
        values = list(getattr(result, "accuracy", result))
        ax.plot(range(1, len(values) + 1), values, marker=marker, label=label)
    if target is not None:
        ax.axhline(target, color="grey", ls="--", lw=1)
    ax.set_xlabel("round")
    ax.set_ylabel("test accuracy")
    if title:
        ax.set_title(title)
    ax.legend()
    return fig, ax


def plot_partition(summary, *, ax=None, title="Label counts per client", max_clients: int = 100):
    """Heatmap of a :func:`~ppml_helpers.data.partition_summary` (clients x labels)."""
    import seaborn as sns

    counts = summary.drop(columns="total", errors="ignore").iloc[:max_clients]
    fig, ax = _figure(ax, (6, max(2.5, 0.22 * len(counts) + 1)))
    sns.heatmap(counts, ax=ax, cmap="viridis", cbar_kws={"label": "examples"})
    ax.set_title(title)
    return fig, ax


def image_grid(images, *, titles=None, ncols: int = 8, size: float = 1.4, cmap="gray", vmin=0.0, vmax=1.0):
    """Show a batch of images (``N x C x H x W`` or ``N x H x W``, tensor or array) in a grid."""
    import matplotlib.pyplot as plt

    arr = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if arr.ndim == 4:
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.transpose(0, 2, 3, 1)
    if arr.ndim not in (3, 4):
        raise ValueError(f"images must be N x C x H x W or N x H x W. Got shape {arr.shape}.")
    n = len(arr)
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles has {len(titles)} entries for {n} images.")
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(arr[i], cmap=cmap, vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    return fig, axes
