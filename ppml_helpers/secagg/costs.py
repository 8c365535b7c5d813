"""Computation time and bytes per round, counted for every client and the server.

Teaching code, introduced in ``06_secure_aggregation``. :func:`simulate`
times each party's work with ``time.perf_counter`` (all parties run one
after another in one process, so times are CPU work, not wall-clock latency
of a real network) and adds up the ``nbytes`` of every message
(:mod:`~ppml_helpers.secagg.messages`). A server → client message counts in
the round that consumes it: the public keys forwarded after round 0 are
bytes received in round 1. The server's seconds in round r are its work on
round r's messages (checking, forwarding, and in round 3 reconstructing
secrets, removing masks and decoding).

What to expect (Bonawitz et al. 2017, section 7; Bell et al. 2020, table 1),
with n clients, d parameters and k neighbours:

============  ==================================  =================================
              Bonawitz                            SecAgg+
============  ==================================  =================================
client bytes  O(n + d)                            O(k + d)
client time   O(n^2 + n·d)  (n PRGs)              O(k^2 + k·d)
server time   O(n^2 + n·d + n_dropped·n·d)        O(n·k^2 + n·d + n_dropped·k·d)
============  ==================================  =================================

(The n^2 in client time is Shamir sharing with t ~ n/2 coefficients for n
holders; here it is Python integer arithmetic, and PRG expansion dominates
only for large d. The server's n·d is one PRG expansion per surviving client
to remove its self-mask b_u, paid even when nobody drops; the n_dropped terms
are the pairwise masks of dropped clients.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .messages import ROUND_NAMES

__all__ = ["CostMeter", "CostReport", "RoundCost"]


@dataclass(frozen=True)
class RoundCost:
    """One round's costs: per-client dicts keyed by client index, and the server's totals."""

    round: int
    name: str
    client_seconds: dict[int, float]
    client_bytes_sent: dict[int, int]
    client_bytes_received: dict[int, int]
    server_seconds: float
    server_bytes_sent: int
    server_bytes_received: int

    def summary(self) -> dict:
        """Mean and max over the clients that took part, and the server's figures, as one row."""
        row: dict = {"round": self.round, "name": self.name, "clients": len(self.client_seconds)}
        for label, values in (
            ("client_seconds", self.client_seconds),
            ("client_bytes_sent", self.client_bytes_sent),
            ("client_bytes_received", self.client_bytes_received),
        ):
            vals = list(values.values())
            row[f"{label}_mean"] = sum(vals) / len(vals) if vals else 0.0
            row[f"{label}_max"] = max(vals) if vals else 0
        row |= {
            "server_seconds": self.server_seconds,
            "server_bytes_sent": self.server_bytes_sent,
            "server_bytes_received": self.server_bytes_received,
        }
        return row


@dataclass(frozen=True)
class CostReport:
    """The costs of one run, round by round (:attr:`rounds`), with totals.

    ``pandas.DataFrame(report.table())`` gives one row per round.
    """

    rounds: tuple[RoundCost, ...]

    def table(self) -> list[dict]:
        """One :meth:`RoundCost.summary` row per round."""
        return [r.summary() for r in self.rounds]

    def client_totals(self) -> dict[int, dict[str, float]]:
        """Per client, summed over rounds: ``{"seconds", "bytes_sent", "bytes_received"}``."""
        out: dict[int, dict[str, float]] = {}
        for r in self.rounds:
            for key, values in (
                ("seconds", r.client_seconds),
                ("bytes_sent", r.client_bytes_sent),
                ("bytes_received", r.client_bytes_received),
            ):
                for u, v in values.items():
                    out.setdefault(u, {"seconds": 0.0, "bytes_sent": 0, "bytes_received": 0})
                    out[u][key] += v
        return out

    @property
    def server_seconds(self) -> float:
        """The server's computation time over all rounds."""
        return sum(r.server_seconds for r in self.rounds)

    @property
    def client_seconds(self) -> float:
        """All clients' computation time over all rounds, added up."""
        return sum(sum(r.client_seconds.values()) for r in self.rounds)

    @property
    def max_client_bytes_sent(self) -> int:
        """The most bytes any one client sent over the whole protocol."""
        totals = self.client_totals()
        return int(max((t["bytes_sent"] for t in totals.values()), default=0))

    @property
    def max_client_bytes_received(self) -> int:
        """The most bytes any one client received over the whole protocol."""
        totals = self.client_totals()
        return int(max((t["bytes_received"] for t in totals.values()), default=0))

    def __str__(self) -> str:
        lines = [
            f"{'round':<28}{'clients':>8}{'client s (max)':>16}{'client B sent (max)':>21}"
            f"{'client B recv (max)':>21}{'server s':>10}{'server B recv':>15}"
        ]
        for r in self.table():
            lines.append(
                f"{r['round']} {r['name']:<26}{r['clients']:>8}{r['client_seconds_max']:>16.4f}"
                f"{r['client_bytes_sent_max']:>21,}{r['client_bytes_received_max']:>21,}"
                f"{r['server_seconds']:>10.4f}{r['server_bytes_received']:>15,}"
            )
        return "\n".join(lines)


@dataclass
class CostMeter:
    """The mutable tally :func:`simulate` fills while the rounds run; :meth:`report` freezes it."""

    _rounds: dict[int, dict] = field(default_factory=dict)

    def _round(self, r: int) -> dict:
        return self._rounds.setdefault(r, {
            "client_seconds": {}, "client_bytes_sent": {}, "client_bytes_received": {},
            "server_seconds": 0.0, "server_bytes_sent": 0, "server_bytes_received": 0,
        })  # fmt: skip

    def client(self, r: int, u: int, *, seconds: float | None = None, sent: int | None = None,
               received: int | None = None) -> None:
        """Add client u's work and traffic in round r (a client that only received has no seconds)."""
        tally = self._round(r)
        for key, value in (("client_seconds", seconds), ("client_bytes_sent", sent),
                           ("client_bytes_received", received)):  # fmt: skip
            if value is not None:
                tally[key][u] = tally[key].get(u, 0) + value

    def server(self, r: int, *, seconds: float = 0.0, sent: int = 0, received: int = 0) -> None:
        """Add the server's work and traffic in round r."""
        tally = self._round(r)
        tally["server_seconds"] += seconds
        tally["server_bytes_sent"] += sent
        tally["server_bytes_received"] += received

    def report(self) -> CostReport:
        """The tally so far as a frozen :class:`CostReport`, rounds in order."""
        return CostReport(tuple(
            RoundCost(round=r, name=ROUND_NAMES[r], **self._rounds[r]) for r in sorted(self._rounds)
        ))  # fmt: skip
