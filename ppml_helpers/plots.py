"""The course's recurring figures; each returns ``(fig, ax)`` (or ``(fig, axes)``)."""

from __future__ import annotations

import numpy as np

__all__ = ["image_grid", "plot_history", "plot_partition", "plot_privacy_utility", "plot_rounds", "privacy_utility_table"]


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


def privacy_utility_table(results, *, metric: str = "accuracy"):
    """Mean, standard deviation and count of ``metric`` per ε over seeds.

    Args:
        results: a DataFrame (or records) with an ``epsilon`` column (``inf`` for no
            noise) and one row per (ε, seed) run.

    Returns:
        A DataFrame indexed by ε (ascending, ``inf`` last) with ``mean``, ``sd`` and ``runs``.
    """
    import pandas as pd

    frame = pd.DataFrame(results)
    for col in ("epsilon", metric):
        if col not in frame:
            raise ValueError(f"results need an {col!r} column. Got columns {list(frame.columns)}.")
    grouped = frame.groupby("epsilon")[metric]
    table = pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=1), "runs": grouped.size()})
    return table.sort_index()


def plot_privacy_utility(results, *, metric: str = "accuracy", baseline=None, ax=None, title=None,
                         label=None):
    """Privacy–utility curve: ``metric`` mean ± sd over seeds against ε (log axis).

    The ε = ∞ runs (no noise), if any, are drawn at the right edge and labelled ∞;
    ``baseline`` (e.g. the non-private model's accuracy) is a dashed line.
    """
    table = privacy_utility_table(results, metric=metric)
    finite = table[np.isfinite(table.index)]
    fig, ax = _figure(ax, (6, 3.8))
    line = ax.errorbar(finite.index, finite["mean"], yerr=finite["sd"].fillna(0), marker="o", capsize=3,
                       label=label or f"{metric} (mean ± sd over seeds)")
    ax.set_xscale("log")
    if np.isinf(table.index).any():
        x_inf = finite.index.max() * 3 if len(finite) else 1.0
        inf_row = table.loc[np.inf]
        ax.errorbar([x_inf], [inf_row["mean"]], yerr=[0 if np.isnan(inf_row["sd"]) else inf_row["sd"]],
                    marker="s", capsize=3, color=line[0].get_color())
        ticks = [*finite.index, x_inf]
        ax.set_xticks(ticks, [f"{e:g}" for e in finite.index] + ["∞"])
        ax.minorticks_off()
    if baseline is not None:
        ax.axhline(baseline, color="grey", ls="--", lw=1, label="non-private")
    ax.set_xlabel("ε")
    ax.set_ylabel(metric.replace("_", " "))
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
