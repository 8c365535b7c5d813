"""Client-side training: local SGD (FedAvg), full-batch steps (FedSGD), the FedProx term.

Two paths give the same result for the same batch plan: :func:`client_update`
trains one client at a time; :func:`clients_update_vectorised` trains many at
once (batched matrix products or ``torch.func.vmap``), padding uneven batches
and masking finished clients. Introduced in ``01_federated_averaging``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

__all__ = [
    "batch_plan",
    "client_generator",
    "client_update",
    "clients_update_vectorised",
    "stacked_layers",
]

_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid)


def client_generator(seed: int, round_: int, client: int) -> torch.Generator:
    """An independent, reproducible generator for one client in one round."""
    state = np.random.SeedSequence([seed, round_, client]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & ((1 << 63) - 1))


def batch_plan(n: int, *, local_epochs: int, batch_size: int | None, generator: torch.Generator):
    """Index batches for ``local_epochs`` passes over ``n`` local examples.

    Each epoch shuffles with ``generator`` and cuts batches of ``batch_size``
    (the last may be smaller); ``batch_size=None`` means the whole local set
    in one batch (B = infinity in McMahan et al., so E=1, B=None is FedSGD).
    """
    if n < 1:
        raise ValueError(f"a client needs at least one example. Got n={n}.")
    if local_epochs < 1:
        raise ValueError(f"local_epochs must be at least 1. Got {local_epochs}.")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None (full batch). Got {batch_size}.")
    size = n if batch_size is None else batch_size
    plan = []
    for _ in range(local_epochs):
        perm = torch.randperm(n, generator=generator) if size < n else torch.arange(n)
        plan.extend(perm[i : i + size] for i in range(0, n, size))
    return plan


def _prox(params, anchor, mu: float):
    return 0.5 * mu * sum(((p - a) ** 2).sum() for p, a in zip(params, anchor, strict=True))


def client_update(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, plan, *, lr: float, mu: float = 0.0
) -> OrderedDict:
    """Train ``model`` in place with plain SGD over ``plan``'s batches; return its new state.

    With ``mu > 0`` the FedProx term ``mu/2 * ||w - w_global||^2`` (Li et al.
    2020) pulls the local model towards the weights it started from.
    """
    anchor = [p.detach().clone() for p in model.parameters()] if mu > 0 else None
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for idx in plan:
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        if anchor is not None:
            loss = loss + _prox(list(model.parameters()), anchor, mu)
        loss.backward()
        opt.step()
    return OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())


def stacked_layers(model: nn.Module):
    """The layers of a :class:`~ppml_helpers.models.LayerStack` made only of Flatten,
    Linear and elementwise activations (so it can run as batched matrix products), else None."""
    from ..models import LayerStack

    if not isinstance(model, LayerStack) or type(model).forward is not LayerStack.forward:
        return None
    layers = list(model.net)
    ok = all(isinstance(m, (nn.Flatten, nn.Linear, *_ELEMENTWISE)) for m in layers)
    flat_ok = all(m.start_dim == 1 and m.end_dim == -1 for m in layers if isinstance(m, nn.Flatten))
    return layers if ok and flat_ok else None


def _stack_sgd_step(model, layers, params, start, xb, yb, wb, *, lr: float, mu: float, active):
    """One SGD step for K copies of a layer stack, by hand: forward, backward and update
    as batched matrix products, each weight updated in place by one fused ``baddbmm_``.

    ``xb`` is K x B x ..., ``params`` K-stacked, ``wb`` the K x B example weights (0 =
    padding). Each client's loss is its weighted mean cross-entropy plus the FedProx
    term; clients whose plan has ended (``active`` 0) keep their weights.
    """
    prefix = {id(m): n for n, m in model.named_modules()}
    h = xb
    saved = []  # (layer, its input or output) for the backward pass
    for layer in layers:
        if isinstance(layer, nn.Flatten):
            h = h.flatten(2)
        elif isinstance(layer, nn.Linear):
            saved.append((layer, h))
            name = prefix[id(layer)]
            w, b = params[f"{name}.weight"], params.get(f"{name}.bias")
            t = w.transpose(1, 2)
            h = torch.bmm(h, t) if b is None else torch.baddbmm(b.unsqueeze(1), h, t)
        else:
            h = layer(h)
            saved.append((layer, h))
    # d(loss_k)/d(logits): (softmax - onehot) * w / sum(w), per client k
    delta = torch.softmax(h, dim=-1)
    delta.scatter_add_(-1, yb.unsqueeze(-1), -torch.ones_like(yb, dtype=delta.dtype).unsqueeze(-1))
    delta.mul_((wb / wb.sum(-1, keepdim=True).clamp_min(1.0)).unsqueeze(-1))
    mask = active.view(-1, 1, 1)
    for pos, (layer, kept) in reversed(list(enumerate(saved))):
        if isinstance(layer, nn.Linear):
            name = prefix[id(layer)]
            w, b = params[f"{name}.weight"], params.get(f"{name}.bias")
            below = torch.bmm(delta, w) if pos > 0 else None  # gradient for the layers below
            if mu > 0:  # the FedProx step -lr * mu * (w - start), one fused pass: w += lr*mu*(start - w)
                w.lerp_(start[f"{name}.weight"], lr * mu * mask)
                if b is not None:
                    b.lerp_(start[f"{name}.bias"], lr * mu * mask.view(-1, 1))
            w.baddbmm_(delta.transpose(1, 2), kept, alpha=-lr)
            if b is not None:
                b.sub_(delta.sum(1), alpha=lr)
            delta = below
        elif isinstance(layer, nn.ReLU):
            delta = delta * (kept > 0)
        elif isinstance(layer, nn.Tanh):
            delta = delta * (1 - kept * kept)
        else:  # nn.Sigmoid
            delta = delta * kept * (1 - kept)


def _gather(datasets, plans):
    """Every client's batches up front: K x steps x width tensors, padded with weight 0."""
    k = len(plans)
    steps = max(len(plan) for plan in plans)
    width = max(len(b) for plan in plans for b in plan)
    x0 = datasets[0][0]
    xs = torch.zeros((k, steps, width, *x0.shape[1:]), dtype=x0.dtype)
    ys = torch.zeros((k, steps, width), dtype=torch.int64)
    ws = torch.zeros((k, steps, width), dtype=x0.dtype)
    for i, ((xk, yk), plan) in enumerate(zip(datasets, plans, strict=True)):
        if all(len(b) == width for b in plan):
            idx = torch.stack(plan)
            xs[i, : len(plan)], ys[i, : len(plan)] = xk[idx], yk[idx]
            ws[i, : len(plan)] = 1.0
        else:
            for t, b in enumerate(plan):
                xs[i, t, : len(b)], ys[i, t, : len(b)] = xk[b], yk[b]
                ws[i, t, : len(b)] = 1.0
    active = torch.tensor([[t < len(plan) for t in range(steps)] for plan in plans], dtype=x0.dtype)
    return xs, ys, ws, active


def clients_update_vectorised(
    model: nn.Module, datasets, plans, *, lr: float, mu: float = 0.0, method: str = "auto"
) -> list[OrderedDict]:
    """Train K clients at once from ``model``'s current weights; return K new states.

    At step t every client still training contributes its t-th batch; batches
    are padded to the same length with zero-weight rows and clients whose plan
    has ended are masked, so each client follows exactly its own plan (same
    result as :func:`client_update` up to float rounding).

    Two engines: ``"bmm"`` runs a :class:`~ppml_helpers.models.LayerStack` of
    Linear layers as batched matrix products, forward and backward written out
    by hand so each weight is updated in place by one fused ``baddbmm_``;
    ``"vmap"`` runs any model through ``torch.func.vmap(grad(...))``.
    ``"auto"`` takes ``"bmm"`` when the model allows it.

    Args:
        model: the global model (its parameters are the common starting point; not modified).
        datasets: K pairs ``(x_k, y_k)``.
        plans: K batch plans from :func:`batch_plan`.

    Raises:
        ValueError: plans and datasets differ in number, or an unknown or impossible method.
    """
    if len(datasets) != len(plans) or not plans:
        raise ValueError(f"need one plan per dataset. Got {len(datasets)} datasets, {len(plans)} plans.")
    if method not in ("auto", "bmm", "vmap"):
        raise ValueError(f"method must be 'auto', 'bmm' or 'vmap'. Got {method!r}.")
    layers = stacked_layers(model)
    if method == "bmm" and layers is None:
        raise ValueError(
            "method='bmm' needs a LayerStack of Flatten, Linear and elementwise activations; "
            f"{type(model).__name__} is not one. Use method='vmap'."
        )
    use_bmm = layers is not None and method != "vmap"
    k = len(plans)
    start = {n: p.detach() for n, p in model.named_parameters()}
    buffers = {n: b.detach() for n, b in model.named_buffers()}
    names = list(start)
    params = {n: p.unsqueeze(0).repeat(k, *([1] * p.ndim)) for n, p in start.items()}
    xs, ys, ws, active = _gather(datasets, plans)

    def per_client_loss(p, xb, yb, wb):
        """One client's weighted mean loss (+ FedProx), for torch.func."""
        out = functional_call(model, (p, buffers), (xb,))
        loss = (F.cross_entropy(out, yb, reduction="none") * wb).sum() / wb.sum().clamp_min(1.0)
        if mu > 0:
            loss = loss + _prox([p[n] for n in names], [start[n] for n in names], mu)
        return loss

    step_grads = vmap(grad(per_client_loss))
    model.train()
    with torch.no_grad():
        for t in range(xs.shape[1]):
            if use_bmm:
                _stack_sgd_step(model, layers, params, start, xs[:, t], ys[:, t], ws[:, t],
                                lr=lr, mu=mu, active=active[:, t])
                continue
            with torch.enable_grad():
                grads = step_grads(params, xs[:, t], ys[:, t], ws[:, t])
            scale = lr * active[:, t]
            for n in names:
                params[n].sub_(scale.view(k, *([1] * (params[n].ndim - 1))) * grads[n])
    states = []
    template = model.state_dict()
    for i in range(k):
        state = OrderedDict()
        for key, value in template.items():
            state[key] = params[key][i].clone() if key in params else value.detach().clone()
        states.append(state)
    return states
