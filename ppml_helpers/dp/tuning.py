"""What choosing hyperparameters on private data costs in privacy.

Introduced in ``04_dp_sgd``. Every training run on the private data is a
release; picking the best of several runs and publishing it spends the privacy
of all of them. Two ways to account for it:

- **Composition** (valid for any search, a fixed grid included): the runs
  compose, so step one :class:`~ppml_helpers.dp.rdp.RDPAccountant` with the
  history of every run.
- **A random number of runs** (Papernot & Steinke 2022, Theorem 2): draw the
  number of runs K from a truncated negative binomial distribution
  D(η, gamma), run K times (each with freshly drawn hyperparameters), release only
  the best. If one run is (λ, ε(λ))-RDP for every λ, the released best is
  (λ, ε'(λ))-RDP with

      ε'(λ) = ε(λ) + min_λ̂ [(1 + η)(1 − 1/λ̂) ε(λ̂) + (1 + η) log(1/gamma)/λ̂] + log E[K] / (λ − 1),

  which grows only with log E[K], not with E[K]. η = 1 makes K geometric with
  mean 1/gamma. The guarantee needs K to be random: a fixed grid of k runs is
  covered by composition only.

Reference: N. Papernot and T. Steinke, "Hyperparameter Tuning with Renyi
Differential Privacy", ICLR 2022.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_delta
from .rdp import rdp_to_epsilon

__all__ = ["expected_runs", "selection_epsilon", "selection_rdp"]


def _check_eta_gamma(eta, gamma) -> tuple[float, float]:
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not math.isfinite(eta) or eta <= -1:
        raise ValueError(f"eta must be a number above -1 (1 makes the number of runs geometric). Got eta={eta!r}.")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma < 1:
        raise ValueError(f"gamma must be a number in (0, 1). Got gamma={gamma!r}.")
    return float(eta), float(gamma)


def expected_runs(*, eta: float, gamma: float) -> float:
    """E[K] for K drawn from the truncated negative binomial D(η, gamma) of Papernot & Steinke.

    >>> round(expected_runs(eta=1.0, gamma=0.1), 6)  # geometric: 1/gamma
    10.0
    """
    eta, gamma = _check_eta_gamma(eta, gamma)
    if eta == 0:  # the logarithmic distribution
        return (1 / gamma - 1) / math.log(1 / gamma)
    return eta * (1 - gamma) / (gamma * (1 - gamma**eta))


def selection_rdp(*, orders, rdp, eta: float, gamma: float) -> np.ndarray:
    """ε'(λ) on ``orders`` for releasing the best of K ~ D(η, gamma) runs, each with RDP ``rdp``.

    The minimum over λ̂ is taken over the same ``orders`` (a coarser grid only
    makes the bound larger, never wrong).
    """
    eta, gamma = _check_eta_gamma(eta, gamma)
    alphas = np.asarray(orders, dtype=np.float64)
    values = np.asarray(rdp, dtype=np.float64)
    if alphas.shape != values.shape or alphas.ndim != 1 or not alphas.size:
        raise ValueError(f"orders and rdp must be 1-D and of one length. Got {alphas.shape} and {values.shape}.")
    if (alphas <= 1).any():
        raise ValueError(f"orders must all be above 1. Got min(orders)={alphas.min()!r}.")
    overhead = np.min((1 + eta) * (1 - 1 / alphas) * values + (1 + eta) * math.log(1 / gamma) / alphas)
    return values + overhead + math.log(expected_runs(eta=eta, gamma=gamma)) / (alphas - 1)


def selection_epsilon(*, orders, rdp, eta: float, gamma: float, delta: float) -> float:
    """(ε, δ) of releasing the best of K ~ D(η, gamma) runs: :func:`selection_rdp`, then the conversion
    of :func:`~ppml_helpers.dp.rdp.rdp_to_epsilon`."""
    d = check_delta(delta)
    return rdp_to_epsilon(orders=orders, rdp=selection_rdp(orders=orders, rdp=rdp, eta=eta, gamma=gamma),
                          delta=d)[0]
