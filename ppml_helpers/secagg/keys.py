"""Key pairs, key agreement and key derivation: X25519 with HKDF-SHA-256, from ``cryptography``.

Teaching code, introduced in ``06_secure_aggregation``. Every client makes
two X25519 key pairs per aggregation (Bonawitz et al. 2017, round 0):

- (c_sk, c_pk) for the *channel*: KA(c_sk_u, c_pk_v) = KA(c_sk_v, c_pk_u) is
  a secret only u and v know, used as the AES-GCM key that protects the
  Shamir shares u sends to v through the server
  (:mod:`~ppml_helpers.secagg.channel`);
- (s_sk, s_pk) for the *masks*: KA(s_sk_u, s_pk_v) seeds the pairwise mask
  PRG(s_(u,v)) that u adds and v subtracts (:mod:`~ppml_helpers.secagg.prg`).

Two pairs, because s_sk_u is Shamir-shared and rebuilt by the server when u
drops out; if it also keyed u's channel, the server could then decrypt
every share addressed to u.

The raw Diffie-Hellman output is not uniformly random bytes, so it goes
through HKDF (RFC 5869) with a label naming its use; distinct labels give
independent keys from one agreement, and no derived key is used twice.

Private keys come from the caller's random source: a seeded NumPy generator
makes runs repeatable for teaching and tests, and lets anyone who knows the
seed recompute every key. Real use draws them from the operating system
(``X25519PrivateKey.generate()``; here ``random.SystemRandom()``).

References: Bernstein (2006), "Curve25519: new Diffie-Hellman speed records";
RFC 7748 (X25519); Krawczyk (2010), RFC 5869 (HKDF); Bonawitz et al. (2017),
CCS, sections 3-4.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "CHANNEL_LABEL",
    "KEY_BYTES",
    "MASK_LABEL",
    "KeyPair",
    "agree",
    "generate_keypair",
    "private_key_from_bytes",
    "random_bytes",
]

KEY_BYTES = 32
"""Length of X25519 private and public keys, and of every derived key and seed."""

CHANNEL_LABEL = b"ppml-secagg v1 channel key"
"""HKDF ``info`` for the AES-GCM key that protects shares between two clients."""

MASK_LABEL = b"ppml-secagg v1 pairwise mask seed"
"""HKDF ``info`` for the seed of a pairwise mask."""


def random_bytes(rng, n: int) -> bytes:
    """``n`` random bytes from a ``numpy.random.Generator`` or a ``random.Random`` (e.g. SystemRandom)."""
    if isinstance(rng, random.Random):
        return rng.randbytes(n)
    return rng.bytes(n)


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair: the private key object and the 32-byte public key sent to peers."""

    private: X25519PrivateKey
    public: bytes

    @property
    def private_bytes(self) -> bytes:
        """The 32 raw private-key bytes (what is Shamir-shared for the mask key pair)."""
        return self.private.private_bytes_raw()

    def __repr__(self) -> str:
        return f"KeyPair(public={self.public.hex()[:12]}…, private=<hidden>)"


def private_key_from_bytes(data: bytes) -> KeyPair:
    """Rebuild a key pair from its 32 raw private bytes (e.g. after Shamir reconstruction).

    Raises:
        ValueError: ``data`` is not 32 bytes.
    """
    if not isinstance(data, (bytes, bytearray)) or len(data) != KEY_BYTES:
        raise ValueError(f"a private key is {KEY_BYTES} raw bytes. Got {data!r:.40}.")
    private = X25519PrivateKey.from_private_bytes(bytes(data))
    return KeyPair(private, private.public_key().public_bytes_raw())


def generate_keypair(rng) -> KeyPair:
    """A fresh X25519 key pair whose private key is 32 bytes drawn from ``rng``.

    Args:
        rng: a ``numpy.random.Generator`` (repeatable, for teaching) or
            ``random.SystemRandom()`` (the OS CSPRNG, for real use).
    """
    return private_key_from_bytes(random_bytes(rng, KEY_BYTES))


def agree(private: X25519PrivateKey, peer_public: bytes, *, label: bytes) -> bytes:
    """HKDF-SHA-256(X25519(private, peer_public), info=label): 32 bytes both ends compute alike.

    Args:
        private: our private key.
        peer_public: the peer's 32-byte public key.
        label: what the key is for (:data:`CHANNEL_LABEL` or :data:`MASK_LABEL`).

    Raises:
        ValueError: ``peer_public`` is not a valid 32-byte X25519 public key
            (including the low-order points that give an all-zero secret).

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = generate_keypair(rng), generate_keypair(rng)
    >>> agree(a.private, b.public, label=MASK_LABEL) == agree(b.private, a.public, label=MASK_LABEL)
    True
    """
    if not isinstance(peer_public, (bytes, bytearray)) or len(peer_public) != KEY_BYTES:
        raise ValueError(f"peer_public must be a {KEY_BYTES}-byte X25519 public key. Got {peer_public!r:.40}.")
    shared = private.exchange(X25519PublicKey.from_public_bytes(bytes(peer_public)))
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(shared)
