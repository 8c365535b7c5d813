"""A polynomial stand-in for the sigmoid, evaluated on ciphertexts with TenSEAL's ``polyval``.

CKKS only adds and multiplies, so a non-polynomial activation is replaced by
a polynomial that is close on the range the inputs are known to lie in.
Outside that range the polynomial runs away (the cubic turns back at
|x| ≈ 4 and goes to ∓∞), so the range is part of the approximation.
Introduced in ``07_homomorphic_encryption``. The degree-3 fit on [−5, 5] is
essentially the one of TenSEAL's tutorial 1 (0.5 + 0.197x − 0.004x³), after
Chen, Gilad-Bachrach et al., "Logistic regression over encrypted data from
fully homomorphic encryption" (2018).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "GRID_POINTS",
    "PolynomialApproximation",
    "encrypted_polyval",
    "levels_left",
    "polyval_depth",
    "sigmoid_approximation",
]

#: Points of the uniform grid on [−a, a] used for the fit and for ``max_abs_error``.
GRID_POINTS = 20_001


def polyval_depth(degree: int) -> int:
    """Levels TenSEAL's ``polyval`` consumes for a polynomial of this degree: ⌊log2 d⌋ + 1.

    It squares x repeatedly (x², x⁴, …: ⌊log2 d⌋ levels) and multiplies each
    term by its plaintext coefficient (one more level). Degree 3 costs 2 levels;
    degree 0 (a constant) costs none.
    """
    if not isinstance(degree, numbers.Integral) or isinstance(degree, bool) or degree < 0:
        raise ValueError(f"degree must be a non-negative integer. Got {degree!r}.")
    return 0 if degree == 0 else int(degree).bit_length()


@dataclass(frozen=True)
class PolynomialApproximation:
    """A polynomial fitted to a function on [−interval, interval].

    Attributes:
        coefficients: lowest power first, as TenSEAL's ``polyval`` takes them.
        interval: the fit holds on [−interval, interval] only.
        max_abs_error: max |p(x) − f(x)| over a ``GRID_POINTS`` grid of the interval.
        depth: multiplicative levels ``polyval`` consumes (:func:`polyval_depth`).
    """

    coefficients: tuple[float, ...]
    interval: float
    max_abs_error: float
    depth: int

    @property
    def degree(self) -> int:
        return len(self.coefficients) - 1

    def __call__(self, x) -> np.ndarray:
        """Evaluate in plaintext (NumPy)."""
        return np.polynomial.polynomial.polyval(np.asarray(x, dtype=np.float64), self.coefficients)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free 1 / (1 + e^−x)


def sigmoid_approximation(*, degree: int = 3, interval: float = 5.0) -> PolynomialApproximation:
    """Least-squares polynomial fit of the sigmoid on [−interval, interval] (uniform grid).

    σ(x) − 1/2 is odd, so the fit uses odd powers only: the constant is exactly
    1/2 and even coefficients are exactly 0 (``polyval`` then skips them).

    Args:
        degree: an odd degree from 1 to 15.
        interval: a > 0; the inputs must lie in [−a, a].

    Returns:
        The approximation; the default (degree 3 on [−5, 5]) is
        0.5 + 0.19833x − 0.0044731x³ with ``max_abs_error`` 0.0608 (at the ends
        of the range), depth 2.

    >>> approx = sigmoid_approximation()
    >>> round(approx.max_abs_error, 4), approx.depth
    (0.0608, 2)
    """
    if not isinstance(degree, numbers.Integral) or isinstance(degree, bool) or not (
        1 <= degree <= 15 and degree % 2 == 1
    ):
        raise ValueError(f"degree must be an odd integer from 1 to 15. Got {degree!r}.")
    if isinstance(interval, bool) or not isinstance(interval, numbers.Real) or not (
        0 < interval < math.inf
    ):
        raise ValueError(f"interval must be a positive finite number (the half-width a). Got {interval!r}.")
    x = np.linspace(-interval, interval, GRID_POINTS)
    target = _sigmoid(x) - 0.5
    powers = np.arange(1, degree + 1, 2)
    odd, *_ = np.linalg.lstsq(x[:, None] ** powers, target, rcond=None)
    coefficients = np.zeros(degree + 1)
    coefficients[0] = 0.5
    coefficients[powers] = odd
    error = np.abs(np.polynomial.polynomial.polyval(x, coefficients) - _sigmoid(x)).max()
    return PolynomialApproximation(
        coefficients=tuple(float(c) for c in coefficients),
        interval=float(interval),
        max_abs_error=float(error),
        depth=polyval_depth(degree),
    )


def encrypted_polyval(vector, approximation: PolynomialApproximation):
    """``vector.polyval(coefficients)`` on a ``CKKSVector``, checking the levels it needs.

    Raises:
        ValueError: fewer levels are left in ``vector`` than ``approximation.depth``
            (TenSEAL would say only "scale out of bounds").
    """
    import tenseal as ts

    if not isinstance(vector, ts.CKKSVector):
        raise TypeError(f"vector must be a tenseal.CKKSVector. Got {type(vector).__name__}.")
    if not isinstance(approximation, PolynomialApproximation):
        raise TypeError(
            "approximation must be a PolynomialApproximation (from sigmoid_approximation). "
            f"Got {type(approximation).__name__}."
        )
    left = levels_left(vector)
    if left < approximation.depth:
        raise ValueError(
            f"vector has {left} multiplicative level(s) left but a degree-{approximation.degree} "
            f"polynomial needs {approximation.depth}: use a context with more middle primes "
            f"(e.g. he.CKKS_SIGMOID: depth 3 = a linear layer + the cubic)."
        )
    return vector.polyval(list(approximation.coefficients))


def levels_left(vector) -> int:
    """Rescales a CKKS vector can still go through (its data primes minus one)."""
    return min(ct.coeff_modulus_size() for ct in vector.ciphertext()) - 1
