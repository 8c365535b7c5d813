"""What a parameter set gives, without raising: the verdict, slots, depth, sizes; SEAL's own verdict.

For the parameter explorer of ``07_homomorphic_encryption`` and its table of
degree, maximum modulus bits, slots and depth. The rules themselves live in
:mod:`ppml_helpers.he.params`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .params import (
    _MAX_PRIME_BITS,
    MAX_COEFF_MODULUS_BITS,
    _bfv_problems,
    _ckks_problems,
    _degree_problem,
    _is_int,
)

__all__ = ["ParameterReport", "parameter_report", "parameter_table", "seal_parameter_check"]


@dataclass(frozen=True)
class ParameterReport:
    """What a parameter set gives, for the parameter explorer; built without raising.

    Attributes:
        secure: the modulus is within the 128-bit limit of a supported degree.
        valid: no problem at all (``ckks_context``/``bfv_context`` would accept it).
        problems: every problem found, each as the message the builders raise.
        slots: values per ciphertext (N/2 for CKKS; N for BFV, as two N/2 rows).
        depth: CKKS multiplications a fresh ciphertext allows (middle primes); None for BFV.
        ciphertext_bytes: a fresh ciphertext in memory, 2 polynomials × N
            coefficients × (primes − 1, the special prime excluded) × 8 bytes;
            serialised ciphertexts are somewhat smaller (SEAL compresses them).
        max_abs_value: CKKS values must stay below this after the last rescale,
            2^(first prime − scale bits − 1); None for BFV.
    """

    scheme: str
    poly_modulus_degree: object
    coeff_mod_bit_sizes: object
    global_scale_bits: object
    total_bits: int | None
    max_bits: int | None
    secure: bool
    valid: bool
    problems: tuple[str, ...]
    slots: int | None
    depth: int | None
    ciphertext_bytes: int | None
    max_abs_value: float | None

    @property
    def verdict(self) -> str:
        """One line: secure and valid, insecure, or invalid, with the first problem."""
        if self.valid:
            return (
                f"128-bit secure: {self.total_bits} of {self.max_bits} modulus bits; "
                f"{self.slots} slots" + (f", depth {self.depth}" if self.depth is not None else "")
                + f", {self.ciphertext_bytes / 1024:.0f} KiB per ciphertext"
            )
        head = "insecure" if not self.secure and self.max_bits is not None else "invalid"
        return f"{head}: {self.problems[0]}"


def parameter_report(
    *, poly_modulus_degree, coeff_mod_bit_sizes, global_scale_bits=None, scheme: str = "ckks",
    plain_modulus=None,
) -> ParameterReport:
    """Security verdict, slots, depth and ciphertext size of a parameter set; never raises.

    For an explorer: every input, however wrong, gives a report whose
    ``problems`` say what is wrong (``scheme`` itself must be "ckks" or "bfv").

    >>> parameter_report(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 40, 40, 60],
    ...                  global_scale_bits=40).verdict
    '128-bit secure: 200 of 218 modulus bits; 4096 slots, depth 2, 384 KiB per ciphertext'
    """
    if scheme not in ("ckks", "bfv"):
        raise ValueError(f"scheme must be 'ckks' or 'bfv'. Got {scheme!r}.")
    if scheme == "ckks":
        problems, sizes = _ckks_problems(poly_modulus_degree, coeff_mod_bit_sizes, global_scale_bits)
    else:
        problems, sizes = _bfv_problems(poly_modulus_degree, coeff_mod_bit_sizes, plain_modulus)
    n = int(poly_modulus_degree) if _degree_problem(poly_modulus_degree) is None else None
    max_bits = MAX_COEFF_MODULUS_BITS.get(n) if n else None
    total = sum(sizes) if sizes else None
    depth = max_abs = ct_bytes = None
    if n and sizes:
        ct_bytes = 2 * n * max(len(sizes) - 1, 1) * 8
        if scheme == "ckks":
            depth = max(len(sizes) - 2, 0)
            if _is_int(global_scale_bits):
                max_abs = 2.0 ** (sizes[0] - global_scale_bits - 1)
    return ParameterReport(
        scheme=scheme,
        poly_modulus_degree=poly_modulus_degree,
        coeff_mod_bit_sizes=sizes if sizes is not None else coeff_mod_bit_sizes,
        global_scale_bits=global_scale_bits,
        total_bits=total,
        max_bits=max_bits,
        secure=bool(max_bits is not None and total is not None and total <= max_bits),
        valid=not problems,
        problems=tuple(message for _, message in problems),
        slots=(n // 2 if scheme == "ckks" else n) if n else None,
        depth=depth,
        ciphertext_bytes=ct_bytes,
        max_abs_value=max_abs,
    )


def parameter_table(*, scale_bits: int = 40, outer_bits: int = 60):
    """The 128-bit table per degree: max modulus bits, slots, CKKS depth, ciphertext size.

    Depth assumes a chain ``[outer, scale × depth, outer]`` (first and special
    prime of ``outer_bits``, middle primes of ``scale_bits``) filling the budget:
    ``depth = floor((max_bits − 2·outer_bits) / scale_bits)``; <NA> when even
    the two outer primes do not fit.

    Returns:
        A DataFrame indexed by ``poly_modulus_degree`` with ``max_coeff_modulus_bits``,
        ``slots``, ``max_depth``, ``example`` (the chain) and ``ciphertext_kib``
        (fresh ciphertext at that chain, in memory).
    """
    import pandas as pd

    for name, value in (("scale_bits", scale_bits), ("outer_bits", outer_bits)):
        if not _is_int(value) or not 1 <= value <= _MAX_PRIME_BITS:
            raise ValueError(f"{name} must be an integer from 1 to {_MAX_PRIME_BITS}. Got {value!r}.")
    if outer_bits <= scale_bits:
        raise ValueError(
            f"outer_bits must exceed scale_bits (the first prime holds the scaled result). "
            f"Got outer_bits={outer_bits}, scale_bits={scale_bits}."
        )
    rows = []
    for n, limit in MAX_COEFF_MODULUS_BITS.items():
        fits = limit >= 2 * outer_bits
        depth = (limit - 2 * outer_bits) // scale_bits if fits else None
        rows.append({
            "poly_modulus_degree": n,
            "max_coeff_modulus_bits": limit,
            "slots": n // 2,
            "max_depth": depth,
            "example": f"{outer_bits} + {scale_bits}×{depth} + {outer_bits}" if fits else "—",
            "ciphertext_kib": 2 * n * (depth + 1) * 8 / 1024 if fits else math.nan,
        })  # fmt: skip
    frame = pd.DataFrame(rows).set_index("poly_modulus_degree")
    frame["max_depth"] = frame["max_depth"].astype("Int64")
    return frame


def seal_parameter_check(*, poly_modulus_degree, coeff_mod_bit_sizes, scheme: str = "ckks") -> tuple[str, str]:
    """SEAL's own verdict, ``(error_name, message)``: ``("success", "valid")`` when it accepts.

    Asks SEAL (through ``tenseal.sealapi``) at 128-bit security; an insecure set
    gives ``("invalid_parameters_insecure", "parameters are not compliant with
    HomomorphicEncryption.org security standard")``. Prime sizes SEAL cannot
    produce give ``("coeff_modulus", <SEAL's exception text>)``.
    """
    from tenseal import sealapi

    if scheme not in ("ckks", "bfv"):
        raise ValueError(f"scheme must be 'ckks' or 'bfv'. Got {scheme!r}.")
    params = sealapi.EncryptionParameters(getattr(sealapi.SCHEME_TYPE, scheme.upper()))
    try:
        params.set_poly_modulus_degree(poly_modulus_degree)
        params.set_coeff_modulus(sealapi.CoeffModulus.Create(poly_modulus_degree, list(coeff_mod_bit_sizes)))
    except (ValueError, RuntimeError, TypeError) as exc:
        return "coeff_modulus", str(exc)
    if scheme == "bfv":
        params.set_plain_modulus(sealapi.PlainModulus.Batching(poly_modulus_degree, 20))
    context = sealapi.SEALContext(params, True, sealapi.SEC_LEVEL_TYPE.TC128)
    return context.parameters_error_name(), context.parameters_error_message()
