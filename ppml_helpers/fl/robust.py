"""Robust aggregation from scratch: coordinate-wise median, trimmed mean and Krum.

Each one replaces FedAvg's weighted mean by a statistic that a few arbitrary client
updates cannot drag far. They are the references Flower's ``FedMedian``,
``FedTrimmedAvg`` and ``Krum`` are tested against (same numbers to float rounding),
and what the exercises in ``02_flower`` are checked with. None of them protects
against a malicious *server*: they defend the model from clients, not clients from
the aggregator.

Introduced in ``02_flower``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from .aggregate import check_states

__all__ = ["KrumChoice", "coordinate_median", "krum", "trimmed_mean"]


def _stacked(states, key):
    return torch.stack([s[key].to(torch.float64) for s in states])


def coordinate_median(states: Sequence[Mapping[str, torch.Tensor]]) -> OrderedDict:
    """Coordinate-wise median of client models (Yin et al., 2018; Flower's ``FedMedian``).

    For an even number of clients the median is the mean of the two middle values,
    as ``numpy.median`` takes it (``torch.median`` would take the lower one). Clients are
    not weighted by their number of examples: weighting would let one client claim a
    huge weight. With fewer than half the clients malicious, every coordinate of the
    result lies between two honest clients' values.

    Raises:
        ValueError: no states, or keys, shapes or dtypes that differ (named).

    >>> coordinate_median([{"w": torch.tensor([0.0])}, {"w": torch.tensor([1.0])},
    ...                    {"w": torch.tensor([100.0])}])["w"]
    tensor([1.])
    """
    states = check_states(states)
    return OrderedDict(
        (key, torch.quantile(_stacked(states, key), 0.5, dim=0).to(ref.dtype))
        for key, ref in states[0].items()
    )


def trimmed_mean(states: Sequence[Mapping[str, torch.Tensor]], *, beta: float) -> OrderedDict:
    """Coordinate-wise trimmed mean (Yin et al., 2018; Flower's ``FedTrimmedAvg``).

    Per coordinate, sorts the n client values, drops ``int(beta * n)`` from each end
    and averages the rest (``scipy.stats.trim_mean``'s rule). It tolerates up to
    ``int(beta * n)`` malicious clients on each side.

    Args:
        states: one state dict per client.
        beta: the fraction cut from each end, in [0, 0.5).

    Raises:
        ValueError: ``beta`` outside [0, 0.5); no states; mismatched states.
    """
    if not 0.0 <= beta < 0.5:
        raise ValueError(f"beta must be in [0, 0.5) (the fraction cut from each end). Got {beta!r}.")
    states = check_states(states)
    cut = int(beta * len(states))
    out = OrderedDict()
    for key, ref in states[0].items():
        values = torch.sort(_stacked(states, key), dim=0).values
        out[key] = values[cut:len(states) - cut].mean(dim=0).to(ref.dtype)
    return out


@dataclass(frozen=True)
class KrumChoice:
    """What Krum decided: the chosen client's index and model, and every client's score."""

    index: int
    state: OrderedDict
    scores: tuple[float, ...]


def krum(states: Sequence[Mapping[str, torch.Tensor]], *, num_malicious: int) -> KrumChoice:
    """Krum (Blanchard et al., NeurIPS 2017; Flower's ``Krum``): keep the one client model
    closest to its neighbours.

    Client i's score is the sum of squared L2 distances from its model to its
    ``n - f - 2`` nearest other models (at least 1), with n clients and f =
    ``num_malicious``; the client with the lowest score is kept, alone. The guarantee
    needs ``n > 2f + 2``.

    Raises:
        ValueError: ``num_malicious`` negative or not below n; no states; mismatched states.
    """
    states = check_states(states)
    n = len(states)
    if not 0 <= num_malicious < n:
        raise ValueError(f"num_malicious must be in [0, {n}) for {n} clients. Got {num_malicious!r}.")
    flat = torch.stack([torch.cat([s[k].to(torch.float64).flatten() for k in states[0]]) for s in states])
    distances = torch.cdist(flat, flat).square()
    closest = max(1, n - num_malicious - 2)
    scores = []
    for i in range(n):
        others = torch.cat([distances[i, :i], distances[i, i + 1:]])
        scores.append(float(torch.sort(others).values[:closest].sum()))
    best = min(range(n), key=scores.__getitem__)
    state = OrderedDict((k, v.clone()) for k, v in states[best].items())
    return KrumChoice(index=best, state=state, scores=tuple(scores))
