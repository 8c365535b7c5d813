"""Malicious clients: the boosted sign-flip (model poisoning), "a little is enough"
(ALIE, colluding model poisoning inside the honest spread) and label flipping (data
poisoning). They are what the robust aggregators of ``02_flower`` are tried against.

Introduced in ``02_flower``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import torch

from .aggregate import check_states

__all__ = ["alie", "alie_z_max", "flip_labels", "sign_flip"]


def sign_flip(global_state: Mapping[str, torch.Tensor], honest_state: Mapping[str, torch.Tensor], *,
              boost: float) -> OrderedDict:
    """The boosted sign-flip attack: send ``global - boost * (honest - global)``.

    The client trains honestly, then reports the opposite of its update, ``boost``
    times larger. With f of n equal-weight clients doing it, FedAvg's step becomes
    ``(n - f - f * boost) / n`` times the honest one: negative once ``f * (1 + boost) > n``
    (2 of 10 clients with boost 10 give -1.2x: the model walks uphill).

    Raises:
        ValueError: ``boost`` not positive; states whose keys, shapes or dtypes differ.

    >>> g, h = {"w": torch.tensor([1.0])}, {"w": torch.tensor([1.5])}
    >>> sign_flip(g, h, boost=10.0)["w"]
    tensor([-4.])
    """
    if not boost > 0:
        raise ValueError(f"boost must be positive (how many times the honest update is sent, negated). "
                         f"Got {boost!r}.")
    check_states([global_state, honest_state])
    return OrderedDict((k, global_state[k] - boost * (honest_state[k] - global_state[k])) for k in global_state)


def _check_counts(num_clients, num_malicious) -> tuple[int, int]:
    n, f = int(num_clients), int(num_malicious)
    if not 1 <= f < n / 2:
        raise ValueError(f"num_malicious must be at least 1 and below num_clients / 2 = {n / 2:g} "
                         f"(ALIE assumes an honest majority). Got num_malicious={num_malicious!r} with "
                         f"num_clients={num_clients!r}.")
    return n, f


def alie_z_max(*, num_clients: int, num_malicious: int) -> float:
    """The paper's default ALIE factor: the largest z for which the attackers still find supporters.

    With n clients of which f attack, ``s = floor(n/2 + 1) - f`` honest clients must lie on the
    attackers' side of a coordinate for the attackers' value to be the median (or to survive a
    trim); under a normal model of the honest values that happens up to
    ``z_max = Phi^-1((n - s) / n)`` standard deviations from the mean (Baruch et al. 2019, Alg. 3).

    Raises:
        ValueError: ``num_malicious`` below 1 or not below ``num_clients / 2``; a case where the
            formula gives ``z_max = 0`` (n even, f = 1: the attackers would send the honest mean).

    >>> round(alie_z_max(num_clients=10, num_malicious=2), 4)
    0.2533
    """
    n, f = _check_counts(num_clients, num_malicious)
    supporters = (n // 2 + 1) - f
    z = NormalDist().inv_cdf((n - supporters) / n)
    if not z > 0:
        raise ValueError(f"with num_clients={n} and num_malicious={f} the paper's z_max is "
                         f"Phi^-1({n - supporters}/{n}) = 0: the attackers would send the honest mean. "
                         f"Pass z > 0 explicitly.")
    return z


def alie(global_state: Mapping[str, torch.Tensor], honest_states: Sequence[Mapping[str, torch.Tensor]], *,
         num_clients: int, num_malicious: int, z: float | None = None) -> OrderedDict:
    """"A little is enough" (ALIE): what every colluding attacker sends, ``global + mu - z * sigma``.

    The attackers take the honest *updates* ``state - global`` of ``honest_states``, their
    per-coordinate mean ``mu`` and sample standard deviation ``sigma`` (``torch.std``,
    divisor ``m - 1``), and all send ``global + mu - z * sigma``. For a small ``z`` that value
    sits inside the honest spread in every coordinate, so coordinate-wise median and trimmed
    mean keep it (and pick it as the median once ``s`` honest values lie beyond it), and Krum
    prefers it (the identical attacker models are close to each other and to the honest mean);
    yet ``z * sigma`` in every coordinate at once shifts the model. Baruch, Baruch & Goldberg,
    "A Little Is Enough: Circumventing Defenses For Distributed Learning", NeurIPS 2019.

    Which variant: the attackers know exactly the honest updates they are given. Pass all the
    honest clients' updates for the paper's omniscient evaluation, or only the honest updates
    of the colluders' own data (each trains honestly first) for the weaker, realistic variant:
    with f = 2 colluders ``sigma`` is then estimated from 2 updates, a noisy estimate.

    Args:
        global_state: the model the server sent this round.
        honest_states: models honest training produced (at least 2, for ``sigma``).
        num_clients: n, the clients aggregated in the round (for the default ``z``).
        num_malicious: f, the colluding attackers among them (for the default ``z``).
        z: how many standard deviations to move against the mean update; ``None`` uses the
            paper's ``alie_z_max(num_clients=n, num_malicious=f)`` (0.2533 for n = 10, f = 2).

    Returns:
        The state dict every attacker sends (one dict: the colluders send the same model).

    Raises:
        ValueError: fewer than 2 honest states; ``z`` given but not positive and finite;
            ``num_malicious`` not in ``[1, num_clients / 2)``; states that do not match.

    Introduced in ``02_flower``.

    >>> g = {"w": torch.tensor([0.0, 1.0])}
    >>> honest = [{"w": torch.tensor([1.0, 1.0])}, {"w": torch.tensor([3.0, 1.0])}]
    >>> alie(g, honest, num_clients=10, num_malicious=2, z=1.0)["w"]  # mu = (2, 0), sigma = (1.41, 0)
    tensor([0.5858, 1.0000])
    """
    honest_states = list(honest_states)
    if len(honest_states) < 2:
        raise ValueError(f"honest_states must hold at least 2 states (their standard deviation is the "
                         f"attack's step). Got {len(honest_states)}.")
    if z is None:
        z = alie_z_max(num_clients=num_clients, num_malicious=num_malicious)
    else:
        z = float(z)
        if not (z > 0 and z != float("inf")):
            raise ValueError(f"z must be positive and finite (standard deviations against the mean update), "
                             f"or None for the paper's z_max. Got {z!r}.")
        _check_counts(num_clients, num_malicious)
    check_states([global_state, *honest_states])
    out = OrderedDict()
    for k, g in global_state.items():
        updates = torch.stack([s[k] - g for s in honest_states]).to(torch.float64)
        step = updates.mean(0) - z * updates.std(0)
        out[k] = (g.to(torch.float64) + step).to(g.dtype)
    return out


def flip_labels(y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Label flipping: class c becomes ``num_classes - 1 - c`` (for MNIST, a 0 is labelled 9).

    Raises:
        ValueError: a label outside ``[0, num_classes)``.

    >>> flip_labels(torch.tensor([0, 3, 9]))
    tensor([9, 6, 0])
    """
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}). Got values from {int(y.min())} "
                         f"to {int(y.max())}.")
    return num_classes - 1 - y
