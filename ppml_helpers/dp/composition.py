"""Composition theorems: what k releases cost together.

Introduced in ``03_differential_privacy``. Reference: Dwork & Roth (2014),
Theorem 3.16 (basic) and Theorem 3.20 (advanced; Dwork, Rothblum & Vadhan 2010).
"""

from __future__ import annotations

import math

from ._validate import check_delta, check_epsilon, check_steps

__all__ = ["advanced_composition", "basic_composition"]


def basic_composition(*, epsilon: float, delta: float = 0.0, k: int) -> tuple[float, float]:
    """k mechanisms, each (ε, δ)-DP, are together (kε, kδ)-DP.

    It holds for any mechanisms, even chosen adaptively, and is tight for
    pure ε-DP in the worst case; ε grows linearly with k.

    >>> basic_composition(epsilon=0.5, delta=0.25e-5, k=4)
    (2.0, 1e-05)
    """
    eps = check_epsilon(epsilon)
    d = check_delta(delta, allow_zero=True)
    n = _check_k(k)
    return n * eps, n * d


def advanced_composition(
    *, epsilon: float, delta: float = 0.0, k: int, delta_prime: float
) -> tuple[float, float]:
    """k-fold adaptive composition of (ε, δ)-DP mechanisms (Dwork, Rothblum & Vadhan 2010).

    For any δ' > 0 the composition is (ε', kδ + δ')-DP with
    ε' = ε·sqrt(2k ln(1/δ')) + kε(e^ε − 1): ε grows like √k instead of k,
    paid for with the extra δ'. For large ε or small k the basic bound kε
    can be smaller; take the smaller of the two.

    Args:
        epsilon, delta: each mechanism's guarantee.
        k: how many mechanisms.
        delta_prime: the extra failure probability δ' in (0, 1).

    Returns:
        ``(ε', kδ + δ')``.
    """
    eps = check_epsilon(epsilon)
    d = check_delta(delta, allow_zero=True)
    n = _check_k(k)
    dp = check_delta(delta_prime, "delta_prime")
    total_delta = n * d + dp
    if total_delta >= 1:
        raise ValueError(
            f"k*delta + delta_prime = {total_delta:.3g} is not below 1: the guarantee would be empty."
        )
    eps_total = eps * math.sqrt(2 * n * math.log(1 / dp)) + n * eps * math.expm1(eps)
    return eps_total, total_delta


def _check_k(k) -> int:
    n = check_steps(k, "k")
    if n < 1:
        raise ValueError(f"k must be at least 1 (the number of mechanisms composed). Got {k!r}.")
    return n
