"""DP-SGD from scratch: per-example gradients, clipping, Gaussian noise, Poisson sampling.

One step on a batch drawn by Poisson sampling (each of the N examples joins
independently with probability q, so the batch size varies and may be 0):

    g_i = ∇θ loss(θ; x_i, y_i)                     per-example gradients (torch.func.vmap)
    ḡ_i = g_i · min(1, C / (‖g_i‖ + 1e-6))          clip: ‖g_i‖ is over ALL parameters jointly
    g̃   = (Σ_i ḡ_i + N(0, σ²C²·I)) / (q·N)          noise, then divide by the EXPECTED batch size
    θ  ← θ − η·g̃                                   plain SGD (optionally with momentum)

σ is the noise multiplier (noise std divided by the clipping norm C). Dividing
by the expected batch size q·N rather than the drawn one keeps the sensitivity
of the whole step at C / (q·N): the drawn size depends on who is in the batch.
These are Opacus's formulas (``DPOptimizer`` with ``loss_reduction="mean"``), so
with the noise off and the same batch both give the same gradient up to float
rounding (``tests/test_dp_sgd.py`` checks it).

Introduced in ``04_dp_sgd``. Paper: M. Abadi, A. Chu, I. Goodfellow,
H. B. McMahan, I. Mironov, K. Talwar and L. Zhang, "Deep Learning with
Differential Privacy", CCS 2016, https://arxiv.org/abs/1607.00133.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad_and_value, vmap

from ..config import check_seed
from ..train import History, evaluate
from ._validate import check_delta, check_max_grad_norm, check_noise_multiplier, check_sample_rate

__all__ = [
    "ClippedSum",
    "DPHistory",
    "StepInfo",
    "add_noise",
    "clip_and_sum",
    "dp_sgd_step",
    "per_sample_gradients",
    "poisson_sample",
    "steps_per_epoch",
    "train_dp_sgd",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class GaussianNoise(Protocol):
    """What the noise argument must offer (``ppml_helpers.dp.noise.NoiseSource`` does)."""

    def torch_normal(self, shape, *, std: float, dtype: torch.dtype = ...) -> torch.Tensor: ...


class Accountant(Protocol):
    """What the accountant argument must offer (ours and Opacus's ``RDPAccountant`` do)."""

    def step(self, *, noise_multiplier: float, sample_rate: float) -> None: ...

    def get_epsilon(self, *, delta: float) -> float: ...


class ClippedSum(NamedTuple):
    """Result of :func:`clip_and_sum`.

    Attributes:
        grads: Σ_i of the clipped per-example gradients, name → tensor shaped like the parameter.
        norms: the per-example gradient norms BEFORE clipping, shape [B].
    """

    grads: dict[str, torch.Tensor]
    norms: torch.Tensor


class StepInfo(NamedTuple):
    """What one :func:`dp_sgd_step` saw: batch size, summed loss, per-example norms before clipping."""

    batch_size: int
    loss_sum: float
    norms: torch.Tensor


@dataclass
class DPHistory(History):
    """Per-epoch metrics of :func:`train_dp_sgd` (a :class:`ppml_helpers.train.History` plus privacy).

    Attributes:
        epsilon: ε spent after each epoch at ``delta`` (``inf`` when σ = 0: no privacy).
        steps: number of DP-SGD steps taken so far, after each epoch.
        grad_norm: mean per-example gradient norm before clipping, over the epoch.
        clipped: fraction of the epoch's examples whose gradient norm exceeded C.
        delta: the δ at which ε is reported.

    ``train_loss``, ``grad_norm`` and ``clipped`` are computed on the private
    training data without noise: they are for the learner's eyes, not for release.
    """

    epsilon: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clipped: list[float] = field(default_factory=list)
    delta: float | None = None

    def as_frame(self):
        """The history as a pandas DataFrame indexed by epoch."""
        frame = super().as_frame()
        for name in ("epsilon", "steps", "grad_norm", "clipped"):
            frame[name] = getattr(self, name)
        return frame


def _refuse_batchnorm(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            raise ValueError(
                f"model contains {type(module).__name__}: BatchNorm mixes the examples of a batch, "
                "so one example's gradient depends on the others and per-example clipping bounds "
                "nothing. Use GroupNorm or LayerNorm instead (Opacus refuses BatchNorm too)."
            )


def _check_pair(x: torch.Tensor, y: torch.Tensor, name: str) -> None:
    if len(x) != len(y):
        raise ValueError(f"{name}: x and y differ in length ({len(x)} vs {len(y)}).")


def _grads_and_losses(model: nn.Module, x, y, *, loss_fn: LossFn, chunk_size: int | None):
    """Per-example gradients (name → [B, *shape]) and losses [B] in one vmapped call."""
    params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}
    frozen = {k: p.detach() for k, p in model.named_parameters() if not p.requires_grad}
    frozen |= dict(model.named_buffers())
    if len(x) == 0:
        empty = {k: p.new_zeros((0, *p.shape)) for k, p in params.items()}
        return empty, x.new_zeros(0)

    def loss_one(p, xi, yi):
        out = functional_call(model, (p, frozen), (xi.unsqueeze(0),))
        return loss_fn(out, yi.unsqueeze(0))

    per_example = vmap(grad_and_value(loss_one), in_dims=(None, 0, 0), chunk_size=chunk_size)
    grads, losses = per_example(params, x, y)
    return grads, losses


def per_sample_gradients(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, loss_fn: LossFn = F.cross_entropy,
    chunk_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """The gradient of each example's loss, for every trainable parameter, in one vmapped call.

    Uses ``torch.func``: ``vmap(grad(loss of one example))`` with the model
    called through ``functional_call``, so no hooks and no Python loop over
    the batch. The model is used in its current mode (call ``model.train()``).

    Args:
        model: a module without BatchNorm (per-example gradients are undefined with it).
        x, y: a batch of inputs and targets of the same length (may be empty).
        loss_fn: ``loss_fn(outputs, targets)`` on a batch of one; cross-entropy by default.
        chunk_size: process the batch in chunks of this many examples to save memory.

    Returns:
        ``{name: tensor of shape [B, *param.shape]}`` for the parameters that require grad.

    Raises:
        ValueError: x and y differ in length, or the model contains BatchNorm.
    """
    _check_pair(x, y, "x, y")
    _refuse_batchnorm(model)
    return _grads_and_losses(model, x, y, loss_fn=loss_fn, chunk_size=chunk_size)[0]


def clip_and_sum(per_sample: Mapping[str, torch.Tensor], *, max_grad_norm: float) -> ClippedSum:
    """Clip each example's gradient to norm ``max_grad_norm`` and sum over the batch.

    Flat clipping as in Opacus: the norm of example i is taken over all its
    parameters jointly, ‖g_i‖ = sqrt(Σ_p ‖g_{i,p}‖²), and every parameter of
    that example is scaled by min(1, C / (‖g_i‖ + 1e-6)).

    Args:
        per_sample: ``{name: [B, *shape]}`` as returned by :func:`per_sample_gradients`.
        max_grad_norm: the clipping norm C > 0.

    Returns:
        :class:`ClippedSum` with the summed clipped gradients and the norms before clipping.

    Raises:
        ValueError: ``max_grad_norm`` is not positive and finite, or ``per_sample`` is empty.
    """
    clip = check_max_grad_norm(max_grad_norm)
    if not per_sample:
        raise ValueError("per_sample is empty: the model has no trainable parameters.")
    grads = list(per_sample.values())
    n = len(grads[0])
    if n == 0:
        zeros = {k: g.new_zeros(g.shape[1:]) for k, g in per_sample.items()}
        return ClippedSum(zeros, grads[0].new_zeros(0))
    norms = torch.stack([g.reshape(n, -1).norm(2, dim=-1) for g in grads], dim=1).norm(2, dim=1)
    factor = (clip / (norms + 1e-6)).clamp(max=1.0)
    summed = {k: torch.einsum("i,i...", factor, g) for k, g in per_sample.items()}
    return ClippedSum(summed, norms)


def add_noise(
    summed: Mapping[str, torch.Tensor], *, noise_multiplier: float, max_grad_norm: float,
    expected_batch_size: float, noise: GaussianNoise,
) -> dict[str, torch.Tensor]:
    """Add N(0, (σC)²) to every coordinate of the clipped sum, then divide by the expected batch size.

    Args:
        summed: the clipped sum from :func:`clip_and_sum`.
        noise_multiplier: σ ≥ 0, noise std divided by the clipping norm (0: no noise, no privacy).
        max_grad_norm: the clipping norm C used for ``summed``.
        expected_batch_size: q·N, not the drawn batch size (see the module docstring).
        noise: a source with ``torch_normal(shape, *, std, dtype)``, e.g.
            ``NoiseSource(secure=True)``; drawn once for all parameters together.

    Returns:
        ``{name: noisy mean gradient}`` shaped like ``summed``.

    Raises:
        ValueError: any privacy parameter out of range or not finite.
    """
    sigma = check_noise_multiplier(noise_multiplier)
    clip = check_max_grad_norm(max_grad_norm)
    expected = float(expected_batch_size)
    if not 0 < expected < math.inf:
        raise ValueError(f"expected_batch_size must be positive and finite. Got {expected_batch_size!r}.")
    out = {k: g / expected for k, g in summed.items()}
    if sigma == 0:
        return out
    sizes = [g.numel() for g in summed.values()]
    dtype = next(iter(summed.values())).dtype
    flat = noise.torch_normal((sum(sizes),), std=sigma * clip, dtype=dtype)
    for (k, g), z in zip(summed.items(), flat.split(sizes), strict=True):
        out[k] = (g + z.to(g.device).view_as(g)) / expected
    return out


def poisson_sample(num_samples: int, *, sample_rate: float, generator: torch.Generator) -> torch.Tensor:
    """Indices of a Poisson-sampled batch: each of ``num_samples`` joins with probability q.

    Same draw as Opacus's ``UniformWithReplacementSampler``
    (``torch.rand(n, generator=g) < q``), so the same seeded generator gives the same batches.

    Raises:
        ValueError: ``sample_rate`` outside (0, 1].
    """
    q = check_sample_rate(sample_rate)
    return (torch.rand(num_samples, generator=generator) < q).nonzero().view(-1)


def steps_per_epoch(sample_rate: float) -> int:
    """round(1/q) steps make one epoch in expectation (Opacus truncates: int(1/q)).

    >>> steps_per_epoch(256 / 60_000)
    234
    """
    return max(1, round(1 / check_sample_rate(sample_rate)))


def dp_sgd_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
    noise_multiplier: float, max_grad_norm: float, expected_batch_size: float,
    noise: GaussianNoise | None, loss_fn: LossFn = F.cross_entropy, chunk_size: int | None = None,
) -> StepInfo:
    """One DP-SGD step: per-example gradients, clip, sum, noise, divide, ``optimizer.step()``.

    The noisy mean gradient is written into ``p.grad`` of the trainable
    parameters, then ``optimizer`` (e.g. ``torch.optim.SGD``) updates them.
    An empty batch gets noise only.

    Args:
        model, optimizer: the model (train mode) and an optimizer over its parameters.
        x, y: the Poisson-sampled batch.
        noise_multiplier, max_grad_norm, expected_batch_size, noise: as in :func:`add_noise`
            (``noise`` may be ``None`` only when ``noise_multiplier`` is 0).

    Returns:
        :class:`StepInfo` (drawn batch size, summed loss, per-example norms before clipping).

    Raises:
        ValueError: a privacy parameter out of range, x/y lengths differ, or σ > 0 without ``noise``.
    """
    _check_pair(x, y, "x, y")
    if noise is None and check_noise_multiplier(noise_multiplier) > 0:
        raise ValueError("noise is None but noise_multiplier > 0: pass a NoiseSource.")
    grads, losses = _grads_and_losses(model, x, y, loss_fn=loss_fn, chunk_size=chunk_size)
    clipped = clip_and_sum(grads, max_grad_norm=max_grad_norm)
    noisy = add_noise(
        clipped.grads, noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
        expected_batch_size=expected_batch_size, noise=noise,
    )
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.grad = noisy[name]
        optimizer.step()
    return StepInfo(len(y), float(losses.sum()), clipped.norms)


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive number. Got {value!r}.")
    if not 0 < value < math.inf:
        raise ValueError(f"{name} must be positive and finite. Got {value!r}.")
    return float(value)


def train_dp_sgd(
    model: nn.Module,
    train_data: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    lr: float,
    sample_rate: float,
    noise_multiplier: float,
    max_grad_norm: float,
    delta: float,
    seed: int,
    noise: GaussianNoise | None,
    accountant: Accountant | None = None,
    momentum: float = 0.0,
    test_data=None,
    loss_fn: LossFn = F.cross_entropy,
    progress: bool = True,
) -> DPHistory:
    """Train ``model`` with DP-SGD (Abadi et al. 2016); return the per-epoch history with ε.

    Each epoch is :func:`steps_per_epoch` steps; each step Poisson-samples a
    batch (a ``torch.Generator`` seeded with ``seed``), runs :func:`dp_sgd_step`
    and steps the accountant once with ``(noise_multiplier, sample_rate)``.
    After each epoch ε at ``delta`` is read from the accountant and
    ``test_data`` (if given) is evaluated.

    Args:
        model: a module without BatchNorm, trained in place.
        train_data: ``(x, y)`` tensors (Poisson sampling needs the whole index set).
        epochs: number of epochs (≥ 1).
        lr: SGD learning rate (> 0).
        sample_rate: q in (0, 1]; the expected batch size is q·N.
        noise_multiplier: σ ≥ 0, noise std / clipping norm (0 still clips: no privacy, ε = inf).
        max_grad_norm: the clipping norm C > 0.
        delta: the δ in (0, 1) at which ε is reported.
        seed: seeds the batch sampling.
        noise: the ``torch_normal`` source, required so that the choice is visible:
            ``NoiseSource(seed=...)`` is repeatable (teaching, tests) and predictable to
            whoever knows the seed; ``NoiseSource(secure=True)`` (OS entropy) is what a real
            release needs. ``None`` only with ``noise_multiplier=0`` (no noise is added).
        accountant: anything with ``step(*, noise_multiplier, sample_rate)`` and
            ``get_epsilon(delta=...)``; ``None`` means a fresh ``ppml_helpers.dp.rdp.RDPAccountant``.
            Not stepped when σ = 0.
        momentum: SGD momentum in [0, 1).
        test_data: ``(x, y)`` evaluated after each epoch.
        loss_fn: per-example loss, cross-entropy by default.
        progress: show a ``tqdm.auto`` bar over steps.

    Returns:
        :class:`DPHistory`.

    Raises:
        ValueError: any input out of range (naming it), x/y of different lengths, BatchNorm.
    """
    from tqdm.auto import tqdm

    if not (isinstance(train_data, (tuple, list)) and len(train_data) == 2
            and all(isinstance(t, torch.Tensor) for t in train_data)):
        raise ValueError("train_data must be a pair of tensors (x, y): Poisson sampling needs "
                         "random access to every example.")
    x, y = train_data
    _check_pair(x, y, "train_data")
    if len(x) == 0:
        raise ValueError("train_data is empty.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer of at least 1. Got {epochs!r}.")
    lr = _positive(lr, "lr")
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1). Got {momentum!r}.")
    q = check_sample_rate(sample_rate)
    sigma = check_noise_multiplier(noise_multiplier)
    clip = check_max_grad_norm(max_grad_norm)
    delta = check_delta(delta)
    seed = check_seed(seed)
    _refuse_batchnorm(model)
    if noise is None and sigma > 0:
        raise ValueError(
            f"noise is None but noise_multiplier={sigma:g} > 0: pass noise=NoiseSource(seed=...) for a "
            "repeatable teaching run, or noise=NoiseSource(secure=True) for a release (a seeded "
            "source is predictable to whoever knows the seed)."
        )
    if accountant is None and sigma > 0:
        from .rdp import RDPAccountant

        accountant = RDPAccountant()

    device = next(model.parameters()).device
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    generator = torch.Generator().manual_seed(seed)
    n, steps = len(x), steps_per_epoch(q)
    history = DPHistory(delta=delta)
    for epoch in range(1, epochs + 1):
        model.train()
        loss_sum, seen, norm_sum, clipped = 0.0, 0, 0.0, 0
        bar = tqdm(range(steps), desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for _ in bar:
            idx = poisson_sample(n, sample_rate=q, generator=generator)
            info = dp_sgd_step(
                model, optimizer, x[idx].to(device), y[idx].to(device), noise_multiplier=sigma,
                max_grad_norm=clip, expected_batch_size=q * n, noise=noise, loss_fn=loss_fn,
            )
            if sigma > 0:
                accountant.step(noise_multiplier=sigma, sample_rate=q)
            loss_sum += info.loss_sum
            seen += info.batch_size
            norm_sum += float(info.norms.sum())
            clipped += int((info.norms > clip).sum())
        history.epoch.append(epoch)
        history.train_loss.append(loss_sum / max(seen, 1))
        history.steps.append(epoch * steps)
        history.grad_norm.append(norm_sum / max(seen, 1))
        history.clipped.append(clipped / max(seen, 1))
        history.epsilon.append(math.inf if sigma == 0 else float(accountant.get_epsilon(delta=delta)))
        if test_data is not None:
            ev = evaluate(model, test_data, batch_size=1024, device=device)
            history.test_loss.append(ev.loss)
            history.test_accuracy.append(ev.accuracy)
    return history
