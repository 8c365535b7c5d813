"""Every message of the secure aggregation protocol, as a frozen dataclass with its size on the wire.

Teaching code, introduced in ``06_secure_aggregation``. Rounds are numbered
as in Bonawitz et al. (2017), without their consistency-check round:

====  =========================  ==========================================  ==========================
round name                       client → server                             server → client (next round)
====  =========================  ==========================================  ==========================
0     advertise keys             :class:`AdvertiseKeys` (c_pk, s_pk)          :class:`PublicKeys`
1     share keys                 :class:`ShareKeys` (encrypted Shamir shares)  :class:`ForwardedShares`
2     masked input collection    :class:`MaskedInput` (y_u)                  :class:`UnmaskRequest`
3     unmasking                  :class:`UnmaskingShares`                    (the server outputs the sum)
====  =========================  ==========================================  ==========================

``nbytes`` is what the message would take on the wire with a plain binary
encoding: 4 bytes per client index, 32 per key, 12 per nonce, the AES-GCM
ciphertext with its 16-byte tag, ceil(k / 8) bytes per ring element of a
masked vector, and 16 bytes per Shamir field element (p = 2^127 − 1).
Framing and transport overheads (TLS, gRPC) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..mpc import ShamirBytesShare

__all__ = [
    "ID_BYTES",
    "ROUND_NAMES",
    "AdvertiseKeys",
    "EncryptedShare",
    "ForwardedShares",
    "MaskedInput",
    "PublicKeys",
    "RevealedShare",
    "ShareKeys",
    "UnmaskRequest",
    "UnmaskingShares",
]

ROUND_NAMES = ("advertise keys", "share keys", "masked input collection", "unmasking")
"""The protocol's rounds 0-3 (Bonawitz et al.'s rounds 0, 1, 2 and 4)."""

ID_BYTES = 4
FIELD_BYTES = 16  # one element of GF(2^127 − 1)


def _short(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} B {bytes(value[:4]).hex()}…>"
    if isinstance(value, np.ndarray):
        head = ", ".join(str(int(v)) for v in value[:3])
        return f"<{value.dtype}[{value.size}] {head}{', …' if value.size > 3 else ''}>"
    if isinstance(value, ShamirBytesShare):
        return f"ShamirBytesShare(x={value.x}, ys=<{len(value.ys)} field elements>, t={value.t})"
    if isinstance(value, tuple) and value and isinstance(value[0], _Message):
        shown = ", ".join(repr(v) for v in value[:2])
        return f"({shown}{f', … {len(value)} in all' if len(value) > 2 else ''})"
    if isinstance(value, tuple) and len(value) > 12:
        return f"({', '.join(map(str, value[:10]))}, … {len(value)} in all)"
    return repr(value)


class _Message:
    """Shared behaviour: a short ``repr`` for printing in a notebook, and ``nbytes``."""

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}={_short(getattr(self, f.name))}" for f in fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({parts})"

    @property
    def nbytes(self) -> int:  # pragma: no cover - every message overrides it
        raise NotImplementedError


# --- round 0: advertise keys ----------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AdvertiseKeys(_Message):
    """Round 0, client u → server: u's two X25519 public keys (channel c_pk, masks s_pk)."""

    sender: int
    c_pk: bytes
    s_pk: bytes

    @property
    def nbytes(self) -> int:
        return ID_BYTES + len(self.c_pk) + len(self.s_pk)


@dataclass(frozen=True, repr=False)
class PublicKeys(_Message):
    """Server → client v after round 0: the keys advertised in v's neighbourhood (v's own too).

    Its senders are the clients v will share its secrets with (Bonawitz: all of
    U1; SecAgg+: v's neighbours that advertised).
    """

    recipient: int
    keys: tuple[AdvertiseKeys, ...]

    @property
    def nbytes(self) -> int:
        return ID_BYTES + sum(k.nbytes for k in self.keys)


# --- round 1: share keys --------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class EncryptedShare(_Message):
    """u's Shamir shares of s_sk_u and b_u for v, under AES-GCM with KA(c_sk_u, c_pk_v).

    The server relays it but cannot read it; the plaintext names sender and
    recipient, so the server cannot redirect it either (:mod:`~ppml_helpers.secagg.channel`).
    """

    sender: int
    recipient: int
    nonce: bytes
    ciphertext: bytes

    @property
    def nbytes(self) -> int:
        return 2 * ID_BYTES + len(self.nonce) + len(self.ciphertext)


@dataclass(frozen=True, repr=False)
class ShareKeys(_Message):
    """Round 1, client u → server: one :class:`EncryptedShare` per other holder of u's shares."""

    sender: int
    shares: tuple[EncryptedShare, ...]

    @property
    def nbytes(self) -> int:
        return ID_BYTES + sum(s.nbytes for s in self.shares)


@dataclass(frozen=True, repr=False)
class ForwardedShares(_Message):
    """Server → client v after round 1: the encrypted shares addressed to v.

    Their senders are U2 ∩ neighbourhood(v): the clients v masks with in round 2.
    """

    recipient: int
    shares: tuple[EncryptedShare, ...]

    @property
    def nbytes(self) -> int:
        return ID_BYTES + sum(s.nbytes for s in self.shares)


# --- round 2: masked input collection -------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class MaskedInput(_Message):
    """Round 2, client u → server: y_u = x_u + PRG(b_u) + Σ_v ±PRG(s_uv) mod 2^k.

    ``bytes_per_element`` is ceil(k / 8), the packed width of one ring element.
    """

    sender: int
    y: np.ndarray
    bytes_per_element: int

    @property
    def nbytes(self) -> int:
        return ID_BYTES + self.y.size * self.bytes_per_element


@dataclass(frozen=True, repr=False)
class UnmaskRequest(_Message):
    """Server → client v after round 2: which of v's share owners sent y (survivors) and which did not.

    An honest v returns b shares for survivors and s_sk shares for the
    dropped, and refuses a request that names a client in both lists.
    """

    recipient: int
    survivors: tuple[int, ...]
    dropped: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return ID_BYTES * (1 + len(self.survivors) + len(self.dropped))


# --- round 3: unmasking ---------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class RevealedShare(_Message):
    """One Shamir share of ``owner``'s secret (its self-mask seed b or its mask key s_sk)."""

    owner: int
    share: ShamirBytesShare

    @property
    def nbytes(self) -> int:
        return 2 * ID_BYTES + FIELD_BYTES * len(self.share.ys)


@dataclass(frozen=True, repr=False)
class UnmaskingShares(_Message):
    """Round 3, client v → server: shares of b_u for survivors u, of s_sk_u for dropped u."""

    sender: int
    self_mask_shares: tuple[RevealedShare, ...]
    mask_key_shares: tuple[RevealedShare, ...]

    @property
    def nbytes(self) -> int:
        return ID_BYTES + sum(s.nbytes for s in self.self_mask_shares + self.mask_key_shares)
