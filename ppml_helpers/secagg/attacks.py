"""A malicious server that lies about dropouts, alone or with colluding clients: teaching code.

Introduced in ``06_secure_aggregation`` §10.2. Rounds 0–2 run honestly (the
complete graph of Bonawitz et al.), so the server holds every masked input
y_u. Then it lies in round 3, telling one group of honest clients that the
victim dropped (they reveal shares of its mask key s_sk) and another group
that it survived (they reveal shares of its self-mask seed b). No honest
client is asked for both, so none refuses. Colluding clients run modified
code and reveal shares of both. With t shares of each secret the server
removes every mask from y_victim: its input. That works exactly when
t <= (n + n_C)/2 (:mod:`ppml_helpers.secagg.threshold`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mpc import FixedPoint, shamir_reconstruct_bytes
from .client import Client
from .graph import complete_graph
from .keys import MASK_LABEL, agree, private_key_from_bytes
from .messages import AdvertiseKeys, MaskedInput, UnmaskingShares, UnmaskRequest
from .params import ProtocolParams
from .prg import add_mask
from .server import Server

__all__ = ["HonestRounds", "SplitAttack", "honest_rounds", "rebuild_secret", "remove_pairwise_masks",
           "split_story_attack"]


@dataclass(frozen=True)
class HonestRounds:
    """What an honest run of rounds 0–2 leaves: the clients, their public keys, every y_u."""

    clients: tuple[Client, ...]
    advertised: tuple[AdvertiseKeys, ...]
    masked: dict[int, MaskedInput]
    fixed_point: FixedPoint


def honest_rounds(updates, *, threshold: int, clip_range=1.0, bits: int = 32, frac_bits: int = 16,
                  seed: int) -> HonestRounds:
    """Rounds 0–2 of Bonawitz et al. on ``updates`` (n × d), nobody dropping.

    ``threshold`` is not checked against any rule: this is how a server (or a
    notebook) builds a run with an unsafe one on purpose.
    """
    x = np.asarray(updates, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"updates must be an (n, d) array with n >= 2 clients. Got shape {x.shape}.")
    n, d = x.shape
    fp = FixedPoint(clip_range=clip_range, num_clients=n, bits=bits, frac_bits=frac_bits)
    params = ProtocolParams(threshold=threshold, bits=fp.bits, length=d)
    clients = tuple(Client(u, fp.encode(x[u]), params=params, rng=np.random.default_rng([seed, u]))
                    for u in range(n))
    server = Server(params=params, graph=complete_graph(n))
    advertised = tuple(c.advertise_keys() for c in clients)
    forwarded = server.forward_shares([clients[m.recipient].share_keys(m) for m in server.collect_keys(advertised)])
    masked = {m.recipient: clients[m.recipient].masked_input(m) for m in forwarded}
    return HonestRounds(clients, advertised, masked, fp)


def rebuild_secret(answers, owner: int, kind: str) -> bytes:
    """Shamir-reconstruct ``owner``'s secret, ``kind`` "s_sk" or "b", from the revealed shares.

    Raises:
        ValueError: fewer shares than the threshold (from :func:`~ppml_helpers.mpc.shamir_reconstruct_bytes`).
    """
    return shamir_reconstruct_bytes(_pile(answers, owner, kind))


def _pile(answers, owner: int, kind: str) -> list:
    """The revealed shares of ``owner``'s secret ``kind`` ("s_sk" or "b") in ``answers``."""
    if kind not in ("s_sk", "b"):
        raise ValueError(f"kind must be 's_sk' (the mask key) or 'b' (the self-mask seed). Got kind={kind!r}.")
    return [r.share for a in answers
            for r in (a.mask_key_shares if kind == "s_sk" else a.self_mask_shares) if r.owner == owner]


def remove_pairwise_masks(y: np.ndarray, s_sk: bytes, advertised, owner: int, bits: int) -> np.ndarray:
    """y minus every pairwise mask of ``owner``, recomputed from its rebuilt mask key (complete graph)."""
    key = private_key_from_bytes(s_sk)
    out = y.copy()
    for m in advertised:
        if m.sender != owner:
            add_mask(out, agree(key.private, m.s_pk, label=MASK_LABEL), sign=-1 if owner < m.sender else 1)
    return out & np.uint64(2**bits - 1)


@dataclass(frozen=True)
class SplitAttack:
    """The outcome of :func:`split_story_attack`.

    Attributes:
        told_dropped: honest clients told the victim dropped (they reveal s_sk shares).
        told_survived: honest clients told it survived (b shares), the victim among them.
        colluders: corrupt clients, who reveal shares of both.
        mask_key_shares, self_mask_shares: the shares of each secret the server collected.
        recovered: the victim's decoded input, or None when either pile is below t.
    """

    threshold: int
    told_dropped: tuple[int, ...]
    told_survived: tuple[int, ...]
    colluders: tuple[int, ...]
    mask_key_shares: int
    self_mask_shares: int
    recovered: np.ndarray | None

    @property
    def succeeded(self) -> bool:
        """True when the server rebuilt both secrets and so the victim's input."""
        return self.recovered is not None


def _reveal_both(client: Client, survivors: tuple[int, ...], victim: int) -> list[UnmaskingShares]:
    """A corrupt client answers both stories: it forgets, between them, what it already revealed.

    With t = n the story "the victim dropped" leaves fewer than t survivors and
    even the corrupt client's code cannot answer it; then n_C < t anyway.
    """
    out = [client.unmask(UnmaskRequest(client.index, survivors, ()))]
    client._revealed.clear()  # modified code: an honest client would refuse the second request
    others = tuple(u for u in survivors if u != victim)
    if len(others) >= client.params.threshold:
        out.append(client.unmask(UnmaskRequest(client.index, others, (victim,))))
    return out


def split_story_attack(updates, *, threshold: int, colluders: int, victim: int | None = None,
                       clip_range=1.0, bits: int = 32, frac_bits: int = 16, seed: int) -> SplitAttack:
    """Run rounds 0–2 honestly, then lie in round 3 to rebuild the victim's input.

    The server splits the honest clients other than the victim so that both
    piles reach t if any split can: ``max(t − n_C, 0)`` of them hear "the
    victim dropped", the rest (and the victim) hear "it survived". Clients
    0..n_C − 1 collude.

    Args:
        updates: n × d floats in ``clip_range``.
        threshold: t (any value in [1, n]: no rule is enforced, that is the point).
        colluders: n_C in [0, n − 1]; the victim is never one of them.
        victim: the client attacked; default the last one.

    >>> import numpy as np
    >>> x = np.array([[0.5, -0.25], [0.25, 0.5], [0.0, 0.125], [0.75, 0.0], [-0.5, 0.25]])
    >>> split_story_attack(x, threshold=3, colluders=1, seed=0).recovered.tolist()
    [-0.5, 0.25]
    >>> split_story_attack(x, threshold=4, colluders=1, seed=0).succeeded
    False
    """
    x = np.asarray(updates, dtype=float)
    n = x.shape[0] if x.ndim == 2 else 0
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or not 1 <= threshold <= n:
        raise ValueError(f"threshold must be an integer in [1, {n}]. Got threshold={threshold!r}.")
    victim = n - 1 if victim is None else victim
    if isinstance(victim, bool) or not isinstance(victim, (int, np.integer)) or not 0 <= victim < n:
        raise ValueError(f"victim must be a client in 0..{n - 1}. Got victim={victim!r}.")
    if isinstance(colluders, bool) or not isinstance(colluders, (int, np.integer)) or not 0 <= colluders <= n - 1:
        raise ValueError(f"colluders must be an integer in [0, {n - 1}]. Got colluders={colluders!r}.")
    corrupt = tuple(u for u in range(n) if u != victim)[:colluders]
    run = honest_rounds(x, threshold=threshold, clip_range=clip_range, bits=bits, frac_bits=frac_bits, seed=seed)
    honest = [u for u in range(n) if u != victim and u not in corrupt]
    # "the victim dropped" names n - 1 survivors: no honest client accepts it when t = n.
    split = min(max(threshold - len(corrupt), 0), len(honest)) if threshold <= n - 1 else 0
    told_dropped, told_survived = tuple(honest[:split]), (*honest[split:], victim)
    everyone = tuple(range(n))
    others = tuple(u for u in everyone if u != victim)
    answers = [run.clients[u].unmask(UnmaskRequest(u, others, (victim,))) for u in told_dropped]
    answers += [run.clients[u].unmask(UnmaskRequest(u, everyone, ())) for u in told_survived]
    for u in corrupt:
        answers += _reveal_both(run.clients[u], everyone, victim)
    counts = {kind: len(_pile(answers, victim, kind)) for kind in ("s_sk", "b")}
    recovered = None
    if min(counts.values()) >= threshold:
        y = remove_pairwise_masks(run.masked[victim].y, rebuild_secret(answers, victim, "s_sk"),
                                  run.advertised, victim, run.fixed_point.bits)
        add_mask(y, rebuild_secret(answers, victim, "b"), sign=-1)
        recovered = run.fixed_point.decode(y & np.uint64(2**run.fixed_point.bits - 1))
    return SplitAttack(int(threshold), told_dropped, told_survived, corrupt,
                       counts["s_sk"], counts["b"], recovered)
