"""Encrypted aggregation of model updates longer than one ciphertext, and what it costs in bytes.

Each client flattens its update, cuts it into pieces of ``slots`` values
(N/2 for CKKS), encrypts each piece under the shared public key and sends
the ciphertexts; the server adds the clients' ciphertexts piece by piece
(additions only: no depth, no Galois keys) and returns the encrypted sum;
the secret-key holder decrypts it. With one secret key, whoever holds it can
also decrypt each client's update: single-key HE aggregation needs a trusted
decryptor (threshold or multi-key HE remove it). For a weighted average
(FedAvg), each client multiplies its update by n_k / n before encrypting.
Introduced in ``07_homomorphic_encryption``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .context import check_context

__all__ = ["EncryptedUpdate", "SizeReport", "aggregate", "decrypt_update", "encrypt_update", "size_report"]

_ITEMSIZE = {"float32": 4, "float64": 8}


@dataclass(frozen=True)
class EncryptedUpdate:
    """A flat vector of ``length`` values as ⌈length / slots⌉ CKKS ciphertexts (``chunks``)."""

    chunks: tuple
    length: int

    @property
    def num_ciphertexts(self) -> int:
        return len(self.chunks)

    def serialized_bytes(self) -> int:
        """Bytes on the wire: the sum of ``chunk.serialize()`` lengths (TenSEAL's format)."""
        return sum(len(chunk.serialize()) for chunk in self.chunks)


def _flat(vector, name: str) -> np.ndarray:
    if hasattr(vector, "detach"):
        vector = vector.detach().cpu().numpy()
    try:
        arr = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of real numbers. Got {type(vector).__name__}.") from exc
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be non-empty and finite. Got shape {arr.shape}.")
    return arr.reshape(-1)


def encrypt_update(context, vector) -> EncryptedUpdate:
    """Flatten ``vector`` (any shape; a torch tensor or array) and encrypt it in slot-sized pieces.

    Args:
        context: a CKKS context (``CKKS_AGGREGATION`` is enough: additions need no depth).
        vector: the update, e.g. ``torch.nn.utils.parameters_to_vector(model.parameters())``.
    """
    import tenseal as ts

    info = check_context(context, scheme="ckks")
    flat = _flat(vector, "vector")
    chunks = tuple(
        ts.ckks_vector(context, flat[start : start + info.slots].tolist())
        for start in range(0, flat.size, info.slots)
    )
    return EncryptedUpdate(chunks=chunks, length=int(flat.size))


def aggregate(updates: Sequence[EncryptedUpdate]) -> EncryptedUpdate:
    """The encrypted sum of the clients' updates, piece by piece (ciphertext additions only).

    Raises:
        ValueError: no updates, or updates of different lengths.
    """
    if isinstance(updates, EncryptedUpdate) or not isinstance(updates, Sequence) or not updates:
        raise ValueError("updates must be a non-empty list of EncryptedUpdate (one per client).")
    for i, u in enumerate(updates):
        if not isinstance(u, EncryptedUpdate):
            raise TypeError(f"updates[{i}] must be an EncryptedUpdate (from encrypt_update). Got {type(u).__name__}.")
    lengths = sorted({u.length for u in updates})
    if len(lengths) > 1:
        raise ValueError(
            f"updates must all have the same length (the same model). Got lengths {lengths}."
        )
    total = [chunk.copy() for chunk in updates[0].chunks]
    for u in updates[1:]:
        for acc, chunk in zip(total, u.chunks, strict=True):
            acc.add_(chunk)
    return EncryptedUpdate(chunks=tuple(total), length=updates[0].length)


def decrypt_update(update: EncryptedUpdate) -> np.ndarray:
    """Decrypt to a flat float64 array of ``update.length`` values; needs the secret key."""
    if not isinstance(update, EncryptedUpdate):
        raise TypeError(f"update must be an EncryptedUpdate. Got {type(update).__name__}.")
    if not update.chunks[0].context().has_secret_key():
        raise ValueError(
            "update's context holds no secret key (a public context, as the server has): "
            "only the key holder can decrypt."
        )
    return np.concatenate([np.asarray(chunk.decrypt()) for chunk in update.chunks])


class SizeReport(NamedTuple):
    """Ciphertext bytes (serialised) against the same values as plain floats."""

    ciphertext_bytes: int
    plaintext_bytes: int
    plaintext_dtype: str
    expansion_factor: float
    num_ciphertexts: int


def size_report(update: EncryptedUpdate, *, plaintext_dtype: str = "float32") -> SizeReport:
    """Expansion factor = serialised ciphertext bytes / (length × bytes per plaintext float).

    Args:
        plaintext_dtype: ``"float32"`` (what PyTorch models send; the default)
            or ``"float64"``.

    At N = 8192 with ``CKKS_AGGREGATION`` (one 60-bit data prime) a full
    ciphertext of 4096 values serialises to 131,217 bytes against 16,384 bytes
    of float32: 8.0× (4.0× against float64); each extra data prime adds up to
    as much again (``CKKS_INFERENCE``: 235 kB, 14×), and a partly filled last
    piece costs a whole ciphertext.
    """
    if not isinstance(update, EncryptedUpdate):
        raise TypeError(f"update must be an EncryptedUpdate. Got {type(update).__name__}.")
    if plaintext_dtype not in _ITEMSIZE:
        raise ValueError(f"plaintext_dtype must be one of {tuple(_ITEMSIZE)}. Got {plaintext_dtype!r}.")
    ct = update.serialized_bytes()
    pt = update.length * _ITEMSIZE[plaintext_dtype]
    return SizeReport(ciphertext_bytes=ct, plaintext_bytes=pt, plaintext_dtype=plaintext_dtype,
                      expansion_factor=ct / pt, num_ciphertexts=update.num_ciphertexts)
