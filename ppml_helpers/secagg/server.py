"""The server of the secure aggregation protocol: relays messages, checks thresholds, unmasks the sum.

Teaching code, introduced in ``06_secure_aggregation``; semi-honest server
(it follows the protocol and tries to learn from what it sees). Each
method takes the replies of one round and returns the messages of the
next:

0. :meth:`Server.collect_keys`: U1 = who advertised; send each client its
   neighbourhood's public keys.
1. :meth:`Server.forward_shares`: U2 = who shared; forward each encrypted
   share to its recipient (the server cannot read them).
2. :meth:`Server.collect_masked_inputs`: U3 = who sent y; add the y's up;
   tell each client which of its neighbours survived and which dropped.
3. :meth:`Server.unmask`: U4 = who answered; rebuild b_u for u ∈ U3 and
   s_sk_u for u ∈ U2 − U3 from t shares each, then

       Σ_(u ∈ U3) x_u = Σ_(u ∈ U3) y_u − Σ_(u ∈ U3) PRG(b_u)
                        − Σ_(u ∈ U2 − U3) Σ_(v ∈ U3 ∩ N(u)) Δ_vu PRG(s_uv)   (mod 2^k).

After every round the server aborts with a :class:`DropoutError` when too
few clients still respond: for every client u whose secrets it may have to
rebuild, at least t members of u's neighbourhood (u included) must still
respond. For Bonawitz's complete graph this is |U_i| >= t, the paper's
rule; for SecAgg+ it is checked neighbourhood by neighbourhood, the rule
Flower's ``SecAggPlusWorkflow`` applies. Rounds nest (U4 ⊆ U3 ⊆ U2 ⊆ U1),
so the first failing round is reported.

Reference: Bonawitz et al. (2017), CCS, figure 4; Bell et al. (2020), CCS.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..mpc import shamir_reconstruct_bytes
from . import prg
from .client import dropout_message
from .errors import DropoutError, ProtocolError
from .graph import NeighbourGraph
from .keys import MASK_LABEL, agree, private_key_from_bytes
from .messages import (
    AdvertiseKeys,
    ForwardedShares,
    MaskedInput,
    PublicKeys,
    ShareKeys,
    UnmaskingShares,
    UnmaskRequest,
)
from .params import ProtocolParams

__all__ = ["Server"]


def _senders(messages, expected: set[int], round: int) -> set[int]:
    senders = [m.sender for m in messages]
    if len(set(senders)) != len(senders):
        raise ProtocolError(f"round {round}: a client sent two messages.")
    unexpected = set(senders) - expected
    if unexpected:
        raise ProtocolError(f"round {round}: messages from clients not in the protocol: {sorted(unexpected)}.")
    return set(senders)


class Server:
    """The aggregation server for clients 0..n−1 masking along ``graph``.

    Attributes:
        responders: the sets U1, U2, U3, U4 of clients that answered rounds 0-3, as filled in.
        revealed: which secret the server rebuilt for each client ("b" or "s_sk").
    """

    def __init__(self, *, params: ProtocolParams, graph: NeighbourGraph):
        self.params = params
        self.graph = graph
        self.responders: list[frozenset[int]] = []
        self.revealed: dict[int, str] = {}
        self._keys: dict[int, AdvertiseKeys] = {}
        self._sum: np.ndarray | None = None

    def __repr__(self) -> str:
        return (f"Server(n={self.graph.num_clients}, graph={self.graph.kind}, k={self.graph.degree}, "
                f"t={self.params.threshold}, rounds done={len(self.responders)})")

    def _check(self, round: int, active: set[int], owners: set[int]) -> None:
        t = self.params.threshold
        if len(active) < t:
            raise DropoutError(dropout_message(round, survivors=active, threshold=t),
                               round=round, survivors=tuple(sorted(active)), threshold=t)
        if self.graph.kind == "complete":
            return
        for u in sorted(owners):
            hood = self.graph.neighbourhood(u)
            alive = hood & active
            if len(alive) < t:
                raise DropoutError(
                    dropout_message(round, survivors=alive, threshold=t, client=u, neighbourhood=hood),
                    round=round, survivors=tuple(sorted(alive)), threshold=t, client=u,
                )

    # --- after round 0 ----------------------------------------------------------------

    def collect_keys(self, messages: Sequence[AdvertiseKeys]) -> list[PublicKeys]:
        """U1 = the senders; returns, for each v ∈ U1, the keys of U1 ∩ neighbourhood(v)."""
        u1 = _senders(messages, set(range(self.graph.num_clients)), 0)
        self._check(0, u1, u1)
        self.responders.append(frozenset(u1))
        self._keys = {m.sender: m for m in messages}
        return [
            PublicKeys(v, tuple(self._keys[w] for w in sorted(self.graph.neighbourhood(v) & u1)))
            for v in sorted(u1)
        ]

    # --- after round 1 ----------------------------------------------------------------

    def forward_shares(self, messages: Sequence[ShareKeys]) -> list[ForwardedShares]:
        """U2 = the senders; returns, for each v ∈ U2, the encrypted shares addressed to v."""
        u2 = _senders(messages, set(self.responders[0]), 1)
        self._check(1, u2, u2)
        self.responders.append(frozenset(u2))
        inbox: dict[int, list] = {v: [] for v in u2}
        for m in messages:
            for e in m.shares:
                if e.sender != m.sender:
                    raise ProtocolError(f"client {m.sender} sent a share labelled as from {e.sender}.")
                if e.recipient in inbox:  # shares for clients gone since round 0 are lost
                    inbox[e.recipient].append(e)
        return [ForwardedShares(v, tuple(inbox[v])) for v in sorted(u2)]

    # --- after round 2 ----------------------------------------------------------------

    def collect_masked_inputs(self, messages: Sequence[MaskedInput]) -> list[UnmaskRequest]:
        """U3 = the senders; adds their y's; returns each v ∈ U3 its neighbours' fates."""
        u2 = set(self.responders[1])
        u3 = _senders(messages, u2, 2)
        self._check(2, u3, u2)
        self.responders.append(frozenset(u3))
        total = np.zeros(self.params.length, dtype=np.uint64)
        for m in messages:
            if m.y.shape != total.shape:
                raise ProtocolError(f"client {m.sender} sent {m.y.shape[0]} values, not d={total.size}.")
            np.add(total, m.y, out=total)  # mod 2^64; reduced mod 2^k at the end
        self._sum = total
        dropped = u2 - u3
        return [
            UnmaskRequest(v, tuple(sorted(self.graph.neighbourhood(v) & u3)),
                          tuple(sorted(self.graph.neighbourhood(v) & dropped)))
            for v in sorted(u3)
        ]

    # --- after round 3 ----------------------------------------------------------------

    def _reveal(self, u: int, kind: str) -> None:
        if self.revealed.setdefault(u, kind) != kind:  # never happens when following the protocol
            raise ProtocolError(f"the server would rebuild both secrets of client {u}: refused.")

    def unmask(self, messages: Sequence[UnmaskingShares]) -> np.ndarray:
        """U4 = the senders; rebuild the secrets, remove every mask, return Σ_(u ∈ U3) x_u mod 2^k.

        Raises:
            DropoutError: fewer than t shares for some secret (see the module docstring).
            ProtocolError: a share of the wrong kind, or a rebuilt mask key that
                does not match the public key its owner advertised.
        """
        u2, u3 = set(self.responders[1]), set(self.responders[2])
        u4 = _senders(messages, u3, 3)
        self._check(3, u4, u2)
        self.responders.append(frozenset(u4))
        b_shares: dict[int, list] = {u: [] for u in u3}
        sk_shares: dict[int, list] = {u: [] for u in u2 - u3}
        for m in messages:
            for kind, shares, pile in (("b", m.self_mask_shares, b_shares),
                                       ("s_sk", m.mask_key_shares, sk_shares)):
                for r in shares:
                    if r.owner not in pile or r.owner not in self.graph.neighbourhood(m.sender):
                        raise ProtocolError(f"client {m.sender} sent a {kind} share of client {r.owner}, "
                                            "which the server did not ask for.")
                    pile[r.owner].append(r.share)
        total = self._sum
        for u in sorted(u3):
            self._reveal(u, "b")
            b = shamir_reconstruct_bytes(b_shares[u])
            prg.add_mask(total, b, sign=-1)
        for u in sorted(u2 - u3):
            self._reveal(u, "s_sk")
            pair = private_key_from_bytes(shamir_reconstruct_bytes(sk_shares[u]))
            if pair.public != self._keys[u].s_pk:
                raise ProtocolError(f"the mask key rebuilt for client {u} does not match its public key.")
            for v in sorted(self.graph.neighbours[u] & u3):
                seed = agree(pair.private, self._keys[v].s_pk, label=MASK_LABEL)
                # y_v holds Δ_vu PRG(s_uv), Δ_vu = +1 if v < u: take it back out.
                prg.add_mask(total, seed, sign=-1 if v < u else 1)
        self._sum = None
        return total & np.uint64(self.params.ring_mask)
