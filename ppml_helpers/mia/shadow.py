"""Many small models trained at once, each on its own subset: the shadow models of LiRA.

LiRA (Carlini et al. 2022) needs dozens of models trained like the target,
each on a random half of a population. Training them one by one is the cost
of the attack; here every model's parameters are stacked and one
``torch.func.vmap`` step updates all of them, each on its own batch (batches
of unequal length are padded with zero-weight rows). With
``noise_multiplier`` set, every model is trained with DP-SGD (Poisson
sampling at rate q over its own subset, joint per-example clipping to C,
Gaussian noise σC on the clipped sum, division by the expected batch size):
the formulas of :mod:`ppml_helpers.dp.sgd`. Introduced in ``05_membership_inference``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from ..config import check_seed
from ..dp._validate import check_max_grad_norm, check_noise_multiplier

__all__ = ["ModelStack", "population_masks", "train_models"]


def population_masks(num_examples: int, num_models: int, *, seed: int) -> np.ndarray:
    """Which model trains on which example: a bool array [num_models, num_examples].

    Every example is in exactly half of the models (num_models even), so
    each has as many IN as OUT models; each model gets about half of the
    examples (Carlini et al.'s construction: rank a uniform matrix per example).
    """
    if isinstance(num_models, bool) or not isinstance(num_models, int) or num_models < 2 or num_models % 2:
        raise ValueError(f"num_models must be an even integer of at least 2. Got {num_models!r}.")
    if isinstance(num_examples, bool) or not isinstance(num_examples, int) or num_examples < 1:
        raise ValueError(f"num_examples must be a positive integer. Got {num_examples!r}.")
    rng = np.random.default_rng(check_seed(seed))
    ranks = rng.random((num_models, num_examples)).argsort(axis=0).argsort(axis=0)
    return ranks < num_models // 2


class ModelStack:
    """``num_models`` copies of one architecture with stacked parameters.

    ``logits(x)`` runs every model on the same inputs: a tensor [models, n, classes].
    ``model(i)`` returns model i as an ordinary ``nn.Module``.
    """

    def __init__(self, make_model: Callable[[], nn.Module], params: dict[str, torch.Tensor],
                 buffers: dict[str, torch.Tensor]):
        self._make = make_model
        self.params, self.buffers = params, buffers
        self._base = make_model().to("meta")

    def __len__(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def _call(self, p, b, x):
        return functional_call(self._base, (p, b), (x,))

    @torch.no_grad()
    def logits(self, x: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
        """Every model's logits on ``x``: [models, n, classes]."""
        run = vmap(self._call, in_dims=(0, 0, None))
        outs = [run(self.params, self.buffers, x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        return torch.cat(outs, dim=1)

    def model(self, index: int) -> nn.Module:
        """Model ``index`` as a standalone module (a copy)."""
        module = self._make()
        state = {k: v[index].clone() for k, v in {**self.params, **self.buffers}.items()}
        module.load_state_dict(state)
        return module


def _plan(masks: torch.Tensor, *, batch_size: int | None, sample_rate: float | None,
          generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One epoch of batches for every model: indices [steps, models, B] and weights (0 = padding)."""
    rows = []
    if sample_rate is None:  # shuffled mini-batches over each model's subset
        for m in range(masks.shape[0]):
            own = masks[m].nonzero().view(-1)
            rows.append(own[torch.randperm(len(own), generator=generator)])
        steps = max(math.ceil(len(r) / batch_size) for r in rows)
        width = batch_size
        idx = torch.zeros(steps, len(rows), width, dtype=torch.long)
        weight = torch.zeros(steps, len(rows), width)
        for m, r in enumerate(rows):
            for s in range(math.ceil(len(r) / batch_size)):
                part = r[s * batch_size : (s + 1) * batch_size]
                idx[s, m, : len(part)], weight[s, m, : len(part)] = part, 1.0
        return idx, weight
    # Poisson sampling: each of a model's examples joins each step with probability q
    n_models, n = masks.shape
    steps = max(1, round(1 / sample_rate))
    draws = (torch.rand(steps, n_models, n, generator=generator) < sample_rate) & masks.unsqueeze(0)
    width = max(1, int(draws.sum(dim=2).max()))
    order = torch.argsort((~draws).to(torch.int8), dim=2, stable=True)[:, :, :width]
    weight = torch.gather(draws, 2, order).float()
    return order, weight


def _forward(layers, prefix, params, xb):
    """Batched forward of K layer stacks: logits [K, B, C], and per Linear layer its input and output."""
    h, linear = xb, []
    for layer in layers:
        if isinstance(layer, nn.Flatten):
            h = h.flatten(2)
        elif isinstance(layer, nn.Linear):
            name = prefix[id(layer)]
            w, b = params[f"{name}.weight"], params.get(f"{name}.bias")
            z = torch.bmm(h, w.transpose(1, 2)) if b is None else torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            linear.append((name, h, z))
            h = z
        else:
            h = layer(h)
    return h, linear


def train_models(
    make_model: Callable[[], nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    masks,
    *,
    epochs: int,
    lr: float,
    seed: int,
    batch_size: int | None = None,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    noise_multiplier: float | None = None,
    max_grad_norm: float | None = None,
    sample_rate: float | None = None,
) -> ModelStack:
    """Train one model per row of ``masks`` on the examples that row marks, all at once.

    Each model starts from its own random initialisation (``make_model()``
    after ``torch.manual_seed(seed)``). Without ``noise_multiplier`` it is
    plain SGD on shuffled batches of ``batch_size`` of its own examples, for
    ``epochs`` epochs. With ``noise_multiplier``, ``max_grad_norm`` and
    ``sample_rate`` it is DP-SGD as in :func:`ppml_helpers.dp.train_dp_sgd`:
    round(1/q) Poisson-sampled steps per epoch, each example's gradient
    clipped jointly to C, noise σC added to the clipped sum, which is divided
    by q times the model's subset size.

    The models must be :class:`~ppml_helpers.models.LayerStack` of Linear
    layers and elementwise activations (an MLP or a logistic regression):
    they run as batched matrix products, and DP's per-example gradient norms
    come without materialising per-example gradients. For a Linear layer
    z = W a + b, example i's gradient is δ_i a_iᵀ (δ_i = ∂loss_i/∂z_i), whose
    norm is ‖δ_i‖·‖a_i‖, and the clipped sum Σ_i c_i δ_i a_iᵀ is one matrix
    product (the "ghost norm" trick of Goodfellow 2015, used by Opacus's
    ghost clipping).

    Args:
        make_model: builds one (untrained) model.
        x, y: the population.
        masks: bool [models, n], e.g. :func:`population_masks`.
        epochs, lr, momentum, weight_decay: SGD settings shared by all models.
        seed: initialisations, batches and noise.

    Returns:
        A :class:`ModelStack`.

    Raises:
        ValueError: a model that is not such a layer stack, inconsistent shapes, or DP
            settings given partly or out of range.
    """
    from ..fl.client import stacked_layers

    masks = torch.as_tensor(np.asarray(masks), dtype=torch.bool)
    if masks.ndim != 2 or masks.shape[1] != len(x) or len(x) != len(y):
        raise ValueError(f"masks must be bool [models, n] with n = len(x) = len(y). Got masks "
                         f"{tuple(masks.shape)}, x {len(x)}, y {len(y)}.")
    if not masks.any(dim=1).all():
        raise ValueError("every model needs at least one example: a row of masks is all False.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an integer of at least 1. Got {epochs!r}.")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be positive and finite. Got {lr!r}.")
    private = noise_multiplier is not None
    if private != (max_grad_norm is not None) or private != (sample_rate is not None):
        raise ValueError("noise_multiplier, max_grad_norm and sample_rate go together (DP-SGD) or not at "
                         f"all. Got {noise_multiplier!r}, {max_grad_norm!r}, {sample_rate!r}.")
    if private:
        sigma, clip = check_noise_multiplier(noise_multiplier), check_max_grad_norm(max_grad_norm)
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float)) or not 0 < sample_rate <= 1:
            raise ValueError(f"sample_rate must lie in (0, 1]. Got {sample_rate!r}.")
    elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer without DP. Got {batch_size!r}.")
    seed = check_seed(seed)
    torch.manual_seed(seed)
    models = [make_model() for _ in range(masks.shape[0])]
    layers = stacked_layers(models[0])
    if layers is None:
        raise ValueError(f"make_model must build a LayerStack of Linear layers and elementwise "
                         f"activations (e.g. ph.models.MLP). Got {type(models[0]).__name__}.")
    prefix = {id(m): n for n, m in models[0].named_modules()}
    params, buffers = stack_module_state(models)
    params = {k: v.detach().requires_grad_(True) for k, v in params.items()}  # leaves; updated in place
    stack = ModelStack(make_model, params, buffers)
    generator = torch.Generator().manual_seed(seed)
    velocity = {k: torch.zeros_like(v) for k, v in params.items()}
    expected = (masks.sum(dim=1).to(x.dtype) * (sample_rate or 1.0)).view(-1, 1)  # q·|subset|
    for _ in range(epochs):
        idx, weight = _plan(masks, batch_size=batch_size, sample_rate=sample_rate, generator=generator)
        for s in range(idx.shape[0]):
            xb, yb, wb = x[idx[s]], y[idx[s]], weight[s].to(x.dtype)
            with torch.enable_grad():
                logits, linear = _forward(layers, prefix, params, xb)
                loss = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="sum")
                deltas = torch.autograd.grad(loss, [z for _, _, z in linear])  # δ_i per example
            linear = [(n, a.detach(), d) for (n, a, _), d in zip(linear, deltas, strict=True)]
            if private:  # per-example norms from δ_i and a_i, then clip factors
                sq = sum(d.pow(2).sum(-1) * (a.pow(2).sum(-1) + (f"{n}.bias" in params))
                         for n, a, d in linear)
                coef = (clip / (sq.sqrt() + 1e-6)).clamp(max=1.0) * wb / expected
            else:
                coef = wb / wb.sum(-1, keepdim=True).clamp_min(1.0)
            grads = {}
            for n, a, d in linear:
                delta = d * coef.unsqueeze(-1)
                grads[f"{n}.weight"] = torch.bmm(delta.transpose(1, 2), a)
                if f"{n}.bias" in params:
                    grads[f"{n}.bias"] = delta.sum(1)
            with torch.no_grad():
                for k, g in grads.items():
                    if private:
                        noise = torch.randn(g.shape, generator=generator, dtype=g.dtype)
                        g = g + noise * (sigma * clip) / expected.view(-1, *([1] * (g.ndim - 1)))
                    if weight_decay:
                        g = g + weight_decay * params[k]
                    if momentum:
                        velocity[k].mul_(momentum).add_(g)
                        g = velocity[k]
                    params[k].sub_(lr * g)
    for v in params.values():
        v.requires_grad_(False)
    return stack
