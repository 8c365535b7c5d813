"""Split a labelled dataset among simulated federated clients.

Each partitioner returns a list of ``num_clients`` sorted index arrays that
together cover every index exactly once. Introduced in ``01_federated_averaging``.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd

from ..config import check_seed

__all__ = [
    "label_skew",
    "partition_dirichlet",
    "partition_iid",
    "partition_shards",
    "partition_summary",
]


def _labels(labels) -> np.ndarray:
    arr = labels.numpy() if hasattr(labels, "numpy") else np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class ids. Got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError("labels must not be empty.")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"labels must be integers (class ids). Got dtype {arr.dtype}.")
    return arr


def _num_clients(num_clients, n: int) -> int:
    if isinstance(num_clients, bool) or not isinstance(num_clients, (int, np.integer)):
        raise TypeError(f"num_clients must be an integer. Got {num_clients!r}.")
    if not 1 <= num_clients <= n:
        raise ValueError(
            f"num_clients must be between 1 and the number of examples ({n}). Got {num_clients}."
        )
    return int(num_clients)


def partition_iid(labels, num_clients: int, *, seed) -> list[np.ndarray]:
    """Shuffle the indices and deal them into ``num_clients`` near-equal parts.

    Sizes differ by at most one. The label mix of each part follows the whole.

    >>> [len(p) for p in partition_iid(np.arange(10) % 2, 3, seed=0)]
    [4, 3, 3]
    """
    y = _labels(labels)
    k = _num_clients(num_clients, len(y))
    perm = np.random.default_rng(check_seed(seed)).permutation(len(y))
    return [np.sort(part) for part in np.array_split(perm, k)]


def partition_dirichlet(
    labels, num_clients: int, *, alpha: float, seed, min_size: int = 10, max_tries: int = 1000
) -> list[np.ndarray]:
    """Label-skewed split: each class is spread over clients by Dirichlet(alpha) shares.

    For every class c, draw ``p ~ Dir(alpha * 1_K)`` and give client k a share
    ``p_k`` of class c's (shuffled) examples; redraw everything until each
    client holds at least ``min_size`` examples (the scheme of Yurochkin et al.
    2019 and NIID-Bench, Li et al. 2022; Hsu, Qi & Brown 2019 instead draw a
    label mix per client). Large
    alpha (100) is close to IID; alpha = 0.1 gives most clients one or two
    dominant classes.

    Raises:
        ValueError: alpha <= 0, min_size impossible (``min_size * num_clients > n``),
            or no draw met ``min_size`` in ``max_tries`` attempts.
    """
    y = _labels(labels)
    k = _num_clients(num_clients, len(y))
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise ValueError(f"alpha must be a positive finite number. Got {alpha!r}.")
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be a positive finite number. Got {alpha!r}.")
    if isinstance(min_size, bool) or not isinstance(min_size, (int, np.integer)):
        raise ValueError(f"min_size must be an integer. Got {min_size!r}.")
    if isinstance(max_tries, bool) or not isinstance(max_tries, (int, np.integer)) or max_tries < 1:
        raise ValueError(f"max_tries must be a positive integer. Got {max_tries!r}.")
    if min_size < 0 or min_size * k > len(y):
        raise ValueError(
            f"min_size must be in [0, n / num_clients] = [0, {len(y) // k}]. Got {min_size}."
        )
    rng = np.random.default_rng(check_seed(seed))
    classes = np.unique(y)
    by_class = [np.flatnonzero(y == c) for c in classes]
    for _ in range(max_tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(k)]
        for idx in by_class:
            idx = rng.permutation(idx)
            shares = rng.dirichlet(np.full(k, float(alpha)))
            cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(int)
            for client, piece in enumerate(np.split(idx, cuts)):
                parts[client].append(piece)
        out = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(p) for p in out) >= min_size:
            return out
    raise ValueError(
        f"No Dirichlet(alpha={alpha}) draw gave every one of {k} clients at least "
        f"{min_size} examples in {max_tries} tries. Lower min_size or raise alpha."
    )


def partition_shards(labels, num_clients: int, *, shards_per_client: int = 2, seed) -> list[np.ndarray]:
    """McMahan et al.'s pathological non-IID split: sort by label, cut shards, deal them.

    The paper sorts MNIST by label, cuts 200 shards of 300 and gives each of
    100 clients two, so most clients see two digits. Here every shard lies
    within one label (shards go one at a time to the label whose shards are
    currently largest, D'Hondt style, so sizes are as equal as the label counts
    allow and none is empty), so a client never holds more than
    ``shards_per_client`` labels; shard sizes then vary by a few percent
    instead of the paper's straddling shards giving some clients a third label.

    Raises:
        ValueError: ``shards_per_client < 1`` or fewer shards in all than classes.
    """
    y = _labels(labels)
    k = _num_clients(num_clients, len(y))
    if isinstance(shards_per_client, bool) or not isinstance(shards_per_client, (int, np.integer)):
        raise TypeError(f"shards_per_client must be an integer. Got {shards_per_client!r}.")
    if shards_per_client < 1:
        raise ValueError(f"shards_per_client must be at least 1. Got {shards_per_client}.")
    classes, counts = np.unique(y, return_counts=True)
    total = k * shards_per_client
    if total < len(classes):
        raise ValueError(
            f"num_clients * shards_per_client = {total} shards cannot hold {len(classes)} "
            f"classes without losing some; use at least {len(classes)} shards."
        )
    if total > len(y):
        raise ValueError(f"{total} shards are more than the {len(y)} examples.")
    per_class = _shards_per_class(counts, total)
    rng = np.random.default_rng(check_seed(seed))
    shards = []
    for c, m in zip(classes, per_class, strict=True):
        idx = rng.permutation(np.flatnonzero(y == c))
        shards.extend(np.array_split(idx, m))
    order = rng.permutation(total)
    return [
        np.sort(np.concatenate([shards[s] for s in order[i::k]])) for i in range(k)
    ]


def _shards_per_class(counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` shards over classes: one each, then each next one to the class
    with the largest current shard size (``count / shards``), never past ``count``."""
    per_class = np.ones(len(counts), dtype=int)
    heap = [(-float(c), i) for i, c in enumerate(counts) if c > 1]
    heapq.heapify(heap)
    for _ in range(total - len(counts)):
        _, i = heapq.heappop(heap)
        per_class[i] += 1
        if per_class[i] < counts[i]:
            heapq.heappush(heap, (-counts[i] / per_class[i], i))
    return per_class


def partition_summary(labels, parts) -> pd.DataFrame:
    """Per-client label counts: one row per client, one column per class, plus ``total``."""
    y = _labels(labels)
    classes = np.unique(y)
    rows = []
    for i, idx in enumerate(parts):
        idx = np.asarray(idx)
        if idx.size and (idx.min() < 0 or idx.max() >= len(y)):
            raise ValueError(f"parts[{i}] has indices outside [0, {len(y)}).")
        counts = pd.Series(y[idx]).value_counts().reindex(classes, fill_value=0)
        rows.append(counts.to_numpy())
    df = pd.DataFrame(rows, columns=[int(c) for c in classes])
    df.index.name = "client"
    df.columns.name = "label"
    df["total"] = df.sum(axis=1)
    return df


def label_skew(labels, parts) -> float:
    """Mean over clients of the share of its examples that carry its most common label.

    1/num_classes for a perfectly balanced split, 1.0 when every client holds one label.
    Empty clients are skipped.
    """
    counts = partition_summary(labels, parts).drop(columns="total").to_numpy()
    sizes = counts.sum(axis=1)
    keep = sizes > 0
    return float(np.mean(counts[keep].max(axis=1) / sizes[keep]))
