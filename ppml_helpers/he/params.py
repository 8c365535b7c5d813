"""HE parameter sets as values: the 128-bit security table, the checks, presets and a verdict.

Nothing here builds keys; :mod:`ppml_helpers.he.context` turns a checked set
into a TenSEAL context and :mod:`ppml_helpers.he.security` reports on any set
without raising. Introduced in ``07_homomorphic_encryption``.

Security comes from the HomomorphicEncryption.org standard (Albrecht et al.,
"Homomorphic Encryption Security Standard", 2018, table 1, ternary secrets):
for a ring of degree N the product of all coefficient-modulus primes may have
at most ``MAX_COEFF_MODULUS_BITS[N]`` bits for 128-bit security. SEAL ships the
same numbers (``CoeffModulus.MaxBitCount``) and refuses larger moduli, but
TenSEAL passes its refusal on tersely: ``ts.context(ts.SCHEME_TYPE.CKKS, 8192,
coeff_mod_bit_sizes=[60] * 5)`` raises ``ValueError: encryption parameters are
not set correctly`` (``SEAL_REFUSAL``), without the limit or what to change;
SEAL's own reason, "parameters are not compliant with HomomorphicEncryption.org
security standard", is only reachable through ``security.seal_parameter_check``.
The checks here say which limit was crossed and what would be secure.

A CKKS modulus chain reads ``[first, middle..., special]``: the data live
modulo the product of all but the last prime; each rescale (after a
multiplication) divides by the current last data prime, so the middle primes
should equal the scale ``2^global_scale_bits`` for the scale to stay put, and
their number is the multiplicative depth. The first prime holds the result
after the last rescale and must exceed the scale by the bits of the largest
value; the special prime is only used for key switching (relinearisation,
rotations) and should be at least as large as every other prime.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BFV_DEFAULT",
    "CKKS_AGGREGATION",
    "CKKS_INFERENCE",
    "CKKS_SIGMOID",
    "MAX_COEFF_MODULUS_BITS",
    "SEAL_REFUSAL",
    "BFVParameters",
    "CKKSParameters",
    "InsecureParametersError",
    "check_bfv_parameters",
    "check_ckks_parameters",
]

#: Maximum total coefficient-modulus bits for 128-bit classical security (HE standard, SEAL).
MAX_COEFF_MODULUS_BITS: dict[int, int] = {
    1024: 27, 2048: 54, 4096: 109, 8192: 218, 16384: 438, 32768: 881,
}  # fmt: skip

#: What TenSEAL 0.3.x raises (as ``ValueError``) for a set beyond the table above.
SEAL_REFUSAL = "encryption parameters are not set correctly"

_MAX_PRIME_BITS = 60  # SEAL's largest coefficient-modulus prime
_DEGREES = ", ".join(str(n) for n in MAX_COEFF_MODULUS_BITS)
# Prime and 1 mod 2N for every N in the table: valid BFV plaintext moduli for SIMD batching.
_PLAIN_SUGGESTION = "65537 (17 bits) or 786433 (20 bits), prime and ≡ 1 mod 2N for every N ≤ 32768"


class InsecureParametersError(ValueError):
    """A parameter set whose coefficient modulus is too large for 128-bit security."""


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class CKKSParameters:
    """A CKKS parameter set; ``.context()`` checks it and builds the TenSEAL context.

    ``coeff_mod_bit_sizes`` is ``(first, middle..., special)``; the scale is
    ``2**global_scale_bits``; depth = number of middle primes.
    """

    poly_modulus_degree: int
    coeff_mod_bit_sizes: tuple[int, ...]
    global_scale_bits: int

    @property
    def slots(self) -> int:
        """Values per ciphertext: N/2."""
        return self.poly_modulus_degree // 2

    @property
    def depth(self) -> int:
        """Multiplications (rescales) a fresh ciphertext can go through: the middle primes."""
        return max(len(self.coeff_mod_bit_sizes) - 2, 0)

    def context(self, *, galois_keys: bool = True):
        """``ckks_context(**this set, galois_keys=galois_keys)``."""
        from .context import ckks_context

        return ckks_context(
            poly_modulus_degree=self.poly_modulus_degree,
            coeff_mod_bit_sizes=self.coeff_mod_bit_sizes,
            global_scale_bits=self.global_scale_bits,
            galois_keys=galois_keys,
        )

    def report(self):
        """:func:`~ppml_helpers.he.security.parameter_report` of this set."""
        from .security import parameter_report

        return parameter_report(
            poly_modulus_degree=self.poly_modulus_degree,
            coeff_mod_bit_sizes=self.coeff_mod_bit_sizes,
            global_scale_bits=self.global_scale_bits,
        )


@dataclass(frozen=True)
class BFVParameters:
    """A BFV parameter set (exact integers modulo ``plain_modulus``); ``None`` sizes = SEAL's default."""

    poly_modulus_degree: int
    plain_modulus: int
    coeff_mod_bit_sizes: tuple[int, ...] | None = None

    def context(self, *, galois_keys: bool = True):
        """``bfv_context(**this set, galois_keys=galois_keys)``."""
        from .context import bfv_context

        return bfv_context(
            poly_modulus_degree=self.poly_modulus_degree,
            plain_modulus=self.plain_modulus,
            coeff_mod_bit_sizes=self.coeff_mod_bit_sizes,
            galois_keys=galois_keys,
        )

    def report(self):
        """:func:`~ppml_helpers.he.security.parameter_report` of this set."""
        from .security import parameter_report

        return parameter_report(
            poly_modulus_degree=self.poly_modulus_degree,
            coeff_mod_bit_sizes=self.coeff_mod_bit_sizes,
            scheme="bfv",
            plain_modulus=self.plain_modulus,
        )


#: Depth 1: one plaintext-weight layer (batched or per-sample linear inference). 160 of 218 bits.
CKKS_INFERENCE = CKKSParameters(8192, (60, 40, 60), 40)
#: Depth 3: a linear layer then the degree-3 sigmoid polynomial (depth 2). 190 of 218 bits.
CKKS_SIGMOID = CKKSParameters(8192, (50, 30, 30, 30, 50), 30)
#: Depth 0: additions only (aggregating updates), so the smallest ciphertexts. 120 of 218 bits.
CKKS_AGGREGATION = CKKSParameters(8192, (60, 60), 40)
#: BFV with SEAL's 128-bit default modulus for N = 8192 and a 20-bit batching-friendly prime.
BFV_DEFAULT = BFVParameters(8192, 786433)


# ---------------------------------------------------------------- checks


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for n < 3.3e24 (all SEAL plaintext moduli)."""
    if n < 2:
        return False
    small = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)
    if n in small:
        return True
    if any(n % p == 0 for p in small):
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in small:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _degree_problem(n) -> str | None:
    if not _is_int(n) or n not in MAX_COEFF_MODULUS_BITS:
        return (
            f"poly_modulus_degree must be one of {_DEGREES} (the degrees the HE standard "
            f"tables for 128-bit security). Got {n!r}."
        )
    return None


def _sizes_problems(n: int, sizes) -> tuple[list[str], tuple[int, ...] | None]:
    """Shape problems of ``coeff_mod_bit_sizes``; the sizes as a tuple when readable."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        return [f"coeff_mod_bit_sizes must be a list of prime sizes in bits. Got {sizes!r}."], None
    if not all(_is_int(b) for b in sizes):
        return [f"coeff_mod_bit_sizes must hold integers (bits per prime). Got {list(sizes)!r}."], None
    sizes = tuple(int(b) for b in sizes)
    problems = []
    if len(sizes) < 2:
        problems.append(
            f"coeff_mod_bit_sizes must list at least two primes: the data primes, then the "
            f"special prime TenSEAL needs for key switching (its relinearisation keys). "
            f"Got {list(sizes)}."
        )
    # A prime ≡ 1 mod 2N (needed for the NTT) exceeds 2N, so it has more than log2(2N) bits.
    low = (2 * n).bit_length()
    for i, b in enumerate(sizes):
        if not low <= b <= _MAX_PRIME_BITS:
            problems.append(
                f"coeff_mod_bit_sizes[{i}] is {b} bits; each prime must have {low} to "
                f"{_MAX_PRIME_BITS} bits for poly_modulus_degree {n} (SEAL's primes are at most "
                f"{_MAX_PRIME_BITS} bits and must be ≡ 1 mod 2N = {2 * n})."
            )
    return problems, sizes


def _security_problem(n: int, sizes: tuple[int, ...]) -> str | None:
    total, limit = sum(sizes), MAX_COEFF_MODULUS_BITS[n]
    if total <= limit:
        return None
    bigger = [m for m, bits in MAX_COEFF_MODULUS_BITS.items() if bits >= total]
    fix = f"drop {total - limit} bits (a prime or smaller primes)"
    if bigger:
        fix += f" or use poly_modulus_degree {bigger[0]} (limit {MAX_COEFF_MODULUS_BITS[bigger[0]]})"
    return (
        f"sum of coeff_mod_bit_sizes is {total} > {limit}, the 128-bit limit for "
        f"poly_modulus_degree {n} (HE standard): {list(sizes)} is below 128-bit security; {fix}."
    )


def _scale_problems(sizes: tuple[int, ...], scale_bits) -> list[str]:
    if not _is_int(scale_bits) or not 1 <= scale_bits <= _MAX_PRIME_BITS:
        return [
            f"global_scale_bits must be an integer from 1 to {_MAX_PRIME_BITS} (the scale is "
            f"2**global_scale_bits). Got {scale_bits!r}."
        ]
    if len(sizes) < 2:
        return []
    problems = []
    middle = list(sizes[1:-1])
    if any(b != scale_bits for b in middle):
        problems.append(
            f"middle primes are {middle} but global_scale_bits={scale_bits}: rescaling divides "
            f"by the primes, so the scale drifts; use middle primes of {scale_bits} bits "
            f"(or global_scale_bits equal to them)."
        )
    first = sizes[0]
    if first <= scale_bits:
        fix = (
            f"use a first prime of global_scale_bits + the bits of your largest value "
            f"(e.g. {min(scale_bits + 20, _MAX_PRIME_BITS)})"
            if scale_bits < _MAX_PRIME_BITS
            else f"lower global_scale_bits: the first prime (at most {_MAX_PRIME_BITS} bits) must exceed it"
        )
        problems.append(
            f"coeff_mod_bit_sizes[0] (the first prime) is {first} bits but global_scale_bits="
            f"{scale_bits}: after the last rescale a value x is held as x·2^{scale_bits} modulo "
            f"that prime, so only |x| < {2.0 ** (first - scale_bits - 1):g} decrypts correctly; {fix}."
        )
    special, largest = sizes[-1], max(sizes[:-1])
    if special < largest:
        problems.append(
            f"coeff_mod_bit_sizes[-1] (the special prime, used only for key switching) is "
            f"{special} bits, smaller than the largest other prime ({largest} bits): "
            f"relinearisation and rotations would add noise about 2^{largest - special} times "
            f"larger; make it at least {largest} bits (SEAL's advice)."
        )
    return problems


def _plain_modulus_problems(n: int, t, sizes: tuple[int, ...] | None) -> list[str]:
    if not _is_int(t) or t < 2:
        return [f"plain_modulus must be an integer prime. Got {t!r}; use {_PLAIN_SUGGESTION}."]
    t, problems = int(t), []
    if not _is_prime(t) or t % (2 * n) != 1:
        problems.append(
            f"plain_modulus must be a prime ≡ 1 mod 2N = {2 * n} so that N integers can be "
            f"batched in one ciphertext (SIMD). Got {t} ({'prime' if _is_prime(t) else 'not prime'}, "
            f"≡ {t % (2 * n)} mod {2 * n}); use {_PLAIN_SUGGESTION}."
        )
    if sizes and t.bit_length() >= min(sizes):
        problems.append(
            f"plain_modulus has {t.bit_length()} bits, not fewer than the smallest coefficient "
            f"prime ({min(sizes)} bits): no noise budget would be left; use {_PLAIN_SUGGESTION}."
        )
    return problems


def _bfv_default_sizes(n: int) -> tuple[int, ...]:
    from tenseal import sealapi

    return tuple(m.bit_count() for m in sealapi.CoeffModulus.BFVDefault(n, sealapi.SEC_LEVEL_TYPE.TC128))


def _ckks_problems(n, sizes, scale_bits) -> tuple[list[tuple[type, str]], tuple[int, ...] | None]:
    problem = _degree_problem(n)
    if problem:
        return [(ValueError, problem)], None
    n = int(n)
    size_problems, sizes = _sizes_problems(n, sizes)
    if sizes is None:
        return [(ValueError, p) for p in size_problems], None
    problems = []
    insecure = _security_problem(n, sizes)
    if insecure:
        problems.append((InsecureParametersError, insecure))
    problems += [(ValueError, p) for p in size_problems + _scale_problems(sizes, scale_bits)]
    return problems, sizes


def _bfv_problems(n, sizes, t) -> tuple[list[tuple[type, str]], tuple[int, ...] | None]:
    problem = _degree_problem(n)
    if problem:
        return [(ValueError, problem)], None
    n = int(n)
    default = sizes is None
    size_problems, sizes = _sizes_problems(n, _bfv_default_sizes(n) if default else sizes)
    if default:
        note = (f" (coeff_mod_bit_sizes=None means SEAL's 128-bit BFV default for N = {n}, a single "
                f"prime below N = 4096: use poly_modulus_degree 4096 or more)")
        size_problems = [p + note for p in size_problems]
    if sizes is None:
        return [(ValueError, p) for p in size_problems], None
    problems = []
    insecure = _security_problem(n, sizes)
    if insecure:
        problems.append((InsecureParametersError, insecure))
    problems += [(ValueError, p) for p in size_problems + _plain_modulus_problems(n, t, sizes)]
    return problems, sizes


def _raise_first(problems: list[tuple[type, str]]) -> None:
    if problems:
        kind, message = problems[0]
        more = len(problems) - 1
        raise kind(message + (f" ({more} more problem{'s' * (more > 1)}: see parameter_report)" if more else ""))


def check_ckks_parameters(*, poly_modulus_degree, coeff_mod_bit_sizes, global_scale_bits) -> tuple[int, ...]:
    """Check a CKKS parameter set without building keys; return the sizes as a tuple.

    Raises:
        InsecureParametersError: the modulus exceeds the 128-bit limit for the degree
            (a ``ValueError``; the message names the sum, the limit and a secure fix).
        ValueError: an unsupported degree, fewer than two primes, a prime outside
            SEAL's sizes, middle primes unequal to the scale, a first prime not above
            the scale, or a special prime smaller than another prime.

    >>> check_ckks_parameters(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 40, 40, 60],
    ...                       global_scale_bits=40)
    (60, 40, 40, 60)
    """
    problems, sizes = _ckks_problems(poly_modulus_degree, coeff_mod_bit_sizes, global_scale_bits)
    _raise_first(problems)
    return sizes


def check_bfv_parameters(*, poly_modulus_degree, plain_modulus, coeff_mod_bit_sizes=None) -> tuple[int, ...]:
    """Check a BFV parameter set; return the coefficient sizes (SEAL's default when ``None``).

    Raises:
        InsecureParametersError: the modulus exceeds the 128-bit limit for the degree.
        ValueError: an unsupported degree, bad prime sizes, or a plain modulus that is
            not a prime ≡ 1 mod 2N (needed for batching) or leaves no noise budget.
    """
    problems, sizes = _bfv_problems(poly_modulus_degree, coeff_mod_bit_sizes, plain_modulus)
    _raise_first(problems)
    return sizes
