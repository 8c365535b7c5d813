"""The public parameters every party knows before the protocol starts.

Teaching code, introduced in ``06_secure_aggregation``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .keys import KEY_BYTES

__all__ = ["ProtocolParams"]


@dataclass(frozen=True, kw_only=True)
class ProtocolParams:
    """Public parameters: the Shamir threshold t, the ring Z_(2^bits) and the vector length d.

    Args:
        threshold: t, the number of shares that rebuild a secret (per
            neighbourhood in SecAgg+).
        bits: k; inputs, masks and sums live in Z_(2^k), k in [2, 63].
        length: d, the number of ring elements in every client's vector.
    """

    threshold: int
    bits: int
    length: int

    @property
    def ring_mask(self) -> int:
        """2^k − 1: ``x & ring_mask`` reduces a uint64 mod 2^k."""
        return 2**self.bits - 1

    @property
    def bytes_per_element(self) -> int:
        """ceil(k / 8): one ring element, packed, on the wire."""
        return -(-self.bits // 8)

    @property
    def secret_bytes(self) -> int:
        """Length of the shared secrets (an X25519 private key, a PRG seed): 32."""
        return KEY_BYTES
