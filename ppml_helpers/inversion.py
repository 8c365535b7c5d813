"""Gradient inversion: what a server can rebuild from one client's update.

Deep Leakage from Gradients (DLG, Zhu, Liu & Han 2019) optimises a dummy
input until its gradient matches the observed one; iDLG (Zhao, Mopuri &
Bilen 2020) first reads the label off the last layer's gradient, which makes
the optimisation easier and more reliable. Introduced in ``00_threat_models``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import check_seed

__all__ = [
    "InversionResult",
    "dlg_attack",
    "dlg_init_",
    "model_gradients",
    "privatize_gradient",
    "reconstruction_mse",
    "recover_label",
]


def dlg_init_(model: nn.Module, *, seed: int, bound: float = 0.5) -> nn.Module:
    """Re-initialise every weight and bias uniformly in ``[-bound, bound]`` (Zhu et al.'s setup).

    Wider initial weights than PyTorch's default make the gradient carry more
    of the input, which is the untrained-model regime DLG was shown in.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)
    return model


def model_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """The update a client would send: the gradient of the mean cross-entropy on ``(x, y)``.

    Returns one detached tensor per parameter, in ``model.parameters()`` order.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    loss = F.cross_entropy(model(x), y)
    return [g.detach() for g in torch.autograd.grad(loss, params)]


def recover_label(last_weight_grad: torch.Tensor) -> int:
    """iDLG: the label of a single example from the last linear layer's weight gradient.

    With softmax cross-entropy, the gradient for output row ``i`` is
    ``(p_i - y_i) * h`` where ``h`` is the layer's input. ``p_i - y_i`` is
    negative only for the true class, so when ``h >= 0`` (after a sigmoid or a
    ReLU) the true class is the one row whose entries sum to a negative number.

    Args:
        last_weight_grad: ``num_classes x features`` gradient of the last layer's weight.

    Raises:
        ValueError: not a 2-D tensor.
    """
    if not isinstance(last_weight_grad, torch.Tensor) or last_weight_grad.ndim != 2:
        raise ValueError(
            "last_weight_grad must be the 2-D (num_classes x features) weight gradient "
            f"of the last linear layer. Got {type(last_weight_grad).__name__} with shape "
            f"{tuple(getattr(last_weight_grad, 'shape', ()))}."
        )
    return int(last_weight_grad.sum(dim=1).argmin())


def privatize_gradient(
    grads: list[torch.Tensor], *, max_norm: float, noise_multiplier: float, generator: torch.Generator
) -> list[torch.Tensor]:
    """Clip an update to L2 norm ``max_norm`` and add Gaussian noise of std ``noise_multiplier * max_norm``.

    This is the per-example step of DP-SGD (Abadi et al. 2016; ``04_dp_sgd``)
    applied to one client's whole update. ``noise_multiplier`` is the noise's
    standard deviation divided by the clipping bound, as in Opacus.

    Raises:
        ValueError: no tensors, ``max_norm`` not positive and finite,
            ``noise_multiplier`` negative or not finite.
        TypeError: ``generator`` is not a ``torch.Generator``.
    """
    if not grads:
        raise ValueError("grads is empty: give one tensor per parameter.")
    if not (isinstance(max_norm, (int, float)) and math.isfinite(max_norm) and max_norm > 0):
        raise ValueError(f"max_norm must be positive and finite. Got {max_norm!r}.")
    if not (isinstance(noise_multiplier, (int, float)) and math.isfinite(noise_multiplier)
            and noise_multiplier >= 0):
        raise ValueError(f"noise_multiplier must be non-negative and finite. Got {noise_multiplier!r}.")
    if not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator (seed it for a repeatable demo). Got {generator!r}."
        )
    norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / (float(norm) + 1e-12))
    std = noise_multiplier * max_norm
    return [
        g * scale + std * torch.randn(g.shape, generator=generator, dtype=g.dtype) for g in grads
    ]


def reconstruction_mse(reconstruction: torch.Tensor, original: torch.Tensor) -> float:
    """Mean squared error after clamping the reconstruction to the pixel range [0, 1],
    as it is shown; the course uses this one rule for every attack it scores."""
    if reconstruction.shape != original.shape:
        raise ValueError(
            f"reconstruction has shape {tuple(reconstruction.shape)}, original "
            f"{tuple(original.shape)}; they must match."
        )
    return float(((reconstruction.clamp(0, 1) - original) ** 2).mean())


@dataclass(frozen=True)
class InversionResult:
    """What a gradient-inversion attack produced.

    Attributes:
        reconstruction: the recovered inputs, same shape as the attacked batch.
        labels: the labels used (recovered or optimised) as an int tensor.
        losses: gradient-matching loss after each L-BFGS step (the last one is the
            loss of ``reconstruction``).
    """

    reconstruction: torch.Tensor
    labels: torch.Tensor
    losses: tuple[float, ...]


def _matching_loss(model, params, x, y_or_logits, targets, soft: bool, distance: str):
    out = model(x)
    if soft:
        loss = torch.mean(torch.sum(-F.softmax(y_or_logits, -1) * F.log_softmax(out, -1), -1))
    else:
        loss = F.cross_entropy(out, y_or_logits)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    if distance == "l2":
        return sum(((g - t) ** 2).sum() for g, t in zip(grads, targets, strict=True))
    dot = sum((g * t).sum() for g, t in zip(grads, targets, strict=True))
    gnorm = torch.sqrt(sum((g**2).sum() for g in grads))
    tnorm = torch.sqrt(sum((t**2).sum() for t in targets))
    return 1 - dot / (gnorm * tnorm + 1e-12)


def dlg_attack(
    model: nn.Module,
    target_grads: list[torch.Tensor],
    *,
    shape: tuple[int, ...],
    labels: torch.Tensor | None = None,
    num_classes: int = 10,
    iterations: int = 100,
    distance: str = "l2",
    seed: int,
    progress: bool = False,
) -> InversionResult:
    """Rebuild a batch from its gradient by gradient matching with L-BFGS (DLG / iDLG).

    Starting from Gaussian noise ``x'`` (and, without ``labels``, random soft
    labels ``y'``), minimise ``sum_l ||grad_l(x', y') - target_l||^2`` over
    ``x'`` (and ``y'``). Pass the labels (e.g. from :func:`recover_label`) for
    iDLG, which optimises the image alone.

    Args:
        model: the model the gradient was computed on, in the same state.
        target_grads: the observed gradient, one tensor per parameter.
        shape: the batch shape to rebuild, e.g. ``(1, 1, 28, 28)``.
        labels: known labels (``shape[0]`` ints), or ``None`` to optimise soft labels.
        iterations: L-BFGS steps (each runs up to 20 function evaluations).
        distance: ``"l2"`` (DLG's squared distance) or ``"cosine"`` (one minus the
            cosine similarity, Geiping et al. 2020): blind to the gradient's scale,
            so clipping alone does not stop it.
        seed: seeds the dummy initialisation.

    Raises:
        ValueError: gradients that do not match the model's parameters, or bad labels.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if len(target_grads) != len(params) or any(
        g.shape != p.shape for g, p in zip(target_grads, params, strict=False)
    ):
        raise ValueError(
            "target_grads must hold one tensor per trainable parameter of model, with the "
            f"same shapes: expected {[tuple(p.shape) for p in params]}, got "
            f"{[tuple(g.shape) for g in target_grads]}."
        )
    check_seed(seed)
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise ValueError(f"iterations must be an integer. Got {iterations!r}.")
    if distance not in ("l2", "cosine"):
        raise ValueError(f"distance must be 'l2' or 'cosine'. Got {distance!r}.")
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1. Got {iterations}.")
    gen = torch.Generator().manual_seed(seed)
    dummy_x = torch.randn(shape, generator=gen).requires_grad_(True)
    if labels is None:
        dummy_y = torch.randn((shape[0], num_classes), generator=gen).requires_grad_(True)
        variables, soft = [dummy_x, dummy_y], True
    else:
        raw = torch.as_tensor(labels).reshape(-1)
        if raw.is_floating_point() or raw.is_complex() or raw.dtype == torch.bool:
            raise ValueError(f"labels must be integer class ids. Got {raw.tolist()}.")
        labels = raw.to(torch.int64)
        if labels.numel() != shape[0] or labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f"labels must hold {shape[0]} class ids in [0, {num_classes}). Got {labels.tolist()}."
            )
        dummy_y, variables, soft = labels, [dummy_x], False
    targets = [t.detach() for t in target_grads]
    opt = torch.optim.LBFGS(variables, lr=1.0)

    def closure():
        opt.zero_grad()
        loss = _matching_loss(model, params, dummy_x, dummy_y, targets, soft, distance)
        loss.backward()
        return loss

    before = []  # L-BFGS's step() returns the loss at the point it started from
    steps = range(iterations)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="DLG", leave=False)
    for _ in steps:
        loss = float(opt.step(closure).detach())
        converged = bool(before) and loss == before[-1]  # L-BFGS made no more progress
        before.append(loss)
        if converged or not math.isfinite(loss) or loss < 1e-12:
            break
    final = float(_matching_loss(model, params, dummy_x, dummy_y, targets, soft, distance).detach())
    losses = [*before[1:], final]
    final_labels = dummy_y.detach().argmax(-1) if soft else dummy_y
    return InversionResult(dummy_x.detach(), final_labels, tuple(losses))
