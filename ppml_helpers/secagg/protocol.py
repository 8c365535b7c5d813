"""Run the whole protocol in one process: :func:`simulate`, its inputs checked, its result.

Teaching code, introduced in ``06_secure_aggregation``. :func:`simulate`
encodes each client's float vector with :class:`~ppml_helpers.mpc.FixedPoint`,
makes one :class:`~ppml_helpers.secagg.client.Client` per vector and a
:class:`~ppml_helpers.secagg.server.Server`, and passes the messages of
rounds 0-3 between them, dropping the clients the caller names from the
round the caller names, timing every party and counting every byte.

Dropouts: ``dropouts={u: r}`` makes client u stop responding from round r on.

- r = 0: u never advertises keys; it takes no part at all.
- r = 1: u advertised keys but shares nothing: nobody masks with it, and its
  input is not in the sum (the other clients' shares for it are lost).
- r = 2: u shared its keys but its masked input never arrives: the server
  rebuilds its mask key s_sk_u from its neighbours' shares and removes the
  pairwise masks the survivors added for it.
- r = 3: u's masked input arrived but u takes no part in unmasking: its
  input is in the sum (the server rebuilds its b_u from others' shares), and
  the shares u holds for others are missing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..mpc import FixedPoint
from . import graph as graphs
from .client import Client
from .costs import CostMeter, CostReport
from .messages import (
    ROUND_NAMES,
    AdvertiseKeys,
    ForwardedShares,
    MaskedInput,
    PublicKeys,
    ShareKeys,
    UnmaskingShares,
    UnmaskRequest,
)
from .params import ProtocolParams
from .server import Server
from .threshold import check_threshold

__all__ = ["SecAggResult", "Transcript", "simulate"]

_ROUNDS = len(ROUND_NAMES)


@dataclass(frozen=True)
class Transcript:
    """Every message of a run, round by round, in client order (from ``simulate(transcript=True)``).

    The server saw all of them; ``masked_inputs`` is what it learns about
    each client's vector before unmasking.
    """

    advertise_keys: tuple[AdvertiseKeys, ...]
    public_keys: tuple[PublicKeys, ...]
    share_keys: tuple[ShareKeys, ...]
    forwarded_shares: tuple[ForwardedShares, ...]
    masked_inputs: tuple[MaskedInput, ...]
    unmask_requests: tuple[UnmaskRequest, ...]
    unmasking_shares: tuple[UnmaskingShares, ...]


@dataclass(frozen=True)
class SecAggResult:
    """What :func:`simulate` returns.

    Attributes:
        sum: the decoded sum (float64, length d) over ``included``.
        encoded_sum: the same sum in the ring, ``uint64`` in [0, 2^bits): exactly
            Σ_(u ∈ included) FixedPoint.encode(updates[u]) mod 2^bits.
        included: U3, the clients whose masked input reached the server.
        responders: (U1, U2, U3, U4): who answered rounds 0, 1, 2, 3.
        graph: who masked with whom (complete for Bonawitz, Harary for SecAgg+).
        fixed_point: the encoding used.
        costs: time and bytes per round, per client and for the server.
        transcript: every message, when asked for (else None).
    """

    sum: np.ndarray
    encoded_sum: np.ndarray
    included: tuple[int, ...]
    responders: tuple[tuple[int, ...], ...]
    graph: graphs.NeighbourGraph
    fixed_point: FixedPoint
    costs: CostReport
    transcript: Transcript | None = None

    def __repr__(self) -> str:
        n, d = self.graph.num_clients, self.sum.size
        return (f"SecAggResult(n={n}, d={d}, graph={self.graph.kind}, k={self.graph.degree}, "
                f"included={len(self.included)} clients, sum[:3]={self.sum[:3].tolist()})")


# --- input checks -------------------------------------------------------------------------


def _check_updates(updates) -> np.ndarray:
    if isinstance(updates, np.ndarray) and updates.ndim == 2:
        rows = list(updates)
    elif isinstance(updates, (list, tuple)):
        rows = list(updates)
    else:
        raise ValueError("updates must be a list of 1-D float vectors (one per client) or a 2-D "
                         f"array with one row per client. Got {type(updates).__name__}.")
    if len(rows) < 2:
        raise ValueError(f"updates must hold at least 2 clients' vectors. Got {len(rows)}.")
    arrays = []
    for i, row in enumerate(rows):
        arr = np.asarray(row)
        if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating)
                                     or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"updates[{i}] must hold real numbers. Got dtype {arr.dtype}.")
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"updates[{i}] must be a non-empty 1-D vector. Got shape {arr.shape}; "
                             "flatten the model's parameters into one vector first.")
        arrays.append(arr.astype(np.float64))
    lengths = {a.size for a in arrays}
    if len(lengths) > 1:
        first = arrays[0].size
        i = next(j for j, a in enumerate(arrays) if a.size != first)
        raise ValueError(f"updates must all have the same length. updates[0] has {first} values "
                         f"but updates[{i}] has {arrays[i].size}.")
    stacked = np.stack(arrays)
    bad = ~np.isfinite(stacked)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"updates[{i}][{j}] = {float(stacked[i, j])!r} is not finite; secure aggregation "
                         "encodes finite numbers only.")
    return stacked


def _check_range(x: np.ndarray, fp: FixedPoint, clip: bool) -> None:
    low, high = fp.clip_range
    outside = (x < low) | (x > high)
    if not clip and outside.any():
        i, j = (int(v) for v in np.argwhere(outside)[0])
        raise ValueError(
            f"updates[{i}][{j}] = {float(x[i, j])!r} is outside clip_range [{low}, {high}]. Clip the "
            "updates first (by norm, as DP-SGD does), widen clip_range, or pass clip=True to clamp "
            "each value."
        )


def _check_dropouts(dropouts, n: int) -> dict[int, int]:
    if dropouts is None:
        return {}
    if not isinstance(dropouts, Mapping):
        raise ValueError("dropouts must be a dict {client index: round it stops responding in} "
                         f"or None. Got {type(dropouts).__name__}.")
    out = {}
    for u, r in dropouts.items():
        if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or not 0 <= u < n:
            raise ValueError(f"dropouts names client {u!r}, but the clients are 0..{n - 1} "
                             f"(n={n} updates).")
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 0 <= r < _ROUNDS:
            raise ValueError(
                f"dropouts[{u}] = {r!r} is not a round: use 0 (never advertises keys), 1 (before "
                "sharing keys), 2 (its masked input never arrives) or 3 (no part in unmasking)."
            )
        out[int(u)] = int(r)
    return out


def _random_sources(seed, n: int) -> list:
    """One independent source per client plus one for the graph: PCG64 streams from ``seed``,
    or the OS CSPRNG (``random.SystemRandom``) when ``seed`` is None."""
    if seed is None:
        return [random.SystemRandom() for _ in range(n + 1)]
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, or None for OS randomness. Got seed={seed!r}.")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(n + 1)]


# --- the run ------------------------------------------------------------------------------


def simulate(updates, *, threshold: int, dropouts: Mapping[int, int] | None = None,
             neighbours: int | None = None, colluders: int = 0, clip_range=1.0, bits: int = 32, frac_bits: int = 16,
             clip: bool = False, seed: int | None, transcript: bool = False) -> SecAggResult:
    """Securely aggregate ``updates`` with every round run in-process (Bonawitz, or SecAgg+).

    Args:
        updates: n >= 2 float vectors of one length d (a list, or an (n, d) array).
        threshold: t, the Shamir threshold, safe against a server that may lie
            about dropouts together with ``colluders`` clients: an integer in
            [floor((h + n_C)/2) + 1, h] (:func:`~ppml_helpers.secagg.check_threshold`),
            where h = n for Bonawitz and h = k + 1 for SecAgg+ (each client's
            neighbourhood: itself and its k neighbours). The round survives
            h − t dropouts (per neighbourhood in SecAgg+).
        dropouts: ``{client index: r}``, the round from which that client stops
            responding (0-3; see the module docstring). None: nobody drops.
        neighbours: k for SecAgg+ (an even integer in [2, n − 1]); None for
            Bonawitz's complete graph.
        colluders: n_C, the colluding clients the threshold must tolerate
            (default 0: the server alone). SecAgg+: the most colluders in any
            one neighbourhood, which the random graph keeps only with the
            probability :func:`~ppml_helpers.secagg.neighbourhood_risk` computes.
        clip_range: c for [−c, c], or (low, high); values outside are refused
            unless ``clip=True``.
        bits: k of the ring Z_(2^k), in [2, 63]; n encodings must fit
            (:class:`~ppml_helpers.mpc.FixedPoint` says how many bits you need).
        frac_bits: fixed-point fractional bits f; resolution 2^−f.
        clip: clamp values outside ``clip_range`` instead of refusing them.
        seed: an int makes the run repeatable (keys, seeds, shares, graph from
            PCG64 streams: teaching only); None draws everything from the OS CSPRNG.
            Each client and the graph get their own stream, so the SecAgg+ graph
            depends only on (seed, n, k), not on the inputs or dropouts.
        transcript: keep every message in ``result.transcript``.

    Returns:
        A :class:`SecAggResult`: ``sum`` over ``included`` (the clients whose
        masked input reached the server), ``encoded_sum``, ``costs``, ….

    Raises:
        DropoutError: (a ``ValueError``) too few clients left in some round
            for the threshold; names the round, the survivors and t.
        ValueError: a bad argument, named with its value and what is allowed.

    >>> r = simulate([[0.5, -0.25], [0.25, 0.5], [0.0, 0.125]], threshold=2, dropouts={2: 2}, seed=0)
    >>> r.included, r.sum.tolist()
    ((0, 1), [0.75, 0.25])
    """
    x = _check_updates(updates)
    n, d = x.shape
    fp = FixedPoint(clip_range=clip_range, num_clients=n, bits=bits, frac_bits=frac_bits)
    _check_range(x, fp, clip)
    drops = _check_dropouts(dropouts, n)
    if neighbours is None:
        t = check_threshold(threshold, n, colluders=colluders, mode=f"all n = {n} clients, Bonawitz")
    else:
        k = graphs.check_degree(neighbours, n)
        t = check_threshold(threshold, k + 1, colluders=colluders,
                            mode=f"each client and its k = {k} neighbours, SecAgg+")
    sources = _random_sources(seed, n)
    graph = graphs.complete_graph(n) if neighbours is None else graphs.harary_graph(n, k, rng=sources[n])
    params = ProtocolParams(threshold=t, bits=fp.bits, length=d)
    clients = [Client(u, fp.encode(x[u], clip=clip), params=params, rng=sources[u]) for u in range(n)]
    server = Server(params=params, graph=graph)
    meter = CostMeter()
    log: list[tuple] = []

    def alive(r: int, u: int) -> bool:
        return drops.get(u, _ROUNDS) > r

    def client_round(r: int, inbox: dict, act) -> list:
        """Deliver round r's messages; the clients still alive reply."""
        replies = []
        for u, m in inbox.items():
            if m is not None:
                meter.client(r, u, received=m.nbytes)
            if alive(r, u):
                t0 = time.perf_counter()
                reply = act(clients[u], m)
                meter.client(r, u, seconds=time.perf_counter() - t0, sent=reply.nbytes)
                replies.append(reply)
        meter.server(r, sent=sum(m.nbytes for m in inbox.values() if m is not None),
                     received=sum(m.nbytes for m in replies))
        return replies

    def server_round(r: int, step, replies: list) -> list:
        t0 = time.perf_counter()
        out = step(replies)
        meter.server(r, seconds=time.perf_counter() - t0)
        return out

    def to(messages: list) -> dict:
        return {m.recipient: m for m in messages}

    advertised = client_round(0, dict.fromkeys(range(n)), lambda c, _: c.advertise_keys())
    public_keys = server_round(0, server.collect_keys, advertised)
    shared = client_round(1, to(public_keys), Client.share_keys)
    forwarded = server_round(1, server.forward_shares, shared)
    masked = client_round(2, to(forwarded), Client.masked_input)
    requests = server_round(2, server.collect_masked_inputs, masked)
    if transcript:
        log = [advertised, public_keys, shared, forwarded, masked, requests]
    del masked  # the server has added them up; let the memory go
    answers = client_round(3, to(requests), Client.unmask)
    encoded_sum = server_round(3, server.unmask, answers)
    included = tuple(sorted(server.responders[2]))
    t0 = time.perf_counter()
    total = fp.decode_sum(encoded_sum, num_summands=len(included))
    meter.server(3, seconds=time.perf_counter() - t0)
    return SecAggResult(
        sum=total, encoded_sum=encoded_sum, included=included,
        responders=tuple(tuple(sorted(s)) for s in server.responders), graph=graph,
        fixed_point=fp, costs=meter.report(),
        transcript=Transcript(*map(tuple, log), tuple(answers)) if transcript else None,
    )

