"""Self-checks for ``07_homomorphic_encryption``.

The checks need no TenSEAL: 7.3 hands the learner's function stand-ins for
ciphertexts (:class:`_SlotVector`) that allow only what a CKKS ciphertext
allows with plaintext weights, products by numbers and additions, so a
function that passes runs on ``tenseal.CKKSVector`` columns unchanged.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ..he.params import MAX_COEFF_MODULUS_BITS
from ._core import CheckResult, LearnerError, call_learner, check, failed, passed

__all__ = [
    "check_batched_scores",
    "check_choose_parameters",
    "check_ciphertexts_needed",
    "check_expansion_factor",
]


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    return None


def _as_float(value):
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- 7.1


def _chain(depth: int, scale_bits: int, outer_bits: int) -> list[int]:
    return [outer_bits, *[scale_bits] * depth, outer_bits]


def _smallest_degree(total_bits: int) -> int | None:
    return next((n for n, limit in MAX_COEFF_MODULUS_BITS.items() if total_bits <= limit), None)


def _reference_parameters(depth: int, scale_bits: int, outer_bits: int):
    chain = _chain(depth, scale_bits, outer_bits)
    n = _smallest_degree(sum(chain))
    return None if n is None else (n, chain)


_PARAMETER_CASES = [(1, 40, 60), (2, 40, 60), (3, 40, 60), (2, 50, 59), (4, 30, 50), (0, 40, 60),
                    (7, 40, 60), (19, 41, 51), (20, 50, 60)]  # fmt: skip


@check
def check_choose_parameters(choose_parameters) -> CheckResult:
    """Check ``choose_parameters(depth, scale_bits, outer_bits)``: the chain
    ``[outer, scale × depth, outer]`` and the smallest degree whose 128-bit limit holds it,
    as ``(poly_modulus_degree, coeff_mod_bit_sizes)``, or ``None`` when no degree does;
    on nine requests, two of them exactly at a limit and one beyond every degree."""
    ex = "7.1"
    for depth, scale, outer in _PARAMETER_CASES:
        got = call_learner(ex, choose_parameters, depth, scale, outer)
        want = _reference_parameters(depth, scale, outer)
        ask = f"depth {depth}, scale 2^{scale}, outer primes of {outer} bits"
        if want is None:
            if got is None:
                continue
            return failed(ex, f"for {ask}: you returned {got!r}, but no degree in the table is secure "
                              "for that chain.",
                          "Compare the chain's total bits with the largest limit in the table; "
                          "return None when even that is exceeded.")
        if got is None:
            return failed(ex, f"for {ask}: you returned None, but a secure degree exists.",
                          "Go through the degrees from the smallest and stop at the first whose "
                          "limit is not exceeded (a total equal to the limit is allowed).")
        if not (isinstance(got, Sequence) and len(got) == 2):
            return failed(ex, f"expected a pair (poly_modulus_degree, coeff_mod_bit_sizes); got {got!r}.",
                          "Return a tuple of the degree and the list of prime sizes.")
        n, sizes = _as_int(got[0]), got[1]
        if not isinstance(sizes, Sequence) or any(_as_int(b) is None for b in sizes):
            return failed(ex, f"the prime sizes should be a list of integers; got {sizes!r}.",
                          "coeff_mod_bit_sizes lists one bit size per prime, first to special.")
        sizes = [_as_int(b) for b in sizes]
        want_n, want_sizes = want
        if sizes != want_sizes:
            middle = len(sizes) - 2
            if middle == depth + 1:
                return failed(ex, f"for {ask}: your chain has {middle} middle primes.",
                              "Depth counts rescales, one per middle prime; the first prime holds "
                              "the final result and the last one is only for key switching.")
            if middle == depth - 1:
                return failed(ex, f"for {ask}: your chain has {middle} middle primes: one level short.",
                              "Each multiplication needs its own middle prime to rescale by.")
            return failed(ex, f"for {ask}: your chain {sizes} is not [outer, scale × depth, outer].",
                          "Outer primes at both ends, middle primes the size of the scale.")
        if n not in MAX_COEFF_MODULUS_BITS:
            return failed(ex, f"{got[0]!r} is not a degree of the 128-bit table.",
                          "Degrees are the keys of he.MAX_COEFF_MODULUS_BITS.")
        if sum(sizes) > MAX_COEFF_MODULUS_BITS[n]:
            if _smallest_degree(sum(sizes[:-1])) == n:
                return failed(ex, f"for {ask}: the chain does not fit the limit of degree {n}.",
                              "The special (last) prime counts towards the security limit too: "
                              "sum every prime.")
            return failed(ex, f"for {ask}: the chain has more bits than degree {n} allows: insecure.",
                          "Compare the sum of all primes with the limit of the degree you return.")
        if n != want_n:
            at_limit = sum(sizes) == MAX_COEFF_MODULUS_BITS[want_n]
            return failed(ex, f"for {ask}: degree {n} is secure but not the smallest that is.",
                          "A total exactly at a limit is still secure (≤, not <)." if at_limit
                          else "A smaller degree means smaller, faster ciphertexts: take the "
                               "smallest that fits.")
    return passed(ex, "the smallest secure degree for nine chains, limits and impossible requests included.")


# ---------------------------------------------------------------- 7.2


def _reference_ciphertexts(n_samples: int, n_features: int, degree: int) -> int:
    return -(-n_samples // (degree // 2)) * n_features


_PACKING_CASES = [(10_000, 784, 8192), (4096, 784, 8192), (4097, 10, 8192), (1, 5, 16384),
                  (5000, 196, 4096), (8192, 3, 8192), (100_000, 105, 32768)]  # fmt: skip


@check
def check_ciphertexts_needed(ciphertexts_needed) -> CheckResult:
    """Check ``ciphertexts_needed(n_samples, n_features, poly_modulus_degree)``: ciphertexts
    for a batch packed feature-wise (one ciphertext per feature per chunk of N/2 samples),
    exactly, on seven batches."""
    ex = "7.2"
    answers = []
    for n, d, degree in _PACKING_CASES:
        raw = call_learner(ex, ciphertexts_needed, n, d, degree)
        if _as_int(raw) is None:
            return failed(ex, f"for {n:,} samples × {d} features at N = {degree} you returned {raw!r}, "
                              "not a whole number.", "Ciphertexts come whole: return an int.")
        answers.append(_as_int(raw))
    wrong = [(case, got) for case, got in zip(_PACKING_CASES, answers, strict=True)
             if got != _reference_ciphertexts(*case)]
    if not wrong:
        return passed(ex, "ciphertexts for seven feature-packed batches, partly filled chunks included.")
    (n, d, degree), got = wrong[0]
    message = f"for {n:,} samples × {d} features at N = {degree} you returned {got}."

    def everywhere(formula) -> bool:
        return all(a == formula(*case) for case, a in zip(_PACKING_CASES, answers, strict=True))

    if everywhere(lambda n, d, degree: -(-n // degree) * d):
        return failed(ex, message, "How many real values does one CKKS ciphertext hold at degree N?")
    if everywhere(lambda n, d, degree: (n // (degree // 2)) * d) or everywhere(
        lambda n, d, degree: n * d // (degree // 2)
    ):
        return failed(ex, message + " Too few for some batches.",
                      "A partly filled ciphertext still has to be sent whole.")
    if everywhere(lambda n, d, degree: -(-n // (degree // 2))):
        return failed(ex, message + " That counts chunks of samples only.",
                      "Feature-wise packing needs one ciphertext per feature in each chunk.")
    return failed(ex, message, "Count the chunks of samples one ciphertext's slots can hold, then the "
                               "ciphertexts each chunk needs.")


# ---------------------------------------------------------------- 7.3


class _SlotVector:
    """A plaintext stand-in for ``tenseal.CKKSVector``: products by numbers and additions only."""

    __array_ufunc__ = None  # numpy must not turn `array * vector` into something else

    def __init__(self, values):
        self._values = np.asarray(values, dtype=np.float64)

    @staticmethod
    def _refuse(what: str):
        raise TypeError(
            f"{what} is not possible on a ciphertext here: multiply a column by a plain number "
            "(a weight) and add columns or numbers."
        )

    def __mul__(self, other):
        if isinstance(other, _SlotVector):
            self._refuse("multiplying two encrypted columns (it would cost depth for nothing)")
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            self._refuse(f"multiplying a column by {type(other).__name__}")
        return _SlotVector(self._values * float(other))

    __rmul__ = __mul__

    def __add__(self, other):
        if isinstance(other, _SlotVector):
            return _SlotVector(self._values + other._values)
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            self._refuse(f"adding {type(other).__name__} to a column")
        return _SlotVector(self._values + float(other))

    __radd__ = __add__

    def add_(self, other):
        self._values = (self + other)._values
        return self

    def mul_(self, other):
        self._values = (self * other)._values
        return self

    def __len__(self):
        self._refuse("len() of a ciphertext")

    def __iter__(self):
        self._refuse("reading a ciphertext slot by slot")

    def __getitem__(self, item):
        self._refuse("indexing a ciphertext")

    def __array__(self, *args, **kwargs):
        self._refuse("turning a ciphertext into a NumPy array")

    def decrypt(self):
        return self._values.tolist()


def _read_scores(got, n: int, c: int):
    """The learner's outputs as an [n, c] array, or an error message."""
    if isinstance(got, np.ndarray) or not isinstance(got, Sequence):
        return None, f"expected a list of {c} score vectors (one per output); got {type(got).__name__}."
    if len(got) != c:
        return None, f"expected {c} score vectors (one per output); got {len(got)}."
    columns = []
    for v in got:
        values = v.decrypt() if isinstance(v, _SlotVector) else v
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (n,):
            return None, f"each score vector should hold {n} values, one per sample; got shape {arr.shape}."
        columns.append(arr)
    return np.column_stack(columns), None


@check
def check_batched_scores(batched_scores) -> CheckResult:
    """Check ``batched_scores(columns, weights, bias)``: from d columns (feature j of every sample),
    a list of c vectors, output k = Σ_j columns[j] · weights[j, k] + bias[k]; to 1e-9, on NumPy
    columns and on stand-ins for ciphertexts that allow only products by numbers and additions."""
    ex = "7.3"
    rng = np.random.default_rng(7)
    n, d, c = 12, 5, 3
    x = rng.uniform(0, 1, (n, d))
    w, b = rng.normal(0, 1, (d, c)), rng.normal(0, 1, c)
    want = x @ w + b
    got = call_learner(ex, batched_scores, [col.copy() for col in x.T], w.copy(), b.copy())
    scores, problem = _read_scores(got, n, c)
    if problem:
        return failed(ex, problem, "Return one vector per output k, each over all the samples.")
    if not np.allclose(scores, want, atol=1e-9):
        if np.allclose(scores, x @ w, atol=1e-9):
            return failed(ex, "the scores miss the bias.", "Add bias[k] to output k.")
        if np.allclose(scores, want - b + b.sum(), atol=1e-9):
            return failed(ex, "every output got every bias.", "Output k takes bias[k] only.")
        return failed(ex, "the scores don't match x @ weights + bias.",
                      "Column j carries feature j; its weight for output k is weights[j, k].")
    try:
        got = call_learner(ex, batched_scores, [_SlotVector(col) for col in x.T], w.copy(), b.copy())
    except LearnerError as err:
        return failed(ex, "right on NumPy columns, but on ciphertext-like columns " + err.result.message,
                      "A ciphertext allows column × number and column + column (or + number) only: "
                      "no stacking, indexing or matrix products.")
    scores, problem = _read_scores(got, n, c)
    if problem:
        return failed(ex, "on ciphertext-like columns: " + problem,
                      "Keep each output a column you built from the input columns.")
    if not np.allclose(scores, want, atol=1e-9):
        return failed(ex, "on ciphertext-like columns the scores differ from x @ weights + bias.",
                      "Use only column × number and column + column (or + number).")
    return passed(ex, "x @ weights + bias from feature columns, using only what a ciphertext allows.")


# ---------------------------------------------------------------- 7.4


def _reference_expansion(length: int, slots: int, ciphertext_bytes: int, bytes_per_value: int) -> float:
    return -(-length // slots) * ciphertext_bytes / (length * bytes_per_value)


_EXPANSION_CASES = [(199_210, 4096, 131_217, 4), (4096, 4096, 131_217, 4), (4097, 4096, 131_217, 8),
                    (7850, 4096, 235_000, 4), (10, 2048, 60_000, 4)]  # fmt: skip


@check
def check_expansion_factor(expansion_factor) -> CheckResult:
    """Check ``expansion_factor(length, slots, ciphertext_bytes, bytes_per_value)``: bytes sent
    encrypted (whole ciphertexts of ``slots`` values) over bytes sent in plaintext, to 1e-9
    relative, on five updates, partly filled last ciphertexts included."""
    ex = "7.4"
    for length, slots, ct, per in _EXPANSION_CASES:
        got = _as_float(call_learner(ex, expansion_factor, length, slots, ct, per))
        want = _reference_expansion(length, slots, ct, per)
        case = f"{length:,} values, {slots} slots, {ct:,} bytes per ciphertext, {per} bytes per value"
        if got is None or not math.isfinite(got):
            return failed(ex, f"for {case} expected one finite number.", "Return a float.")
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        if math.isclose(got, 1 / want, rel_tol=1e-9):
            return failed(ex, f"for {case} you returned {got:.4g}, below 1.",
                          "Encryption expands data: divide the encrypted size by the plaintext size.")
        if math.isclose(got, (length / slots) * ct / (length * per), rel_tol=1e-9):
            return failed(ex, f"for {case} you returned {got:.4g}: too small.",
                          "You counted a fraction of a ciphertext; the last one is sent whole.")
        return failed(ex, f"for {case} you returned {got:.4g}.",
                      "Encrypted bytes: ciphertexts × bytes each; plaintext bytes: values × bytes each.")
    return passed(ex, "the expansion factor of five updates, partly filled ciphertexts included.")
