"""Authenticated encryption of Shamir shares between two clients, through the server (AES-GCM).

Teaching code, introduced in ``06_secure_aggregation``. In round 1 client u
sends, for each other holder v, its shares of s_sk_u (mask key) and b_u
(self-mask seed). The messages go through the server, which must learn
neither share: if it held t shares of both secrets of a client it could
unmask that client's input. So u encrypts them under
KA(c_sk_u, c_pk_v) (:func:`~ppml_helpers.secagg.keys.agree` with the
channel label) with AES-256-GCM, which also authenticates them: a ciphertext
altered or forged by the server fails to decrypt (``InvalidTag``) instead of
yielding a wrong share. As in Bonawitz et al., the plaintext begins with
u || v, and v checks both, so the server cannot replay u's ciphertext for
v as if it came from someone else.

Plaintext layout (big-endian): sender (4 B) | recipient (4 B) | for the mask
key then the self-mask seed: x (4 B) | one 16-byte field element per 15-byte
chunk of the 32-byte secret (3 of them). 112 bytes, 128 with the GCM tag.

References: Bonawitz et al. (2017), CCS, round 1 (ShareKeys); McGrew and
Viega (2004), "The Galois/Counter Mode of Operation"; NIST SP 800-38D.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..mpc import ShamirBytesShare
from .errors import ProtocolError
from .keys import random_bytes
from .messages import FIELD_BYTES, EncryptedShare

__all__ = ["ASSOCIATED_DATA", "NONCE_BYTES", "open_shares", "seal_shares"]

NONCE_BYTES = 12
ASSOCIATED_DATA = b"ppml-secagg v1 round 1 shares"


def _encode_share(share: ShamirBytesShare) -> bytes:
    return struct.pack(">I", share.x) + b"".join(y.to_bytes(FIELD_BYTES, "big") for y in share.ys)


def _decode_share(data: bytes, *, chunks: int, t: int, length: int) -> ShamirBytesShare:
    (x,) = struct.unpack(">I", data[:4])
    ys = tuple(
        int.from_bytes(data[4 + FIELD_BYTES * c : 4 + FIELD_BYTES * (c + 1)], "big")
        for c in range(chunks)
    )
    return ShamirBytesShare(x, ys, t, length)


def seal_shares(
    key: bytes,
    *,
    sender: int,
    recipient: int,
    mask_key_share: ShamirBytesShare,
    self_mask_share: ShamirBytesShare,
    rng,
) -> EncryptedShare:
    """Encrypt u's two shares for v under the channel key ``key``, with a random 12-byte nonce.

    Each channel key encrypts at most one message per direction, and the
    nonce is random, so a (key, nonce) pair never repeats.
    """
    plaintext = (
        struct.pack(">II", sender, recipient)
        + _encode_share(mask_key_share)
        + _encode_share(self_mask_share)
    )
    nonce = random_bytes(rng, NONCE_BYTES)
    return EncryptedShare(sender, recipient, nonce, AESGCM(key).encrypt(nonce, plaintext, ASSOCIATED_DATA))


def open_shares(
    key: bytes, message: EncryptedShare, *, recipient: int, t: int, length: int
) -> tuple[ShamirBytesShare, ShamirBytesShare]:
    """Decrypt and check a message for ``recipient``: returns (mask-key share, self-mask share).

    Raises:
        ProtocolError: the ciphertext fails authentication (altered, forged, or
            encrypted under another key) or names another sender or recipient.
    """
    try:
        plaintext = AESGCM(key).decrypt(message.nonce, message.ciphertext, ASSOCIATED_DATA)
    except InvalidTag:
        raise ProtocolError(
            f"client {recipient} cannot authenticate the share said to come from client "
            f"{message.sender}: the ciphertext was altered or not encrypted for this pair. "
            "An honest client aborts."
        ) from None
    sender, to = struct.unpack(">II", plaintext[:8])
    if (sender, to) != (message.sender, recipient):
        raise ProtocolError(
            f"client {recipient} received a share whose plaintext says {sender} -> {to}, but it "
            f"was delivered as {message.sender} -> {recipient}: the server redirected it. "
            "An honest client aborts."
        )
    half = (len(plaintext) - 8) // 2
    chunks = (half - 4) // FIELD_BYTES
    body = plaintext[8:]
    return (
        _decode_share(body[:half], chunks=chunks, t=t, length=length),
        _decode_share(body[half:], chunks=chunks, t=t, length=length),
    )
