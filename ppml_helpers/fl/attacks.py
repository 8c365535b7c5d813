"""Malicious clients: the boosted sign-flip (model poisoning) and label flipping (data
poisoning). They are what the robust aggregators of ``02_flower`` are tried against.

Introduced in ``02_flower``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import torch

from .aggregate import check_states

__all__ = ["flip_labels", "sign_flip"]


def sign_flip(global_state: Mapping[str, torch.Tensor], honest_state: Mapping[str, torch.Tensor], *,
              boost: float) -> OrderedDict:
    """The boosted sign-flip attack: send ``global - boost * (honest - global)``.

    The client trains honestly, then reports the opposite of its update, ``boost``
    times larger. With f of n equal-weight clients doing it, FedAvg's step becomes
    ``(n - f - f * boost) / n`` times the honest one: negative once ``f * (1 + boost) > n``
    (2 of 10 clients with boost 10 give -1.2x: the model walks uphill).

    Raises:
        ValueError: ``boost`` not positive; states whose keys, shapes or dtypes differ.

    >>> g, h = {"w": torch.tensor([1.0])}, {"w": torch.tensor([1.5])}
    >>> sign_flip(g, h, boost=10.0)["w"]
    tensor([-4.])
    """
    if not boost > 0:
        raise ValueError(f"boost must be positive (how many times the honest update is sent, negated). "
                         f"Got {boost!r}.")
    check_states([global_state, honest_state])
    return OrderedDict((k, global_state[k] - boost * (honest_state[k] - global_state[k])) for k in global_state)


def flip_labels(y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Label flipping: class c becomes ``num_classes - 1 - c`` (for MNIST, a 0 is labelled 9).

    Raises:
        ValueError: a label outside ``[0, num_classes)``.

    >>> flip_labels(torch.tensor([0, 3, 9]))
    tensor([9, 6, 0])
    """
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}). Got values from {int(y.min())} "
                         f"to {int(y.max())}.")
    return num_classes - 1 - y
