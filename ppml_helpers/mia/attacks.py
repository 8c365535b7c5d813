"""Membership inference attacks: each returns one score per example, higher = "member".

- :func:`loss_attack`: Yeom et al. (2018). Training examples have lower loss;
  the score is minus the target model's loss on the example.
- :func:`shadow_attack`: Shokri et al. (2017). Shadow models trained like the
  target, with known members, teach an attack classifier what a member's
  output looks like; here one logistic regression per class on the
  log-probabilities (the paper used one MLP per class).
- :func:`lira_scores`: Carlini et al. (2022), the likelihood-ratio attack. For
  each example, the logit-scaled confidence φ = log(p_y / (1 − p_y)) of
  shadow models trained with it (IN) and without it (OUT) is close to
  Gaussian; fit the two Gaussians per example and score the target's φ by the
  likelihood ratio (online) or by how far it lies above the OUT Gaussian
  alone (offline: no shadow model needs the example, so they can be trained
  before the query).

Introduced in ``05_membership_inference``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats

from .metrics import check_scores

__all__ = ["lira_scores", "logit_confidence", "loss_attack", "shadow_attack"]


def _logits(logits, name: str) -> torch.Tensor:
    t = torch.as_tensor(logits).double()
    if t.ndim < 2 or t.shape[-1] < 2:
        raise ValueError(f"{name} must have shape [..., n, classes] with at least 2 classes. "
                         f"Got {tuple(t.shape)}.")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf.")
    return t


def _labels(y, n: int, classes: int) -> torch.Tensor:
    t = torch.as_tensor(y).long()
    if t.shape != (n,):
        raise ValueError(f"y must have shape [{n}] (one label per example). Got {tuple(t.shape)}.")
    if len(t) and (t.min() < 0 or t.max() >= classes):
        raise ValueError(f"y must hold class indices in [0, {classes}). Got values in "
                         f"[{int(t.min())}, {int(t.max())}].")
    return t


def logit_confidence(logits, y) -> np.ndarray:
    """φ = log(p_y / (1 − p_y)) from logits [..., n, classes], computed stably.

    φ = z_y − log Σ_{j≠y} e^{z_j}. Carlini et al. use this scale because, over
    models trained with or without an example, it is close to Gaussian while
    p_y itself piles up near 1.
    """
    z = _logits(logits, "logits")
    labels = _labels(y, z.shape[-2], z.shape[-1])
    idx = labels.view(*([1] * (z.ndim - 2)), -1, 1).expand(*z.shape[:-1], 1)
    correct = z.gather(-1, idx).squeeze(-1)
    others = z.scatter(-1, idx, -torch.inf).logsumexp(-1)
    return (correct - others).numpy()


def loss_attack(logits, y) -> np.ndarray:
    """Yeom et al.'s attack: score = −cross-entropy loss of each example (higher = member)."""
    z = _logits(logits, "logits")
    if z.ndim != 2:
        raise ValueError(f"logits must have shape [n, classes]. Got {tuple(z.shape)}.")
    labels = _labels(y, z.shape[0], z.shape[1])
    return (-F.cross_entropy(z, labels, reduction="none")).numpy()


def lira_scores(target_phi, shadow_phi, in_mask, *, online: bool = True,
                fix_variance: bool = True) -> np.ndarray:
    """LiRA scores from the target's and the shadow models' logit-scaled confidences.

    Args:
        target_phi: φ of the target model on each example, [n].
        shadow_phi: φ of each shadow model on each example, [models, n].
        in_mask: bool [models, n], True where that shadow model trained on that example.
        online: score by log N(φ; μ_in, σ_in²) − log N(φ; μ_out, σ_out²). Offline
            (``False``): by (φ − μ_out) / σ_out, a one-sided test against the OUT
            Gaussian (ranking by it equals ranking by the test's p-value).
        fix_variance: one σ_in and one σ_out pooled over all examples, which Carlini et
            al. recommend below about 64 shadow models; otherwise one per example.

    Returns:
        Scores [n], higher = member.

    Raises:
        ValueError: shapes that disagree, NaN, or an example without OUT models (or,
            online, without IN models).
    """
    target = check_scores(target_phi, "target_phi")
    shadow = np.asarray(shadow_phi, dtype=np.float64)
    mask = np.asarray(in_mask)
    if shadow.ndim != 2 or shadow.shape[1] != target.size:
        raise ValueError(f"shadow_phi must have shape [models, {target.size}]. Got {shadow.shape}.")
    if mask.shape != shadow.shape or mask.dtype != bool:
        raise ValueError(f"in_mask must be a bool array of shape {shadow.shape}. Got {mask.dtype} {mask.shape}.")
    if not np.isfinite(shadow).all():
        raise ValueError("shadow_phi contains NaN or inf.")
    n_in, n_out = mask.sum(axis=0), (~mask).sum(axis=0)
    if (n_out < 2).any() or (online and (n_in < 2).any()):
        raise ValueError(f"every example needs at least 2 OUT models{' and 2 IN models' if online else ''}; "
                         f"the fewest are {int(n_out.min())} OUT and {int(n_in.min())} IN.")

    def fit(sel, counts):
        mean = np.where(sel, shadow, 0).sum(axis=0) / counts
        sq = np.where(sel, (shadow - mean) ** 2, 0)
        if fix_variance:
            std = np.full(target.size, np.sqrt(sq.sum() / (counts - 1).sum()))
        else:
            std = np.sqrt(sq.sum(axis=0) / (counts - 1))
        return mean, np.maximum(std, 1e-6)

    mu_out, sd_out = fit(~mask, n_out)
    if not online:
        return (target - mu_out) / sd_out
    mu_in, sd_in = fit(mask, n_in)
    return stats.norm.logpdf(target, mu_in, sd_in) - stats.norm.logpdf(target, mu_out, sd_out)


def _attack_features(logits: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(logits, dim=-1).clamp_min(-50.0)


def shadow_attack(shadow_logits, in_mask, y, target_logits, *, steps: int = 300, seed: int = 0) -> np.ndarray:
    """Shokri et al.'s attack: per-class classifiers trained on shadow models' outputs.

    For each class c, a logistic regression learns "member or not" from the
    log-probability vector that a shadow model gave an example of class c,
    using every (shadow model, example) pair with its known membership; it is
    then applied to the target model's outputs.

    Args:
        shadow_logits: [models, n, classes] logits of the shadow models on the population.
        in_mask: bool [models, n], which shadow model trained on which example.
        y: labels [n].
        target_logits: [n, classes] the target model's logits on the same examples.
        steps: full-batch L-BFGS iterations per class.

    Returns:
        Scores [n]: the attack classifier's log-odds of "member".
    """
    shadow = _logits(shadow_logits, "shadow_logits")
    target = _logits(target_logits, "target_logits")
    if shadow.ndim != 3 or target.shape != shadow.shape[1:]:
        raise ValueError(f"shadow_logits must be [models, n, classes] and target_logits [n, classes] "
                         f"with the same n and classes. Got {tuple(shadow.shape)} and {tuple(target.shape)}.")
    mask = torch.as_tensor(np.asarray(in_mask))
    if mask.shape != shadow.shape[:2] or mask.dtype != torch.bool:
        raise ValueError(f"in_mask must be bool of shape {tuple(shadow.shape[:2])}. Got {mask.dtype} "
                         f"{tuple(mask.shape)}.")
    labels = _labels(y, shadow.shape[1], shadow.shape[2])
    features, target_features = _attack_features(shadow), _attack_features(target)
    scores = torch.zeros(len(labels), dtype=torch.float64)
    torch.manual_seed(seed)
    for c in labels.unique():
        cols = labels == c
        xs = features[:, cols].reshape(-1, shadow.shape[2])
        ts = mask[:, cols].reshape(-1).double()
        mean, std = xs.mean(0), xs.std(0).clamp_min(1e-6)
        w = torch.zeros(xs.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

        def closure(xs=xs, ts=ts, mean=mean, std=std, w=w, b=b, opt=opt):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits((xs - mean) / std @ w + b, ts)
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            scores[cols] = (target_features[cols] - mean) / std @ w + b
    return scores.numpy()
