"""Secure aggregation (Bonawitz et al. 2017) and SecAgg+ (Bell et al. 2020): teaching code.

Introduced in notebook ``06_secure_aggregation``. A server learns the sum of
n clients' vectors and nothing else about them, even when some clients drop
out mid-protocol. Each client u sends

    y_u = x_u + PRG(b_u) + Σ_(v ∈ N(u)) Δ_uv · PRG(s_uv)   mod 2^k,

where x_u is its fixed-point encoded update (:class:`ppml_helpers.mpc.FixedPoint`),
s_uv = HKDF(X25519(s_sk_u, s_pk_v)) is a seed u and v agree on without the
server, Δ_uv = ±1 makes the pairwise masks cancel in the sum, and b_u is a
self-mask seed. Shamir shares of s_sk_u and b_u (:mod:`ppml_helpers.mpc`),
encrypted with AES-GCM between clients, let the survivors help the server
remove the pairwise masks of a client that dropped (rebuilding its s_sk_u)
and the self-masks of those that did not (rebuilding their b_u), never both
for one client: that pair would unmask its input.

The one entry point is :func:`simulate`; :class:`Client` and :class:`Server`
expose the rounds one message at a time for a step-by-step walk-through.

Modules: :mod:`.prg` (AES-CTR mask expansion), :mod:`.keys` (X25519, HKDF),
:mod:`.channel` (AES-GCM for shares), :mod:`.messages` (one frozen dataclass
per message, with its size), :mod:`.graph` (complete or random k-regular),
:mod:`.threshold` (which t is safe against colluders, and SecAgg+'s risk),
:mod:`.client`, :mod:`.server`, :mod:`.protocol` (:func:`simulate`),
:mod:`.costs` (time and bytes per round), :mod:`.errors`.
:mod:`.flower` (Flower's SecAgg+ apps for notebook 06 and the benchmark) is
not imported here, since it imports ``flwr``: ``from ppml_helpers.secagg import flower``.

What this code is and is not:

- Teaching code, not audited and not constant-time. With an int ``seed``
  every key, seed and share comes from a seeded PCG64 stream, so the run is
  repeatable and anyone who knows the seed can recompute everything; pass
  ``seed=None`` for the operating system's CSPRNG.
- Semi-honest (honest-but-curious) server: it follows the protocol and only
  looks. There are no signatures and no PKI, so a malicious server could
  impersonate clients (a Sybil attack) or give clients different key lists;
  Bonawitz et al.'s actively secure variant signs every key advertisement
  and adds a consistency-check round (their round 3), which lets clients
  detect a server that lies about who dropped out. Neither is implemented:
  here, a malicious server could claim a client dropped after seeing its
  masked input, collect its s_sk from some clients and its b from others,
  and unmask it. Honest clients do refuse to reveal both secrets of one
  client themselves (:class:`ProtocolError`). What stops a server that tells
  two groups different stories is the threshold: with n_C colluding clients
  (who reveal shares of both secrets) it must exceed (h + n_C)/2 for h share
  holders, so that two groups can never each reach it (:mod:`.threshold`;
  ``simulate(..., colluders=n_C)`` refuses a smaller t).
- Secure aggregation hides individual inputs, not the sum: the sum (and
  differences between sums over different client sets) still leaks, and it
  is not differential privacy; add DP noise for that.

References:

- Bonawitz, Ivanov, Kreuter, Marcedone, McMahan, Patel, Ramage, Segal, Seth
  (2017), "Practical Secure Aggregation for Privacy-Preserving Machine
  Learning", ACM CCS, https://eprint.iacr.org/2017/281
- Bell, Bengtsson, Gascón, Lepoint, Raykova (2020), "Secure Single-Server
  Aggregation with (Poly)Logarithmic Overhead", ACM CCS,
  https://eprint.iacr.org/2020/704
- Flower's implementation: ``flwr.server.workflow.SecAggPlusWorkflow`` and
  ``flwr.client.mod.secaggplus_mod``.
"""

from .attacks import SplitAttack, split_story_attack
from .client import Client
from .costs import CostReport, RoundCost
from .errors import DropoutError, ProtocolError, SecAggError
from .graph import NeighbourGraph, complete_graph, harary_graph
from .keys import KeyPair, agree, generate_keypair
from .messages import (
    ROUND_NAMES,
    AdvertiseKeys,
    EncryptedShare,
    ForwardedShares,
    MaskedInput,
    PublicKeys,
    RevealedShare,
    ShareKeys,
    UnmaskingShares,
    UnmaskRequest,
)
from .params import ProtocolParams
from .prg import add_mask, expand
from .protocol import SecAggResult, Transcript, simulate
from .server import Server
from .threshold import (
    NeighbourhoodRisk,
    check_threshold,
    neighbourhood_risk,
    smallest_safe_threshold,
    threshold_range,
)

__all__ = [
    "ROUND_NAMES",
    "AdvertiseKeys",
    "Client",
    "CostReport",
    "DropoutError",
    "EncryptedShare",
    "ForwardedShares",
    "KeyPair",
    "MaskedInput",
    "NeighbourGraph",
    "NeighbourhoodRisk",
    "ProtocolError",
    "ProtocolParams",
    "PublicKeys",
    "RevealedShare",
    "RoundCost",
    "SecAggError",
    "SecAggResult",
    "Server",
    "ShareKeys",
    "SplitAttack",
    "Transcript",
    "UnmaskRequest",
    "UnmaskingShares",
    "add_mask",
    "agree",
    "check_threshold",
    "complete_graph",
    "expand",
    "generate_keypair",
    "harary_graph",
    "neighbourhood_risk",
    "simulate",
    "smallest_safe_threshold",
    "split_story_attack",
    "threshold_range",
]
