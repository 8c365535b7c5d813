"""The Shamir threshold t of secure aggregation: which t keeps inputs hidden, and at what risk.

Teaching code, introduced in ``06_secure_aggregation``. Each client's two
secrets (its mask key s_sk_u and its self-mask seed b_u) are t-out-of-h
Shamir-shared among h holders (all n clients in Bonawitz et al.; the client
and its k neighbours, h = k + 1, in SecAgg+). Rebuilding **both** secrets of
one surviving client unmasks its input. Two ways to get there:

- **Colluding holders.** n_C corrupt holders hand the server their shares of
  both secrets. They need n_C >= t on their own.
- **A lying server with colluders.** The server tells one group A of honest
  holders "u dropped" (they reveal shares of s_sk_u) and a disjoint group B
  "u survived" (they reveal shares of b_u); no honest client is asked for
  both, and the colluders give both. It needs |A| + n_C >= t and
  |B| + n_C >= t with |A| + |B| <= h − n_C, which is possible exactly when
  **t <= (h + n_C) / 2**.

So a threshold that must hold against a server that may lie, together with up
to n_C colluding clients, is t > (h + n_C)/2 (this also gives t > n_C), and to
survive D dropouts the survivors must still hold t shares: h − t >= D. With
n_C = 0 the rule is a strict majority, t > h/2. Bonawitz et al. (2017) take
t > 2n/3 against a third of the clients corrupt, which is this rule at
n_C = n/3.

In SecAgg+ the holders of u's shares are its neighbours on a random graph, so
how many colluders land among them is random: :func:`neighbourhood_risk`
computes the chance that some honest client's neighbourhood holds enough of
them for either attack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "NeighbourhoodRisk",
    "check_threshold",
    "neighbourhood_risk",
    "smallest_safe_threshold",
    "threshold_range",
]


def _check_count(name: str, value, low: int, high: int, meaning: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}] ({meaning}). Got {name}={value!r}.")
    return int(value)


def smallest_safe_threshold(holders: int, colluders: int = 0) -> int:
    """The smallest t with t > (holders + colluders) / 2: floor((h + n_C) / 2) + 1.

    >>> smallest_safe_threshold(5), smallest_safe_threshold(5, colluders=1), smallest_safe_threshold(100, 33)
    (3, 4, 67)
    """
    h = _check_count("holders", holders, 1, 2**31, "the clients holding shares of one secret")
    c = _check_count("colluders", colluders, 0, h, f"colluding share holders, at most all h = {h}")
    return (h + c) // 2 + 1


def check_threshold(threshold, holders: int, *, colluders: int = 0, mode: str = "") -> int:
    """Return ``threshold`` if it is safe for ``holders`` share holders and ``colluders`` colluders.

    Args:
        threshold: t, the Shamir threshold.
        holders: h, the holders of each secret's shares (n, or k + 1 in SecAgg+).
        colluders: n_C, the colluding share holders to tolerate, in [0, h − 1].
        mode: words naming the holders for the error message ("all n = 5 clients, Bonawitz").

    Raises:
        ValueError: t not an integer in [floor((h + n_C)/2) + 1, h], naming h, t,
            n_C and the smallest safe t. (Some t is always safe: with n_C = h − 1
            only t = h is, and then the colluders alone hold h − 1 < t shares.)
    """
    c = _check_count("colluders", colluders, 0, holders - 1,
                     f"colluding clients among the {holders} share holders, fewer than all of them")
    low, where = smallest_safe_threshold(holders, c), f" ({mode})" if mode else ""
    rule = (f"t > (h + n_C)/2 = ({holders} + {c})/2 = {(holders + c) / 2:g} for h = {holders} share "
            f"holders{where} and n_C = {c} colluding clients")
    allowed = f"an integer in [{low}, {holders}]"
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        raise ValueError(f"threshold must be {allowed}: {rule}. Got threshold={threshold!r}.")
    if threshold > holders:
        raise ValueError(f"threshold must be {allowed}. Got threshold={threshold}: above the "
                         f"{holders} holders{where}, no secret can ever be rebuilt.")
    if threshold < low:
        raise ValueError(
            f"threshold must be {allowed}: {rule}. Got threshold={threshold}, and the smallest safe "
            f"threshold is {low}. At t <= (h + n_C)/2 a server that tells two groups of honest clients "
            "different stories about who dropped, helped by the colluders who reveal shares of both "
            "secrets, rebuilds a client's mask key and its self-mask seed: its input."
        )
    return int(threshold)


def threshold_range(num_clients: int, *, dropouts: int, colluders: int) -> range:
    """Every safe t: from floor((n + n_C)/2) + 1 up to n − dropouts; empty when none is.

    Args:
        num_clients: n, the share holders.
        dropouts: D, how many may drop while the round still completes (n − t >= D).
        colluders: n_C, the colluding clients to tolerate (with a server that may lie).

    >>> threshold_range(10, dropouts=3, colluders=0), threshold_range(10, dropouts=3, colluders=3)
    (range(6, 8), range(7, 8))
    >>> len(threshold_range(10, dropouts=3, colluders=5))  # nothing satisfies both
    0
    """
    n = _check_count("num_clients", num_clients, 2, 2**31, "the share holders")
    d = _check_count("dropouts", dropouts, 0, n - 1, f"clients that may drop, fewer than n = {n}")
    c = _check_count("colluders", colluders, 0, n - 1, f"colluding clients, fewer than n = {n}")
    return range(smallest_safe_threshold(n, c), n - d + 1)


@dataclass(frozen=True)
class NeighbourhoodRisk:
    """How likely a random SecAgg+ graph puts too many colluders around an honest client.

    Attributes:
        per_client: P(one honest client's k neighbours hold >= ``needed``
            colluders), exact (hypergeometric: its neighbours are a uniform
            k-subset of the other n − 1 clients).
        needed: colluding neighbours that expose a client: t when the server
            follows the protocol, 2t − (k + 1) when it may lie about dropouts.
        expected_exposed: (n − n_C) · per_client, the expected number of honest
            clients exposed; also the union bound on P(some honest client is exposed).
    """

    per_client: float
    needed: int
    expected_exposed: float

    @property
    def union_bound(self) -> float:
        """An upper bound on P(some honest client is exposed): min(1, expected_exposed)."""
        return min(1.0, self.expected_exposed)


def neighbourhood_risk(num_clients: int, neighbours: int, threshold: int, colluders: int, *,
                       lying_server: bool) -> NeighbourhoodRisk:
    """The chance that SecAgg+'s random graph exposes an honest client to n_C colluders.

    The graph is a ring whose positions are shuffled (:func:`~ppml_helpers.secagg.harary_graph`);
    the colluders are fixed before it is drawn. An honest client is exposed when
    its neighbours include ``needed`` colluders (see :class:`NeighbourhoodRisk`).

    >>> r = neighbourhood_risk(100, 14, 10, 33, lying_server=False)
    >>> r.needed, round(r.expected_exposed, 3)
    (10, 0.135)
    """
    n = _check_count("num_clients", num_clients, 3, 2**31, "the clients")
    k = _check_count("neighbours", neighbours, 2, n - 1, f"k, each client's neighbours, at most n − 1 = {n - 1}")
    t = _check_count("threshold", threshold, 1, k + 1, f"t, at most the k + 1 = {k + 1} holders")
    c = _check_count("colluders", colluders, 0, n - 1, f"colluding clients, fewer than n = {n}")
    needed = max(2 * t - (k + 1), 0) if lying_server else t
    per_client = float(stats.hypergeom(n - 1, c, k).sf(needed - 1))
    return NeighbourhoodRisk(per_client=per_client, needed=needed, expected_exposed=(n - c) * per_client)
