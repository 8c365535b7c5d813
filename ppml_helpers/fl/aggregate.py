"""Server-side aggregation: the weighted average of client models (FedAvg).

Introduced in ``01_federated_averaging``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import torch

__all__ = ["check_states", "fedavg", "state_bytes"]


def _check_weights(weights, n: int) -> list[float]:
    weights = list(weights)
    if len(weights) != n:
        raise ValueError(f"weights has {len(weights)} entries for {n} states; give one per state.")
    out = []
    for i, w in enumerate(weights):
        try:
            value = float(w)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"weights[{i}] must be a number. Got {w!r}.") from exc
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"weights[{i}] must be positive and finite (e.g. the client's number of "
                f"examples). Got {w!r}."
            )
        out.append(value)
    return out


def check_states(states: Sequence[Mapping[str, torch.Tensor]]) -> list:
    """``states`` as a list, after checking they share keys, shapes and dtypes.

    Raises:
        ValueError: no states, or a key, shape or dtype that differs from ``states[0]`` (named).
    """
    states = list(states)
    if not states:
        raise ValueError("states is empty: at least one client state is needed to aggregate.")
    ref = states[0]
    for i, s in enumerate(states[1:], start=1):
        if set(s) != set(ref):
            extra, missing = sorted(set(s) - set(ref)), sorted(set(ref) - set(s))
            raise ValueError(
                f"states[{i}] has different keys from states[0]: extra {extra}, missing {missing}."
            )
        for key, t in s.items():
            if t.shape != ref[key].shape:
                raise ValueError(
                    f"key {key!r}: states[{i}] has shape {tuple(t.shape)}, states[0] "
                    f"{tuple(ref[key].shape)}."
                )
            if t.dtype != ref[key].dtype:
                raise ValueError(f"key {key!r}: states[{i}] has dtype {t.dtype}, states[0] {ref[key].dtype}.")
    return states


def fedavg(states: Sequence[Mapping[str, torch.Tensor]], weights) -> OrderedDict:
    """Weighted average of model state dicts: ``sum_k w_k * state_k / sum_k w_k``.

    McMahan et al. (2017) weight client k by its number of examples ``n_k``,
    so the average equals the update one big dataset would give (for one
    gradient step). Sums are taken in float64 and cast back to each entry's dtype.

    Args:
        states: one state dict per client, all with the same keys, shapes and dtypes.
        weights: one positive, finite weight per state.

    Returns:
        A new ``OrderedDict`` with the keys in the first state's order.

    Raises:
        ValueError: no states; a different number of weights; a weight that is not
            positive and finite; keys, shapes or dtypes that differ (named).

    >>> a, b = {"w": torch.tensor([0.0])}, {"w": torch.tensor([3.0])}
    >>> fedavg([a, b], [2, 1])["w"]
    tensor([1.])
    """
    states = check_states(states)
    w = _check_weights(weights, len(states))
    ref = states[0]
    total = sum(w)
    out = OrderedDict()
    for key, first in ref.items():
        acc = torch.zeros(first.shape, dtype=torch.float64, device=first.device)
        for wk, s in zip(w, states, strict=True):
            acc += (wk / total) * s[key].to(torch.float64)
        out[key] = acc.round().to(first.dtype) if not first.is_floating_point() else acc.to(first.dtype)
    return out


def state_bytes(state: Mapping[str, torch.Tensor]) -> int:
    """Bytes needed to send a state dict uncompressed (``numel * element_size`` summed)."""
    return sum(t.numel() * t.element_size() for t in state.values())
