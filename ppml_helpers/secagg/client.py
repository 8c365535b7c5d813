"""A client of the secure aggregation protocol: its private state and its four round functions.

Teaching code, introduced in ``06_secure_aggregation``; semi-honest setting
(see :mod:`ppml_helpers.secagg`). A :class:`Client` holds what must never
leave it in the clear: its encoded input x_u, its two X25519 private keys,
its self-mask seed b_u and the shares others sent it. Each method takes the
server's message for that round and returns the client's reply (both frozen
dataclasses from :mod:`~ppml_helpers.secagg.messages`):

0. :meth:`advertise_keys`: make (c_sk, c_pk), (s_sk, s_pk) and b_u; send the
   public keys.
1. :meth:`share_keys`: Shamir-share s_sk_u and b_u t-out-of-m among the m
   holders (the neighbourhood's clients that advertised keys, u included)
   and encrypt each holder's pair of shares for it.
2. :meth:`masked_input`: y_u = x_u + PRG(b_u) + Σ_(v ∈ U2 ∩ N(u)) Δ_uv PRG(s_uv)
   mod 2^k, Δ_uv = +1 if u < v else −1, so the pairwise masks cancel in
   the sum over any set containing both u and v.
3. :meth:`unmask`: for each survivor the shares of b, for each dropped
   client the shares of s_sk; never both for the same client.

Reference: Bonawitz et al. (2017), "Practical Secure Aggregation for
Privacy-Preserving Machine Learning", CCS, figure 4 (rounds 0, 1, 2, 4).
"""

from __future__ import annotations

import numpy as np

from ..mpc import ShamirBytesShare, shamir_share_bytes
from . import channel, prg
from .errors import DropoutError, ProtocolError
from .keys import CHANNEL_LABEL, MASK_LABEL, KeyPair, agree, generate_keypair, random_bytes
from .messages import (
    ROUND_NAMES,
    AdvertiseKeys,
    ForwardedShares,
    MaskedInput,
    PublicKeys,
    RevealedShare,
    ShareKeys,
    UnmaskingShares,
    UnmaskRequest,
)
from .params import ProtocolParams

__all__ = ["Client", "dropout_message"]

SELF_MASK, MASK_KEY = "self-mask seed b", "mask key s_sk"


def dropout_message(round: int, *, survivors, threshold: int, client: int | None = None,
                    neighbourhood=None) -> str:
    """The explanation a :class:`DropoutError` carries (shared by clients and the server)."""
    where = f"round {round} ({ROUND_NAMES[round]})"
    alive = sorted(survivors)
    if client is None:
        head = f"{where}: only {len(alive)} client(s) still respond {alive}"
    else:
        head = (f"{where}: client {client}'s neighbourhood {sorted(neighbourhood)} has only "
                f"{len(alive)} member(s) still responding {alive}")
    return (f"{head}, fewer than the threshold t={threshold}. With fewer than t shares a "
            "dropped client's mask key or a survivor's self-mask seed cannot be rebuilt, so the "
            "protocol aborts instead of returning a wrong or under-protected sum. Allow fewer "
            "dropouts, or use a lower threshold (at the cost of privacy against collusion).")


class Client:
    """Client u of the protocol, with its encoded input (``uint64`` in Z_(2^k), length d).

    Args:
        index: u, the client's index (0-based).
        x: the encoded input, e.g. ``FixedPoint.encode(update)``.
        params: the public :class:`~ppml_helpers.secagg.params.ProtocolParams`.
        rng: the client's random source: a ``numpy.random.Generator``
            (repeatable, teaching) or ``random.SystemRandom()`` (real use).
    """

    def __init__(self, index: int, x: np.ndarray, *, params: ProtocolParams, rng):
        self.index = index
        self.params = params
        self._x = x
        self._rng = rng
        self._c: KeyPair | None = None
        self._s: KeyPair | None = None
        self._b: bytes | None = None
        self._public: dict[int, AdvertiseKeys] = {}
        self._channel: dict[int, bytes] = {}
        self._own: tuple[ShamirBytesShare, ShamirBytesShare] | None = None
        self._received: dict = {}
        self._masked_with: frozenset[int] = frozenset()
        self._revealed: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"Client(index={self.index}, d={self.params.length}, private state hidden)"

    # --- round 0 ----------------------------------------------------------------------

    def advertise_keys(self) -> AdvertiseKeys:
        """Round 0: draw two key pairs and the self-mask seed b_u; publish the public keys."""
        self._c, self._s = generate_keypair(self._rng), generate_keypair(self._rng)
        self._b = random_bytes(self._rng, self.params.secret_bytes)
        return AdvertiseKeys(self.index, self._c.public, self._s.public)

    # --- round 1 ----------------------------------------------------------------------

    def share_keys(self, message: PublicKeys) -> ShareKeys:
        """Round 1: share s_sk_u and b_u among the advertised holders, encrypted per holder.

        Raises:
            DropoutError: fewer than t holders advertised keys.
            ProtocolError: the message is for someone else, lacks or alters
                u's own keys, or repeats a key (Bonawitz: all keys distinct).
        """
        u, t = self.index, self.params.threshold
        if message.recipient != u:
            raise ProtocolError(f"client {u} was handed the public keys for client {message.recipient}.")
        public = {m.sender: m for m in message.keys}
        if public.get(u) != AdvertiseKeys(u, self._c.public, self._s.public):
            raise ProtocolError(f"the key list sent to client {u} does not hold its own keys unaltered.")
        all_keys = [k for m in message.keys for k in (m.c_pk, m.s_pk)]
        if len(set(all_keys)) != len(all_keys) or len(public) != len(message.keys):
            raise ProtocolError(f"the key list sent to client {u} repeats a key or a client.")
        holders = sorted(public)
        if len(holders) < t:
            raise DropoutError(dropout_message(1, survivors=holders, threshold=t, client=u,
                                               neighbourhood=holders),
                               round=1, survivors=tuple(holders), threshold=t, client=u)
        self._public = public
        m = len(holders)
        sk_shares = shamir_share_bytes(self._s.private_bytes, n=m, t=t, rng=self._rng)
        b_shares = shamir_share_bytes(self._b, n=m, t=t, rng=self._rng)
        out = []
        for v, sk_share, b_share in zip(holders, sk_shares, b_shares, strict=True):
            if v == u:
                self._own = (sk_share, b_share)
                continue
            key = agree(self._c.private, public[v].c_pk, label=CHANNEL_LABEL)
            self._channel[v] = key
            out.append(channel.seal_shares(key, sender=u, recipient=v, mask_key_share=sk_share,
                                           self_mask_share=b_share, rng=self._rng))
        return ShareKeys(u, tuple(out))

    # --- round 2 ----------------------------------------------------------------------

    def masked_input(self, message: ForwardedShares) -> MaskedInput:
        """Round 2: keep the ciphertexts for later, and send y_u (see the module docstring).

        Raises:
            DropoutError: fewer than t of u's neighbourhood (u included) shared keys.
            ProtocolError: a share addressed to someone else or from a non-holder.
        """
        u, t = self.index, self.params.threshold
        senders = set()
        for e in message.shares:
            if e.recipient != u or message.recipient != u:
                raise ProtocolError(f"client {u} was forwarded a share addressed to client {e.recipient}.")
            if e.sender not in self._public or e.sender == u or e.sender in senders:
                raise ProtocolError(f"client {u} was forwarded an unexpected share from client {e.sender}.")
            senders.add(e.sender)
        if len(senders) + 1 < t:
            alive = sorted(senders | {u})
            raise DropoutError(dropout_message(2, survivors=alive, threshold=t, client=u,
                                               neighbourhood=sorted(self._public)),
                               round=2, survivors=tuple(alive), threshold=t, client=u)
        self._received = {e.sender: e for e in message.shares}
        self._masked_with = frozenset(senders)
        acc = self._x.astype(np.uint64, copy=True)
        prg.add_mask(acc, self._b, sign=1)
        for v in sorted(senders):
            seed = agree(self._s.private, self._public[v].s_pk, label=MASK_LABEL)
            prg.add_mask(acc, seed, sign=1 if u < v else -1)
        acc &= np.uint64(self.params.ring_mask)
        return MaskedInput(u, acc, self.params.bytes_per_element)

    # --- round 3 ----------------------------------------------------------------------

    def unmask(self, message: UnmaskRequest) -> UnmaskingShares:
        """Round 3: reveal shares of b for survivors and of s_sk for dropped clients.

        Raises:
            ProtocolError: the request names a client as both survivor and
                dropped (now or in an earlier request), lists u itself as dropped,
                or names a client u holds no share of. Revealing both secrets
                of one client would let the server unmask its input.
            DropoutError: fewer than t survivors in u's neighbourhood.
        """
        u, t = self.index, self.params.threshold
        survivors, dropped = set(message.survivors), set(message.dropped)
        if message.recipient != u:
            raise ProtocolError(f"client {u} was sent the unmasking request for {message.recipient}.")
        both = survivors & dropped
        if both:
            raise ProtocolError(
                f"client {u} refuses: the server lists {sorted(both)} both as survivors and as "
                "dropped. Revealing both the self-mask seed and the mask key of a client lets the "
                "server remove every mask from its input."
            )
        if u in dropped:
            raise ProtocolError(f"client {u} refuses: it sent its masked input, but the server lists it as dropped.")
        known = self._masked_with | {u}
        if not (survivors | dropped) <= known:
            raise ProtocolError(
                f"client {u} refuses: it holds no shares from {sorted((survivors | dropped) - known)}."
            )
        for v in survivors | dropped:
            kind = SELF_MASK if v in survivors else MASK_KEY
            if self._revealed.get(v, kind) != kind:
                raise ProtocolError(
                    f"client {u} refuses: it already revealed client {v}'s {self._revealed[v]} and "
                    f"is now asked for its {kind}; both together unmask client {v}'s input."
                )
        if len(survivors) < t:
            raise DropoutError(dropout_message(3, survivors=survivors, threshold=t, client=u,
                                               neighbourhood=sorted(known)),
                               round=3, survivors=tuple(sorted(survivors)), threshold=t, client=u)
        b_out, sk_out = [], []
        for v in sorted(survivors | dropped):
            if v == u:
                sk_share, b_share = self._own
            else:
                sk_share, b_share = channel.open_shares(
                    self._channel[v], self._received[v], recipient=u, t=t,
                    length=self.params.secret_bytes,
                )
            if v in survivors:
                self._revealed[v] = SELF_MASK
                b_out.append(RevealedShare(v, b_share))
            else:
                self._revealed[v] = MASK_KEY
                sk_out.append(RevealedShare(v, sk_share))
        return UnmaskingShares(u, tuple(b_out), tuple(sk_out))
