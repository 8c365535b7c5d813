"""Update compression for the communication lesson: 8-bit quantisation and top-k.

Each compressor maps an update (a state dict of float tensors, the client's
change ``local - global``) to what the server reconstructs, and says how many
bytes it took. Introduced in ``01_federated_averaging``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch

from .aggregate import state_bytes

__all__ = ["Compressed", "Int8Quantizer", "NoCompression", "TopK"]


@dataclass(frozen=True)
class Compressed:
    """What the server receives: the decoded update, the bytes it cost on the wire, and the
    relative error ``||decoded - update||_2 / ||update||_2`` over all tensors (0 when lossless)."""

    update: OrderedDict
    nbytes: int
    rel_error: float


def _rel_error(decoded, original) -> float:
    num = sum(float(((decoded[k] - v).double() ** 2).sum()) for k, v in original.items())
    den = sum(float((v.double() ** 2).sum()) for v in original.values())
    return (num / den) ** 0.5 if den > 0 else 0.0


@dataclass(frozen=True)
class NoCompression:
    """Send float32 as is (4 bytes per value)."""

    def __call__(self, update) -> Compressed:
        out = OrderedDict((k, v.clone()) for k, v in update.items())
        return Compressed(out, state_bytes(update), 0.0)


@dataclass(frozen=True)
class Int8Quantizer:
    """Uniform 8-bit quantisation per tensor: 256 levels between its min and max.

    Sends one byte per value plus the min and the step (two float32) per tensor.
    The error per value is at most half a step, ``(max - min) / 510``. With
    ``stochastic=True`` each value rounds up or down at random with the
    probability that makes the decoded value unbiased (needs ``generator``).
    """

    stochastic: bool = False

    def __call__(self, update, *, generator: torch.Generator | None = None) -> Compressed:
        if self.stochastic and generator is None:
            raise ValueError("generator is required when stochastic=True.")
        out, nbytes = OrderedDict(), 0
        for key, t in update.items():
            lo, hi = t.min(), t.max()
            step = (hi - lo) / 255 if hi > lo else torch.ones((), dtype=t.dtype)
            level = (t - lo) / step
            if self.stochastic:
                level = torch.floor(level + torch.rand(t.shape, generator=generator, dtype=t.dtype))
            else:
                level = torch.round(level)
            q = level.clamp(0, 255).to(torch.uint8)
            out[key] = lo + q.to(t.dtype) * step
            nbytes += q.numel() + 8
        return Compressed(out, nbytes, _rel_error(out, update))


@dataclass(frozen=True)
class TopK:
    """Keep the ``fraction`` of entries with the largest magnitude in each tensor; zero the rest.

    Sends each kept value (float32) with its index (int32): 8 bytes per kept entry.
    Without error feedback: what is dropped is lost, not carried to the next round
    (deployed sparsifiers carry it over).

    Raises:
        ValueError: ``fraction`` outside (0, 1].
    """

    fraction: float

    def __post_init__(self):
        if not 0 < self.fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1]. Got {self.fraction!r}.")

    def __call__(self, update) -> Compressed:
        out, nbytes = OrderedDict(), 0
        for key, t in update.items():
            flat = t.flatten()
            k = max(1, round(self.fraction * flat.numel()))
            idx = flat.abs().topk(k).indices
            sparse = torch.zeros_like(flat)
            sparse[idx] = flat[idx]
            out[key] = sparse.view_as(t)
            nbytes += k * 8
        return Compressed(out, nbytes, _rel_error(out, update))
