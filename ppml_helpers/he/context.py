"""TenSEAL contexts from checked parameters, and what a context holds (sizes of keys, slots, depth).

The context holds the parameters and the keys: the secret key (decryption),
the public key (encryption), relinearisation keys (ciphertext × ciphertext)
and, optionally, Galois keys (slot rotations: sums within a ciphertext, dot
products, ``mm``). Send a server ``context.copy()`` after
``make_context_public()``; keep the secret key. Introduced in
``07_homomorphic_encryption``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .params import check_bfv_parameters, check_ckks_parameters

__all__ = ["ContextInfo", "KeySizes", "bfv_context", "ckks_context", "context_info", "key_sizes"]


def _tenseal_context(scheme: str, n: int, sizes, plain_modulus: int, galois_keys: bool):
    import tenseal as ts

    if not isinstance(galois_keys, bool):
        raise ValueError(f"galois_keys must be True or False. Got {galois_keys!r}.")
    kind = ts.SCHEME_TYPE.CKKS if scheme == "ckks" else ts.SCHEME_TYPE.BFV
    try:
        ctx = ts.context(kind, n, plain_modulus, coeff_mod_bit_sizes=list(sizes))
    except (ValueError, RuntimeError) as exc:  # e.g. SEAL finds no primes of these sizes
        raise ValueError(
            f"TenSEAL (SEAL) refused poly_modulus_degree={n}, coeff_mod_bit_sizes={list(sizes)}: "
            f"{exc}."
        ) from exc
    if galois_keys:
        ctx.generate_galois_keys()
    return ctx


def ckks_context(*, poly_modulus_degree: int, coeff_mod_bit_sizes, global_scale_bits: int,
                 galois_keys: bool = True):
    """A TenSEAL CKKS context (with secret key) for a 128-bit-secure, consistent parameter set.

    Args:
        poly_modulus_degree: N, a power of two from 1024 to 32768; N/2 values per ciphertext.
        coeff_mod_bit_sizes: prime sizes ``[first, middle..., special]``; their sum
            must stay within ``MAX_COEFF_MODULUS_BITS[N]``.
        global_scale_bits: the scale is ``2**global_scale_bits``; equal to each middle prime.
        galois_keys: generate rotation keys (needed by ``dot``, ``sum``, ``mm``:
            the per-sample inference; not by batched inference or aggregation).
            They are large: about 17 MB at N = 8192 with three primes.

    Returns:
        A private ``tenseal.Context`` with public, relinearisation and (optionally) Galois keys.

    Raises:
        InsecureParametersError: the modulus is too large for 128-bit security
            (TenSEAL alone raises ``ValueError: encryption parameters are not set
            correctly`` here, see ``params.SEAL_REFUSAL``).
        ValueError: any other inconsistency (see :func:`check_ckks_parameters`),
            or SEAL cannot find primes of the requested sizes.

    >>> ctx = ckks_context(poly_modulus_degree=8192, coeff_mod_bit_sizes=[60, 40, 60],
    ...                    global_scale_bits=40, galois_keys=False)
    >>> ctx.global_scale == 2**40
    True
    """
    sizes = check_ckks_parameters(
        poly_modulus_degree=poly_modulus_degree,
        coeff_mod_bit_sizes=coeff_mod_bit_sizes,
        global_scale_bits=global_scale_bits,
    )
    ctx = _tenseal_context("ckks", int(poly_modulus_degree), sizes, 0, galois_keys)
    ctx.global_scale = 2.0 ** int(global_scale_bits)
    return ctx


def bfv_context(*, poly_modulus_degree: int, plain_modulus: int, coeff_mod_bit_sizes=None,
                galois_keys: bool = True):
    """A TenSEAL BFV context: exact arithmetic on integers modulo ``plain_modulus``.

    Args:
        poly_modulus_degree: N, a power of two from 4096 up (at 1024 and 2048 SEAL's
            default modulus is a single prime, which leaves no special prime for keys).
        plain_modulus: a prime ≡ 1 mod 2N, so N integers batch into one ciphertext;
            results wrap around modulo it (65537 and 786433 suit every N).
        coeff_mod_bit_sizes: ``None`` for SEAL's 128-bit default for N (at the limit),
            or explicit prime sizes checked like CKKS's (no scale rules).
        galois_keys: generate rotation keys (for ``sum``/``dot``).

    Raises:
        InsecureParametersError: explicit sizes beyond the 128-bit limit.
        ValueError: an unsupported degree, a plain modulus that is not a batching
            prime, or sizes SEAL cannot produce.
    """
    sizes = check_bfv_parameters(
        poly_modulus_degree=poly_modulus_degree,
        plain_modulus=plain_modulus,
        coeff_mod_bit_sizes=coeff_mod_bit_sizes,
    )
    explicit = [] if coeff_mod_bit_sizes is None else sizes  # [] lets SEAL pick its default primes
    return _tenseal_context("bfv", int(poly_modulus_degree), explicit, int(plain_modulus), galois_keys)


class ContextInfo(NamedTuple):
    """What a context was built with and holds."""

    scheme: str
    poly_modulus_degree: int
    coeff_mod_bit_sizes: tuple[int, ...]
    slots: int
    depth: int  # levels below the first (CKKS: rescales a fresh ciphertext allows)
    global_scale_bits: float | None
    has_secret_key: bool
    has_galois_keys: bool


def check_context(context, *, name: str = "context", scheme: str | None = None) -> ContextInfo:
    """The :class:`ContextInfo` of ``context``; raise if it is not a TenSEAL context of ``scheme``."""
    import tenseal as ts
    from tenseal import sealapi  # noqa: F401  (registers SEAL's Modulus type for coeff_modulus())

    if not isinstance(context, ts.Context):
        raise TypeError(
            f"{name} must be a tenseal.Context (from he.ckks_context or he.bfv_context). "
            f"Got {type(context).__name__}."
        )
    seal = context.seal_context().data
    parms = seal.key_context_data().parms()
    kind = parms.scheme().name.lower()
    if scheme is not None and kind != scheme:
        raise ValueError(f"{name} must be a {scheme.upper()} context. Got a {kind.upper()} context.")
    n = parms.poly_modulus_degree()
    scale = None
    if kind == "ckks":
        try:
            scale = math.log2(context.global_scale)
        except (ValueError, RuntimeError):  # a bare ts.context before global_scale is set
            scale = None
    if scheme == "ckks" and scale is None:
        raise ValueError(
            f"{name} has no global scale: set {name}.global_scale = 2**bits or build it with "
            "he.ckks_context(..., global_scale_bits=...)."
        )
    return ContextInfo(
        scheme=kind,
        poly_modulus_degree=n,
        coeff_mod_bit_sizes=tuple(m.bit_count() for m in parms.coeff_modulus()),
        slots=n // 2 if kind == "ckks" else n,
        depth=seal.first_context_data().chain_index(),
        global_scale_bits=scale,
        has_secret_key=context.has_secret_key(),
        has_galois_keys=context.has_galois_keys(),
    )


def context_info(context) -> ContextInfo:
    """Scheme, degree, prime sizes, slots, depth, scale bits and which keys ``context`` holds."""
    return check_context(context)


class KeySizes(NamedTuple):
    """Serialised sizes in bytes of what a context holds (0 when absent)."""

    parameters: int
    public_key: int
    relin_keys: int
    galois_keys: int
    secret_key: int


def key_sizes(context) -> KeySizes:
    """How many bytes each key of ``context`` takes when serialised (TenSEAL's format).

    Measured as the growth of ``context.serialize(...)`` when one key is added
    to the bare parameters. Galois keys dominate: one key-switching key per
    rotation step (powers of two), each as large as the relinearisation key.
    """
    info = check_context(context)
    flags = {"save_public_key": False, "save_secret_key": False, "save_galois_keys": False,
             "save_relin_keys": False}
    base = len(context.serialize(**flags))

    def extra(flag: str, present: bool) -> int:
        return len(context.serialize(**(flags | {flag: True}))) - base if present else 0

    return KeySizes(
        parameters=base,
        public_key=extra("save_public_key", context.has_public_key()),
        relin_keys=extra("save_relin_keys", context.has_relin_keys()),
        galois_keys=extra("save_galois_keys", info.has_galois_keys),
        secret_key=extra("save_secret_key", info.has_secret_key),
    )
