"""Sequential client training spread over worker processes, one PyTorch thread each.

A convolutional client step at batch size 10 is too small for PyTorch's
threads to keep several cores busy; giving each core its own clients does.
Each worker trains its share of the round's clients with
:func:`~ppml_helpers.fl.client.client_update` on exactly the batches the
sequential loop would use (``batch_plan`` from the same per-client
generator), so the result is the sequential one up to float rounding.
Arrays cross process boundaries as NumPy copies, not shared memory, so small
``/dev/shm`` mounts (Docker's 64 MB default) do not matter.

Workers are *spawned* (the only start method that is safe with PyTorch's
threads on every platform), so each re-imports the caller's main module: in a
notebook nothing is needed; in a script, call ``run_fedavg(..., processes=N)``
from under ``if __name__ == "__main__":``, as Python's multiprocessing
documentation requires.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import OrderedDict

import numpy as np
import torch

from .client import batch_plan, client_generator, client_update

__all__ = ["ClientPool"]

_WORKER: dict = {}


def _to_numpy(state) -> OrderedDict:
    return OrderedDict((k, v.detach().cpu().numpy()) for k, v in state.items())


def _to_torch(state) -> OrderedDict:
    return OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v))) for k, v in state.items())


def _init_worker(model_fn, x, y, settings) -> None:
    torch.set_num_threads(1)
    _WORKER.update(model=model_fn(), x=torch.from_numpy(x), y=torch.from_numpy(y), **settings)


def _train_clients(state, jobs):
    w = _WORKER
    model, start = w["model"], _to_torch(state)
    out = []
    for rnd, client, idx in jobs:
        idx = torch.from_numpy(idx)
        plan = batch_plan(len(idx), local_epochs=w["local_epochs"], batch_size=w["batch_size"],
                          generator=client_generator(w["seed"], rnd, client))
        model.load_state_dict(start)
        out.append(_to_numpy(client_update(model, w["x"][idx], w["y"][idx], plan, lr=w["lr"], mu=w["mu"])))
    return out


class ClientPool:
    """``processes`` spawned workers that train a round's clients in parallel.

    Use as a context manager; :meth:`train` returns the clients' new states in
    the order of ``clients``.

    Raises:
        ValueError: ``processes`` below 2, or a ``model_fn`` that cannot be
            pickled (a lambda or a local function: use a class or a
            module-level function, or ``functools.partial`` of one).
    """

    def __init__(self, processes: int, model_fn, train_set, *, local_epochs: int,
                 batch_size: int | None, lr: float, mu: float, seed: int):
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 2:
            raise ValueError(f"processes must be an integer of at least 2 for a pool. Got {processes!r}.")
        try:
            pickle.dumps(model_fn)
        except Exception as exc:
            raise ValueError(
                f"processes > 1 sends model_fn to worker processes, so it must be picklable; "
                f"{model_fn!r} is not ({exc}). Pass a class such as ph.models.McMahanCNN, a "
                "module-level function, or functools.partial of one."
            ) from exc
        x, y = train_set
        settings = {"local_epochs": local_epochs, "batch_size": batch_size, "lr": lr, "mu": mu, "seed": seed}
        self.processes = processes
        self._pool = multiprocessing.get_context("spawn").Pool(
            processes, initializer=_init_worker,
            initargs=(model_fn, x.detach().cpu().numpy(), y.detach().cpu().numpy(), settings),
        )

    def train(self, global_state, rnd: int, clients, partitions) -> list[OrderedDict]:
        """Train ``clients`` (ids into ``partitions``) from ``global_state`` for round ``rnd``."""
        jobs = [(rnd, c, np.asarray(partitions[c], dtype=np.int64)) for c in clients]
        chunks = [jobs[i :: self.processes] for i in range(self.processes)]
        state = _to_numpy(global_state)
        pending = [self._pool.apply_async(_train_clients, (state, chunk)) for chunk in chunks if chunk]
        done = [p.get() for p in pending]
        states = [None] * len(jobs)
        for i, chunk_states in enumerate(done):
            states[i :: self.processes] = [_to_torch(s) for s in chunk_states]
        return states

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
