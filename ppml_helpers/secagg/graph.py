"""Who masks with whom: the complete graph (Bonawitz) or a random k-regular graph (SecAgg+).

Teaching code, introduced in ``06_secure_aggregation``. In Bonawitz et al.
(2017) every client agrees a pairwise mask with every other client and
Shamir-shares its secrets with all of them: O(n) key agreements and PRG
expansions per client, O(n^2) for the server when many drop out. SecAgg+
(Bell et al. 2020) keeps the protocol and shrinks the graph: each client
masks only with its k neighbours and shares its secrets only with them,
with k = O(log n). The masks still cancel (every edge u–v contributes
+PRG(s_uv) once and −PRG(s_uv) once), and the server still cannot remove
a surviving client's masks as long as its neighbourhood keeps enough honest
members.

The graph here is a Harary graph H(n, k), the k-regular ring where the
client at position p is joined to positions p ± 1, …, p ± k/2 (mod n), with
the clients placed on the ring in a random order: a k-regular graph whose
neighbourhoods are random sets of clients. It is what Flower's
``SecAggPlusWorkflow`` builds (a shuffled ring with offsets −k/2..k/2), so k
must be even. A client's *neighbourhood* is itself plus its k neighbours:
k + 1 share holders, like Flower's ``num_shares``; a client keeps one share
of its own secrets, as in Bonawitz et al., where u shares among all of U1
including itself.

References: Bell, Bengtsson, Gascón, Lepoint, Raykova (2020), "Secure
Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS; Harary
(1962), "The maximum connectivity of a graph", PNAS 48(7).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

__all__ = ["NeighbourGraph", "complete_graph", "harary_graph"]


@dataclass(frozen=True)
class NeighbourGraph:
    """An undirected graph on clients 0..n−1: ``neighbours[u]`` are those u masks with (not u).

    ``kind`` is "complete" (Bonawitz) or "harary" (SecAgg+); ``degree`` is k.
    """

    kind: str
    neighbours: tuple[frozenset[int], ...]

    @property
    def num_clients(self) -> int:
        """n, the number of clients."""
        return len(self.neighbours)

    @property
    def degree(self) -> int:
        """k, the number of neighbours of every client."""
        return len(self.neighbours[0])

    def neighbourhood(self, u: int) -> frozenset[int]:
        """u and its neighbours: the holders of u's Shamir shares."""
        return self.neighbours[u] | {u}

    def edges(self) -> list[tuple[int, int]]:
        """Every edge once, as (u, v) with u < v."""
        return [(u, v) for u, nb in enumerate(self.neighbours) for v in sorted(nb) if u < v]


def _check_num_clients(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"num_clients must be an integer >= 2. Got num_clients={n!r}.")
    return int(n)


def complete_graph(num_clients: int) -> NeighbourGraph:
    """Everyone is everyone's neighbour: the Bonawitz et al. protocol.

    >>> complete_graph(3).neighbours
    (frozenset({1, 2}), frozenset({0, 2}), frozenset({0, 1}))
    """
    n = _check_num_clients(num_clients)
    everyone = frozenset(range(n))
    return NeighbourGraph("complete", tuple(everyone - {u} for u in range(n)))


def check_degree(k, num_clients: int) -> int:
    """Return k if it is an even integer in [2, n − 1], else raise naming ``neighbours``."""
    n = num_clients
    allowed = (
        f"an even integer in [2, {n - 1}] (n - 1 with n = {n} clients)"
        if n >= 3
        else f"not used: with n = {n} clients every client already masks with the only other one "
        "(use neighbours=None)"
    )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"neighbours must be {allowed}. Got neighbours={k!r}.")
    k = int(k)
    if n < 3 or not 2 <= k <= n - 1 or k % 2:
        raise ValueError(
            f"neighbours must be {allowed}: SecAgg+'s graph is a ring where each client is joined "
            f"to the k/2 clients on either side. Got neighbours={k}."
        )
    return k


def harary_graph(num_clients: int, k: int, *, rng) -> NeighbourGraph:
    """A random k-regular graph: H(n, k) with the clients placed on the ring in a random order.

    Args:
        num_clients: n >= 3.
        k: the degree, an even integer in [2, n − 1]; k = n − 1 (n odd) is the complete graph.
        rng: a ``numpy.random.Generator``, an int seed, or a ``random.Random``.

    Raises:
        ValueError: n < 3 or k not an even integer in [2, n − 1] (named ``neighbours``).

    >>> g = harary_graph(10, 4, rng=0)
    >>> {len(nb) for nb in g.neighbours}, all(u in g.neighbours[v] for u in range(10) for v in g.neighbours[u])
    ({4}, True)
    """
    n = _check_num_clients(num_clients)
    k = check_degree(k, n)
    if isinstance(rng, random.Random):
        order = rng.sample(range(n), n)
    else:
        order = [int(i) for i in np.random.default_rng(rng).permutation(n)]
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for p, u in enumerate(order):
        for offset in range(1, k // 2 + 1):
            v = order[(p + offset) % n]
            neighbours[u].add(v)
            neighbours[v].add(u)
    return NeighbourGraph("harary", tuple(frozenset(nb) for nb in neighbours))
