"""FedAvg rounds in one process: sample clients, train them, aggregate, evaluate, count bytes.

Introduced in ``01_federated_averaging``; the Flower version is ``02_flower``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..config import check_seed
from ..train import evaluate
from .aggregate import fedavg, state_bytes
from .client import (
    batch_plan,
    client_generator,
    client_update,
    clients_update_vectorised,
    stacked_layers,
)
from .compress import NoCompression
from .parallel import ClientPool, check_model_fn

__all__ = ["FedAvgResult", "RoundRecord", "num_sampled", "run_fedavg"]


def num_sampled(num_clients: int, client_fraction: float) -> int:
    """Clients per round as in McMahan et al.: ``max(round(C * K), 1)``; C = 0 means one."""
    if not 0 <= client_fraction <= 1:
        raise ValueError(f"client_fraction must be in [0, 1]. Got {client_fraction!r}.")
    return max(round(client_fraction * num_clients), 1)


@dataclass(frozen=True)
class RoundRecord:
    """One round: the global model's test metrics after aggregation, who trained, the traffic,
    and the mean relative error the upload compression put on the clients' updates."""

    round: int
    test_accuracy: float
    test_loss: float
    clients: tuple[int, ...]
    bytes_down: int
    bytes_up: int
    seconds: float
    vectorised: bool
    upload_rel_error: float = 0.0
    val_accuracy: float | None = None  # on ``validation_set``, when run_fedavg was given one


@dataclass
class FedAvgResult:
    """What :func:`run_fedavg` returns: the final global model and the per-round history."""

    model: nn.Module
    rounds: list[RoundRecord] = field(default_factory=list)
    target_accuracy: float | None = None
    rounds_to_target: int | None = None
    startup_seconds: float = 0.0  # starting worker processes (``processes > 1``), not in any round

    @property
    def accuracy(self) -> list[float]:
        return [r.test_accuracy for r in self.rounds]

    @property
    def final_accuracy(self) -> float:
        return self.rounds[-1].test_accuracy

    @property
    def val_accuracy(self) -> list[float | None]:
        return [r.val_accuracy for r in self.rounds]

    def first_round_reaching(self, accuracy: float, *, on: str = "test") -> int | None:
        """The first round whose accuracy on ``on`` (``"test"`` or ``"validation"``) is at
        least ``accuracy``, or None."""
        if on not in ("test", "validation"):
            raise ValueError(f"on must be 'test' or 'validation'. Got {on!r}.")
        if on == "validation" and any(r.val_accuracy is None for r in self.rounds):
            raise ValueError("on='validation' needs a run given a validation_set.")
        key = "test_accuracy" if on == "test" else "val_accuracy"
        return next((r.round for r in self.rounds if getattr(r, key) >= accuracy), None)

    def bytes_until(self, round_: int | None = None) -> int:
        """Bytes sent down and up in rounds ``1..round_`` (all rounds when ``None``)."""
        last = len(self.rounds) if round_ is None else round_
        return sum(r.bytes_down + r.bytes_up for r in self.rounds[:last])


def _aligned_cost(plans) -> float:
    """Padded work over real work if these plans were vectorised (1.0 = batches line up)."""
    steps = max(len(p) for p in plans)
    real = sum(len(b) for p in plans for b in p)
    padded = sum(max(len(p[t]) for p in plans if t < len(p)) * len(plans) for t in range(steps))
    return padded / real


def run_fedavg(
    model_fn,
    train_set,
    partitions,
    test_set,
    *,
    rounds: int,
    client_fraction: float,
    local_epochs: int,
    batch_size: int | None,
    lr: float,
    mu: float = 0.0,
    seed: int,
    target_accuracy: float | None = None,
    stop_at_target: bool = False,
    compression=None,
    vectorise: bool | str = "auto",
    processes: int = 1,
    validation_set=None,
    wait_for_validation: bool = True,
    progress: bool = True,
) -> FedAvgResult:
    """Federated averaging (McMahan et al. 2017), with FedSGD and FedProx as special cases.

    Each round samples ``max(round(C * K), 1)`` of the K clients without
    replacement, sends them the global model, lets each run ``local_epochs``
    epochs of SGD with ``batch_size`` (``None``: the full local set, so E=1,
    B=None is FedSGD) and learning rate ``lr``, and replaces the global model
    by the average of their models weighted by local dataset size. Bytes down are the model's size per sampled client;
    bytes up are what ``compression`` (default: none) sends.

    Args:
        model_fn: builds the model; called once, under ``seed``.
        train_set, test_set: ``(x, y)`` tensor pairs.
        partitions: one index array per client into ``train_set``.
        mu: FedProx proximal weight (0 = FedAvg).
        target_accuracy: record the first round whose test accuracy reaches it.
        stop_at_target: stop once it is reached (on the validation set too, when one is given,
            unless ``wait_for_validation`` is False).
        validation_set: an ``(x, y)`` pair held out of ``train_set``, evaluated every round
            beside the test set (``RoundRecord.val_accuracy``), for choosing hyperparameters
            without looking at the test set.
        wait_for_validation: with ``stop_at_target`` and a ``validation_set``, keep
            running until the validation set reaches the target too (the default);
            ``False`` stops at the test target alone, so a validation set that lags
            costs no extra rounds (its accuracy at the stopping round is recorded).
        compression: a compressor from :mod:`ppml_helpers.fl.compress` for uploads.
        vectorise: ``True``, ``False`` or ``"auto"``: vectorise linear stacks (the
            2NN, logistic regression; the ``bmm`` engine) when padding costs under
            25 % extra work, i.e. when the batches nearly line up. Convolutional
            models stay sequential under ``"auto"``: ``benchmarks/fedavg_speed.py``
            measures ``vmap`` slower than the plain loop for the CNN on a 2-core CPU.
        processes: train the clients of rounds that are not vectorised in this
            many worker processes, one PyTorch thread each (a
            :class:`~ppml_helpers.fl.parallel.ClientPool`; ``model_fn`` must then
            be picklable, and a script must call this under
            ``if __name__ == "__main__":``). Same batches as 1, so the same
            result up to float rounding; worth it for convolutional models,
            whose small batches leave cores idle.

    Raises:
        ValueError: empty partitions, bad rounds, fraction, lr, mu, target or processes.
    """
    x, y = train_set
    parts = [torch.as_tensor(np.asarray(p), dtype=torch.int64) for p in partitions]
    if not parts or any(len(p) == 0 for p in parts):
        raise ValueError("partitions must be a non-empty list of non-empty index arrays.")
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1. Got {rounds}.")
    if not lr > 0:
        raise ValueError(f"lr must be positive. Got {lr!r}.")
    if mu < 0:
        raise ValueError(f"mu must be non-negative. Got {mu!r}.")
    if target_accuracy is not None and not 0 < target_accuracy <= 1:
        raise ValueError(f"target_accuracy must be in (0, 1]. Got {target_accuracy!r}.")
    check_seed(seed)
    if vectorise not in (True, False, "auto"):
        raise ValueError(f"vectorise must be True, False or 'auto'. Got {vectorise!r}.")
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ValueError(f"processes must be a positive integer. Got {processes!r}.")
    if processes > 1:
        check_model_fn(model_fn)
    m = num_sampled(len(parts), client_fraction)
    compressor = compression or NoCompression()
    with torch.random.fork_rng(devices=[]):  # seed the initial weights, leave the global RNG alone
        torch.manual_seed(seed)
        model = model_fn()
        worker = model_fn()  # a scratch copy for sequential client training
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xFEDA]))
    result = FedAvgResult(model=model, target_accuracy=target_accuracy)
    model_size = state_bytes(model.state_dict())
    linear_stack = stacked_layers(model) is not None
    from tqdm.auto import tqdm

    bar = tqdm(range(1, rounds + 1), desc="rounds", leave=False, disable=not progress)
    val_reached = False  # the validation set has reached target_accuracy (stop_at_target waits for it)
    pool = None
    try:
        for rnd in bar:
            start = time.perf_counter()
            chosen = sorted(rng.choice(len(parts), size=m, replace=False).tolist())
            plans = [
                batch_plan(len(parts[c]), local_epochs=local_epochs, batch_size=batch_size,
                           generator=client_generator(seed, rnd, c))
                for c in chosen
            ]
            data = [(x[parts[c]], y[parts[c]]) for c in chosen]
            vectorised = vectorise is True or (
                vectorise == "auto" and linear_stack and len(chosen) > 1 and _aligned_cost(plans) <= 1.25
            )
            global_state = OrderedDict((k, v.detach().clone()) for k, v in model.state_dict().items())
            if vectorised:
                states = clients_update_vectorised(model, data, plans, lr=lr, mu=mu)
            elif processes > 1:
                if pool is None:  # started on first use; its start-up is kept out of the round's time
                    t0 = time.perf_counter()
                    pool = ClientPool(processes, model_fn, train_set, lr=lr, mu=mu)
                    result.startup_seconds = time.perf_counter() - t0
                    start += result.startup_seconds
                states = pool.train(global_state, [(parts[c], plan) for c, plan in zip(chosen, plans, strict=True)])
            else:
                states = []
                for (xc, yc), plan in zip(data, plans, strict=True):
                    worker.load_state_dict(global_state)
                    states.append(client_update(worker, xc, yc, plan, lr=lr, mu=mu))
            received, up, errors = [], 0, []
            for state in states:
                delta = OrderedDict((k, state[k] - global_state[k]) for k in global_state)
                sent = compressor(delta)
                up += sent.nbytes
                errors.append(sent.rel_error)
                received.append(OrderedDict((k, global_state[k] + sent.update[k]) for k in global_state))
            model.load_state_dict(fedavg(received, [len(parts[c]) for c in chosen]))
            ev = evaluate(model, test_set)
            val = None if validation_set is None else evaluate(model, validation_set).accuracy
            record = RoundRecord(rnd, ev.accuracy, ev.loss, tuple(chosen), m * model_size, up,
                                 time.perf_counter() - start, vectorised, float(np.mean(errors)), val)
            result.rounds.append(record)
            bar.set_postfix(acc=f"{ev.accuracy:.4f}")
            if target_accuracy is not None and result.rounds_to_target is None and ev.accuracy >= target_accuracy:
                result.rounds_to_target = rnd
            val_reached = val_reached or (target_accuracy is not None and val is not None and val >= target_accuracy)
            waiting = validation_set is not None and wait_for_validation and not val_reached
            if stop_at_target and result.rounds_to_target is not None and not waiting:
                break
    finally:
        if pool is not None:
            pool.close()
    return result
