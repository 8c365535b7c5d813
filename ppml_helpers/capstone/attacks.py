"""Attacking the consortium again: membership inference on each configuration's final model (loss
and LiRA, from notebook 05), an empirical ε lower bound for one round of distributed DP (the audit
of notebook 05), and what the coordinator rebuilds from an update (notebook 00's inversion, which
for logistic regression has a closed form).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..mia import (
    audit_mechanism,
    lira_scores,
    logit_confidence,
    loss_attack,
    population_masks,
    roc_metrics,
)
from ..mia.audit import AuditResult
from ..mia.metrics import RocMetrics
from . import accounting as acc
from .data import Hospital
from .noise import randomized_round, skellam_noise
from .training import TrustConfig, scores, train_consortium

__all__ = ["MembershipResult", "audit_round", "invert_linear", "membership_inference"]


def invert_linear(update) -> np.ndarray:
    """Rebuild an input from a logistic-regression gradient: x = g_w / g_b.

    One patient's gradient is (p − y)(x, 1), so the division returns x exactly; a sum over
    patients returns their average weighted by (p − y); noise makes it a guess.
    """
    g = np.asarray(update, dtype=np.float64)
    if g.ndim != 1 or g.size < 2:
        raise ValueError(f"update must be a gradient vector (weights, bias). Got shape {g.shape}.")
    if g[-1] == 0:
        raise ValueError("the update's bias gradient is 0: nothing to divide by (the model fits every patient).")
    return g[:-1] / g[-1]


@dataclass(frozen=True)
class MembershipResult:
    """Pooled over the target models: each attack's ROC summary and the counts behind it."""

    loss: RocMetrics
    lira: RocMetrics
    members: int
    nonmembers: int


def _everyone(hospitals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, owner = [], [], []
    for k, h in enumerate(hospitals):
        for split in ("train", "val", "test"):
            x, y = h.split(split)
            xs.append(x)
            ys.append(y)
            owner.append(np.full(len(y), k))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(owner)


def membership_inference(hospitals, config: TrustConfig, *, models: int = 32, targets: int = 4,
                         seed: int) -> MembershipResult:
    """Loss and LiRA (online, fixed variance) against ``config``'s models, pooled over ``targets``.

    Every patient of every hospital is in half of ``models`` models (Carlini et al.'s masks);
    each model is trained by the consortium on the patients its mask keeps, each at their
    own hospital. Each of the first ``targets`` models is attacked with the other models as
    shadows; the scores are pooled.
    """
    x, y, owner = _everyone(hospitals)
    masks = population_masks(len(y), models, seed=seed)
    if not 1 <= targets < models:
        raise ValueError(f"targets must be in [1, models - 1] = [1, {models - 1}]. Got {targets!r}.")
    logits = np.empty((models, len(y), 2))
    for m in range(models):
        mine = [Hospital(h.name, x[masks[m] & (owner == k)], y[masks[m] & (owner == k)], h.x_val, h.y_val,
                         h.x_test, h.y_test) for k, h in enumerate(hospitals)]
        w = train_consortium(mine, config, seed=seed * 1000 + m, evaluate_on=None).weights
        logits[m, :, 1] = scores(w, x)
        logits[m, :, 0] = 0.0
    phi = logit_confidence(torch.from_numpy(logits), torch.from_numpy(y))
    pooled = {"loss": ([], []), "lira": ([], [])}
    for t in range(targets):
        others = np.arange(models) != t
        member = masks[t]
        for name, s in (("loss", loss_attack(torch.from_numpy(logits[t]), torch.from_numpy(y))),
                        ("lira", lira_scores(phi[t], phi[others], masks[others]))):
            pooled[name][0].append(s[member])
            pooled[name][1].append(s[~member])
    result = {name: roc_metrics(np.concatenate(i), np.concatenate(o)) for name, (i, o) in pooled.items()}
    return MembershipResult(result["loss"], result["lira"], int(masks[:targets].sum()),
                            int((~masks[:targets]).sum()))


def audit_round(run, *, colluding: int | None = None, dropped: int | None = None, trials: int = 200_000,
                seed: int) -> tuple[AuditResult, float, float]:
    """Audit one round of a distributed-DP run: a canary patient whose clipped gradient is C on one
    coordinate, the coordinate's sum built from the hospitals' real Skellam shares, ``dropped``
    of them missing and ``colluding`` subtracted by the coordinator.

    The defaults are the plan's worst case (n_C colluders, D dropouts), where the remaining
    noise is exactly the variance the round was calibrated for.

    Returns ``(audit, claimed, actual)``: the audit's result (ε lower bound at the run's δ),
    the ε of one round under the plan, and the ε with the noise actually left.

    Raises:
        ValueError: a run that is not distributed DP with Skellam noise, or a ``colluding`` /
            ``dropped`` count that leaves no honest share (each named with its value).
    """
    c = run.config
    if c.kind != "distributed" or c.noise != "skellam":
        raise ValueError(f"audit_round audits distributed DP with Skellam noise; this run has kind={c.kind!r}, "
                         f"noise={c.noise!r}.")
    colluding = c.colluders if colluding is None else colluding
    dropped = c.dropouts if dropped is None else dropped
    for name, value in (("colluding", colluding), ("dropped", dropped)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer. Got {value!r}.")
    honest = run.hospitals - colluding - dropped
    if honest < 1:
        raise ValueError(f"colluding={colluding} and dropped={dropped} leave no honest share of {run.hospitals}: "
                         "the coordinator would see the canary without noise (ε = ∞).")
    l2, l1 = run.sensitivities
    canary = c.scale * c.clip
    share = run.shares.share_variance

    def eps(variance):
        return acc.skellam_epsilon(variance=variance, l2_sensitivity=l2, l1_sensitivity=l1, sample_rate=1.0,
                                   rounds=1, delta=c.delta)

    def mechanism(with_canary, runs, rng):
        total = sum(skellam_noise(rng, share, runs) for _ in range(honest))  # colluders' and dropouts' are gone
        if with_canary:
            total = total + randomized_round(np.full(runs, canary), rng)
        return total.astype(np.float64)

    audit = audit_mechanism(mechanism, trials=trials, delta=c.delta, seed=seed)
    return audit, eps(run.skellam_variance), eps(honest * share)
