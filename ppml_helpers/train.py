"""Plain training and evaluation loops with ``tqdm.auto`` progress and a returned history.

Data is a pair of tensors ``(x, y)`` or any iterable of ``(x, y)`` batches
(a ``DataLoader``). Introduced in ``01_federated_averaging``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Evaluation", "History", "batches", "evaluate", "fit"]


class Evaluation(NamedTuple):
    """Mean cross-entropy loss and accuracy (fraction in [0, 1])."""

    loss: float
    accuracy: float


@dataclass
class History:
    """Per-epoch metrics returned by :func:`fit` (test metrics only when test data was given)."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    def as_frame(self):
        """The history as a pandas DataFrame indexed by epoch."""
        import pandas as pd

        cols = {"train_loss": self.train_loss}
        if self.test_loss:
            cols |= {"test_loss": self.test_loss, "test_accuracy": self.test_accuracy}
        return pd.DataFrame(cols, index=pd.Index(self.epoch, name="epoch"))


def _check_pair(data, name: str):
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(
        isinstance(t, torch.Tensor) for t in data
    ):
        x, y = data
        if len(x) != len(y):
            raise ValueError(f"{name}: x and y differ in length ({len(x)} vs {len(y)}).")
        return x, y
    return None


def batches(data, *, batch_size: int, shuffle: bool, generator: torch.Generator | None = None):
    """Yield ``(x, y)`` batches from a tensor pair, or pass a ``DataLoader`` through."""
    pair = _check_pair(data, "data")
    if pair is None:
        yield from data
        return
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1. Got {batch_size}.")
    x, y = pair
    order = torch.randperm(len(x), generator=generator) if shuffle else torch.arange(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        yield x[idx], y[idx]


@torch.no_grad()
def evaluate(model: nn.Module, data, *, batch_size: int = 128, device=None) -> Evaluation:
    """Mean cross-entropy and accuracy of ``model`` on ``data`` (model left in eval mode)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    total, loss_sum, correct = 0, 0.0, 0
    for xb, yb in batches(data, batch_size=batch_size, shuffle=False):
        xb, yb = xb.to(device), yb.to(device)
        out = model(xb)
        loss_sum += float(F.cross_entropy(out, yb, reduction="sum"))
        correct += int((out.argmax(1) == yb).sum())
        total += len(yb)
    if total == 0:
        raise ValueError("data is empty: nothing to evaluate.")
    return Evaluation(loss_sum / total, correct / total)


def fit(
    model: nn.Module,
    train_data,
    *,
    epochs: int = 1,
    lr: float = 0.01,
    batch_size: int = 64,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    seed: int,
    test_data=None,
    device=None,
    progress: bool = True,
) -> History:
    """Train ``model`` with minibatch SGD on cross-entropy; return the per-epoch history.

    Args:
        train_data: ``(x, y)`` tensors (shuffled with ``seed`` each epoch) or a DataLoader.
        epochs, lr, batch_size, momentum, weight_decay: the usual SGD knobs.
        seed: seeds the shuffling.
        test_data: evaluated after each epoch when given.
        progress: show a ``tqdm.auto`` bar over batches.
    """
    from tqdm.auto import tqdm

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1. Got {epochs}.")
    if not lr > 0:
        raise ValueError(f"lr must be positive. Got {lr!r}.")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    history = History()
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, seen = 0.0, 0
        it = batches(train_data, batch_size=batch_size, shuffle=True, generator=gen)
        for xb, yb in tqdm(it, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress):
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(yb)
            seen += len(yb)
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / max(seen, 1))
        if test_data is not None:
            ev = evaluate(model, test_data, device=device)
            history.test_loss.append(ev.loss)
            history.test_accuracy.append(ev.accuracy)
    return history
