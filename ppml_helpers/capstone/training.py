"""Training the consortium's model (logistic regression on 30 features) under four trust
configurations, in NumPy: the per-patient gradient of the logistic loss has a closed form,
(σ(w·x + b) − y)·(x, 1), so a run of 100 rounds over five hospitals takes milliseconds.

* ``non_private``: federated averaging, each hospital trains locally (minibatch SGD) and the
  coordinator averages the models weighted by size.
* ``central``: a trusted curator runs DP gradient descent on the pooled patients: every round
  the clipped per-patient gradients are summed and N(0, σ²C²) is added once.
* ``local``: each hospital adds the full N(0, σ²C²) to its own clipped sum before sending it:
  no trust in the coordinator, and the summed noise is √n times the central one.
* ``distributed``: each hospital scales and randomly rounds its clipped per-patient gradients
  to integers and adds a Skellam share; secure aggregation sums them exactly in the ring, so the
  coordinator sees one Skellam mechanism with the full variance. It sends a noised gradient
  sum, not a locally trained model: the noise shares only add up to the calibrated total when
  every hospital releases the same linear statistic in the same round (Kairouz, Liu & Steinke
  2021); a model trained for several local steps is a nonlinear function of the noise.

Every DP configuration releases one noised gradient sum per round over all of its patients
(sample rate 1: DP gradient descent), so the accountants compare like for like; the notebook
shows why subsampling is not used here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import check_seed
from . import accounting as acc
from .noise import SharePlan, plan_shares, randomized_round, skellam_noise

__all__ = [
    "CONFIGURATIONS",
    "ConsortiumRun",
    "TrustConfig",
    "clipped_gradients",
    "config_rdp",
    "evaluate",
    "gaussian_release",
    "per_patient_gradients",
    "round_rng",
    "scores",
    "skellam_release",
    "train_consortium",
]

CONFIGURATIONS = ("non_private", "local", "distributed", "central")


def scores(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The model's logits w·x + b (the last entry of ``w`` is the bias)."""
    return x @ w[:-1] + w[-1]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(z / 2))  # stable for large |z|


def per_patient_gradients(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, d + 1): the gradient of each patient's logistic loss with respect to (weights, bias)."""
    residual = _sigmoid(scores(w, x)) - y
    return np.concatenate([residual[:, None] * x, residual[:, None]], axis=1)


def clipped_gradients(w: np.ndarray, x: np.ndarray, y: np.ndarray, clip: float) -> np.ndarray:
    """Per-patient gradients scaled to L2 norm at most ``clip``."""
    g = per_patient_gradients(w, x, y)
    norms = np.linalg.norm(g, axis=1)
    return g * np.minimum(1.0, clip / np.maximum(norms, 1e-300))[:, None]


def round_rng(seed: int, round_index: int, party: int) -> np.random.Generator:
    """The generator of one party in one round: the same draws in-process and on Flower."""
    return np.random.default_rng([seed, round_index, party])


def gaussian_release(w, x, y, *, clip: float, noise_std: float, rng) -> np.ndarray:
    """What a hospital sends in local DP, or its share in distributed DP on Flower: the sum of its
    clipped per-patient gradients plus N(0, noise_std²) per coordinate."""
    g = clipped_gradients(w, x, y, clip).sum(axis=0)
    return g + rng.normal(0.0, noise_std, g.shape)


def skellam_release(w, x, y, *, clip: float, scale: float, share_variance: float, rng) -> np.ndarray:
    """A hospital's distributed-DP input (int64): each clipped gradient scaled by ``scale`` and
    rounded at random, summed, plus a Skellam share of variance ``share_variance``."""
    g = clipped_gradients(w, x, y, clip)
    ints = randomized_round(scale * g, rng).sum(axis=0)
    return ints + skellam_noise(rng, share_variance, ints.shape)


def evaluate(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy (threshold 0.5) and ROC AUC on ``(x, y)``."""
    from sklearn.metrics import roc_auc_score

    z = scores(w, x)
    auc = float(roc_auc_score(y, z)) if 0 < y.sum() < len(y) else math.nan
    return {"accuracy": float(((z > 0) == (y == 1)).mean()), "auc": auc}


@dataclass(frozen=True)
class TrustConfig:
    """One configuration of the consortium and its training hyperparameters.

    Args:
        kind: one of :data:`CONFIGURATIONS`.
        epsilon: the patient-level ε target (None for ``non_private``; else positive).
        delta: δ, below 1/n for the n patients (checked when the run starts).
        rounds: communication rounds (DP configurations: noised gradient steps).
        lr: the coordinator's step size (DP) or the local SGD step size (non-private).
        clip: C, each patient's gradient norm bound (DP configurations).
        colluders: n_C, hospitals that may collude with the coordinator (distributed DP sizes
            its noise shares for them).
        dropouts: D, hospitals that may drop out before sending (same).
        scale: s, the fixed-point scale of the integer encoding (distributed DP).
        local_epochs, batch_size: local work of ``non_private``.
        noise: distributed DP's noise: ``"skellam"`` (integers added inside the ring, the
            in-process path) or ``"gaussian"`` (float shares, what the Flower app adds before
            Flower's SecAgg+ quantises: the guarantee then covers the real-valued sum only).
        declared_patients: a public constant the consortium fixes in advance: the step is
            ``lr × noisy sum / declared_patients`` and δ must lie below its inverse. Dividing
            by the exact count instead would make the release depend on it, and under
            add/remove adjacency the count itself differs between neighbours.
    """

    kind: str
    epsilon: float | None = None
    delta: float = 1e-5
    rounds: int = 100
    lr: float = 1.0
    clip: float = 1.0
    colluders: int = 1
    dropouts: int = 1
    scale: float = 2.0**12
    local_epochs: int = 1
    batch_size: int = 16
    noise: str = "skellam"
    declared_patients: int = 300

    def __post_init__(self):
        if self.kind not in CONFIGURATIONS:
            raise ValueError(f"kind must be one of {CONFIGURATIONS}. Got {self.kind!r}.")
        if self.kind == "non_private":
            if self.epsilon is not None:
                raise ValueError(f"kind='non_private' takes epsilon=None. Got epsilon={self.epsilon!r}.")
        else:
            if self.epsilon is None:
                raise ValueError(f"kind={self.kind!r} needs a positive epsilon. Got None.")
            acc._positive(self.epsilon, "epsilon")
            acc._positive(self.clip, "clip")
        acc._count(self.rounds, "rounds")
        acc._positive(self.lr, "lr")
        for name in ("colluders", "dropouts"):
            acc._count(getattr(self, name), name, 0)
        acc._count(self.local_epochs, "local_epochs")
        acc._count(self.batch_size, "batch_size")
        acc._positive(self.scale, "scale")
        acc._count(self.declared_patients, "declared_patients")
        if self.kind != "non_private":
            acc.check_delta_for(self.delta, self.declared_patients)
        if self.noise not in ("skellam", "gaussian"):
            raise ValueError(f"noise must be 'skellam' or 'gaussian'. Got {self.noise!r}.")


@dataclass
class ConsortiumRun:
    """What :func:`train_consortium` returns: the model, its history and its noise."""

    config: TrustConfig
    weights: np.ndarray
    history: list[dict] = field(default_factory=list)
    noise_multiplier: float | None = None   # σ of the Gaussian (central, local), per hospital for local
    skellam_variance: float | None = None   # μ, the total integer-unit variance (distributed)
    shares: SharePlan | None = None
    sensitivities: tuple[float, float] | None = None  # (Δ2, Δ1) in integer units (distributed)
    epsilon_spent: float | None = None
    hospitals: int = 0

    def noise_std(self) -> float:
        """The noise std on the coordinator's sum, in gradient units (the same units as C)."""
        c = self.config
        if c.kind == "non_private":
            return 0.0
        if c.kind == "central":
            return self.noise_multiplier * c.clip
        if c.kind == "local":
            return self.noise_multiplier * c.clip * math.sqrt(self.hospitals)
        if c.noise == "gaussian":
            return math.sqrt(self.shares.share_variance * self.hospitals) * c.clip
        return math.sqrt(self.shares.share_variance * self.hospitals) / c.scale


def _check_hospitals(hospitals) -> list:
    hospitals = list(hospitals)
    if len(hospitals) < 2:
        raise ValueError(f"a consortium needs at least 2 hospitals. Got {len(hospitals)}.")
    for h in hospitals:
        if len(h.y_train) == 0:
            raise ValueError(f"{h.name} has no training patients: a hospital with no data cannot take part.")
    return hospitals


def _calibrate(config: TrustConfig, dim: int) -> dict:
    """The noise that makes ``config`` spend exactly its ε over its rounds (sample rate 1)."""
    delta = config.delta
    if config.kind in ("central", "local") or config.noise == "gaussian":
        sigma = acc.calibrate_gaussian(target_epsilon=config.epsilon, sample_rate=1.0,
                                       rounds=config.rounds, delta=delta)
        eps = acc.gaussian_epsilon(noise_multiplier=sigma, sample_rate=1.0, rounds=config.rounds, delta=delta)
        return {"noise_multiplier": sigma, "epsilon_spent": eps}
    l2, l1 = acc.rounded_sensitivities(config.clip, config.scale, dim)
    mu = acc.calibrate_skellam(target_epsilon=config.epsilon, l2_sensitivity=l2, l1_sensitivity=l1,
                               sample_rate=1.0, rounds=config.rounds, delta=delta)
    eps = acc.skellam_epsilon(variance=mu, l2_sensitivity=l2, l1_sensitivity=l1, sample_rate=1.0,
                              rounds=config.rounds, delta=delta)
    return {"skellam_variance": mu, "sensitivities": (l2, l1), "epsilon_spent": eps}


def config_rdp(config: TrustConfig, *, dim: int, group: int = 1, orders=acc.INTEGER_ORDERS) -> np.ndarray:
    """The RDP curve (at integer ``orders``) of one training run under ``config``: what a run
    spends, for composing several runs (a hyperparameter search) with the final one.

    ``group`` > 1 gives the curve for a group of that many records (one patient treated at
    several hospitals): every sensitivity is multiplied by it (the Gaussian's RDP by its square).
    """
    if config.kind == "non_private":
        raise ValueError("a non-private run has no finite RDP: it cannot be composed into a DP guarantee.")
    k = acc._count(group, "group")
    noise = _calibrate(config, dim)
    alphas = np.asarray(orders, dtype=np.float64)
    if "noise_multiplier" in noise:
        return config.rounds * alphas * k**2 / (2 * noise["noise_multiplier"] ** 2)
    l2, l1 = noise["sensitivities"]
    return config.rounds * acc.skellam_rdp(orders, variance=noise["skellam_variance"], l2_sensitivity=k * l2,
                                           l1_sensitivity=k * l1)


def _local_sgd(w, x, y, *, lr: float, epochs: int, batch_size: int, rng) -> np.ndarray:
    w = w.copy()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            w -= lr * per_patient_gradients(w, x[idx], y[idx]).mean(axis=0)
    return w


def train_consortium(hospitals, config: TrustConfig, *, seed: int, evaluate_on: str | None = "val",
                     sum_fn=None) -> ConsortiumRun:
    """Train one model for the consortium under ``config``; one history row per round.

    Args:
        hospitals: the :class:`~ppml_helpers.capstone.Hospital` list (training splits are used).
        config: the :class:`TrustConfig`.
        seed: all randomness (SGD order, noise, rounding) comes from it.
        evaluate_on: ``"val"`` or ``"test"`` to record that split's pooled AUC and accuracy
            after every round (``None``: only at the end, on validation).
        sum_fn: distributed DP only: a function summing the hospitals' integer vectors (the
            default adds them; pass secure aggregation to run it in the ring, with the same sum).

    Returns:
        :class:`ConsortiumRun`.
    """
    hospitals = _check_hospitals(hospitals)
    seed = check_seed(seed)
    n_h = len(hospitals)
    sizes = np.array([len(h.y_train) for h in hospitals])
    dim = hospitals[0].x_train.shape[1] + 1
    w = np.zeros(dim)
    run = ConsortiumRun(config=config, weights=w, hospitals=n_h)
    if config.kind != "non_private":
        for key, value in _calibrate(config, dim).items():
            setattr(run, key, value)
    if config.kind == "distributed":  # Gaussian shares: variance in units of C², of the noise multiplier
        total_variance = run.noise_multiplier**2 if config.noise == "gaussian" else run.skellam_variance
        run.shares = plan_shares(total_variance, hospitals=n_h, colluders=config.colluders,
                                 dropouts=config.dropouts)
    eval_split = evaluate_on or "val"
    x_eval = np.concatenate([h.split(eval_split)[0] for h in hospitals])
    y_eval = np.concatenate([h.split(eval_split)[1] for h in hospitals])
    for r in range(config.rounds):
        if config.kind == "non_private":
            models = [_local_sgd(w, h.x_train, h.y_train, lr=config.lr, epochs=config.local_epochs,
                                 batch_size=config.batch_size, rng=round_rng(seed, r, k))
                      for k, h in enumerate(hospitals)]
            w = np.average(models, axis=0, weights=sizes)
        elif config.kind == "distributed" and config.noise == "skellam":
            ints = [skellam_release(w, h.x_train, h.y_train, clip=config.clip, scale=config.scale,
                                    share_variance=run.shares.share_variance, rng=round_rng(seed, r, k))
                    for k, h in enumerate(hospitals)]
            total_int = np.sum(ints, axis=0) if sum_fn is None else np.asarray(sum_fn(ints))
            w = w - config.lr * (total_int / config.scale) / config.declared_patients
        elif config.kind == "central":  # the curator sums the clipped gradients and adds the noise once
            noisy = sum(clipped_gradients(w, h.x_train, h.y_train, config.clip).sum(axis=0) for h in hospitals)
            noisy = noisy + round_rng(seed, r, n_h).normal(0, run.noise_multiplier * config.clip, dim)
            w = w - config.lr * noisy / config.declared_patients
        else:  # local DP (the full σC per hospital) or distributed DP with Gaussian shares
            std = (run.noise_multiplier if config.kind == "local" else math.sqrt(run.shares.share_variance)) * config.clip
            noisy = sum(gaussian_release(w, h.x_train, h.y_train, clip=config.clip, noise_std=std,
                                         rng=round_rng(seed, r, k)) for k, h in enumerate(hospitals))
            w = w - config.lr * noisy / config.declared_patients
        if evaluate_on is not None or r == config.rounds - 1:
            run.history.append({"round": r + 1, **evaluate(w, x_eval, y_eval)})
    run.weights = w
    return run
