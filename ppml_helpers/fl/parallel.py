"""Sequential client training spread over worker processes, one PyTorch thread each.

A convolutional client step at batch size 10 is too small for PyTorch's
threads to keep several cores busy; giving each core its own clients does.
Each worker trains its share of the round's clients with
:func:`~ppml_helpers.fl.client.client_update` on the batch plans it is sent,
the ones the sequential loop would use, so the result is the sequential one up
to float rounding.
Arrays cross process boundaries as NumPy copies, not shared memory, so small
``/dev/shm`` mounts (Docker's 64 MB default) do not matter.

Workers are *spawned* (the only start method that is safe with PyTorch's
threads on every platform), so each imports ``model_fn`` afresh: it must live
in a module (``ph.models.McMahanCNN``, or a function in your own ``.py`` file),
not in a notebook cell. In a script, call ``run_fedavg(..., processes=N)`` from
under ``if __name__ == "__main__":``, as Python's multiprocessing documentation
requires. A worker that fails to start is an error, never a hang.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import torch

from .client import client_update

__all__ = ["ClientPool", "available_cpus", "check_model_fn"]

_WORKER: dict = {}


def _to_numpy(state) -> OrderedDict:
    return OrderedDict((k, v.detach().cpu().numpy()) for k, v in state.items())


def _to_torch(state) -> OrderedDict:
    return OrderedDict((k, torch.from_numpy(np.ascontiguousarray(v))) for k, v in state.items())


def available_cpus() -> int:
    """CPUs this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_model_fn(model_fn) -> None:
    """Refuse a ``model_fn`` that spawned workers could not rebuild, saying what to pass instead."""
    try:
        pickle.dumps(model_fn)
    except Exception as exc:
        raise ValueError(
            f"processes > 1 sends model_fn to worker processes, so it must be picklable; "
            f"{model_fn!r} is not ({exc}). Pass a class such as ph.models.McMahanCNN, a "
            "module-level function, or functools.partial of one."
        ) from exc
    target = getattr(model_fn, "func", model_fn)  # functools.partial
    main = sys.modules.get("__main__")
    if getattr(target, "__module__", None) == "__main__" and not getattr(main, "__file__", None):
        raise ValueError(
            f"processes > 1 needs a model_fn that worker processes can import; {model_fn!r} is "
            "defined in a notebook or an interactive session. Use a class such as "
            "ph.models.McMahanCNN, or move the function into a .py module."
        )


def _ready() -> bool:
    return "model" in _WORKER


def _init_worker(model_fn, x, y, lr: float, mu: float) -> None:
    torch.set_num_threads(1)
    _WORKER.update(model=model_fn(), x=torch.from_numpy(x), y=torch.from_numpy(y), lr=lr, mu=mu)


def _train_clients(state, jobs):
    w = _WORKER
    model, start = w["model"], _to_torch(state)
    out = []
    for idx, plan in jobs:
        idx = torch.from_numpy(idx)
        model.load_state_dict(start)
        batches = [torch.from_numpy(b) for b in plan]
        out.append(_to_numpy(client_update(model, w["x"][idx], w["y"][idx], batches, lr=w["lr"], mu=w["mu"])))
    return out


class ClientPool:
    """``processes`` spawned workers that train a round's clients in parallel.

    Use as a context manager; :meth:`train` returns the clients' new states in
    the order it was given them.

    Raises:
        ValueError: ``processes`` below 2, or a ``model_fn`` the workers cannot
            rebuild (see :func:`check_model_fn`).
        RuntimeError: a worker failed to start (``model_fn()`` raised in it).
    """

    def __init__(self, processes: int, model_fn, train_set, *, lr: float, mu: float = 0.0):
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 2:
            raise ValueError(f"processes must be an integer of at least 2 for a pool. Got {processes!r}.")
        check_model_fn(model_fn)
        x, y = train_set
        self.processes = processes
        self._pool = ProcessPoolExecutor(
            processes, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
            initargs=(model_fn, x.detach().cpu().numpy(), y.detach().cpu().numpy(), lr, mu),
        )
        try:  # start every worker now, so start-up failures surface here and not mid-run
            for future in [self._pool.submit(_ready) for _ in range(processes)]:
                future.result()
        except BrokenProcessPool as exc:
            self.close()
            raise RuntimeError(
                f"a worker process failed to start: model_fn()={model_fn!r} raised in it or could "
                "not be imported there (its traceback is printed above)."
            ) from exc

    def train(self, global_state, clients) -> list[OrderedDict]:
        """Train each of ``clients``, pairs ``(indices into train_set, batch plan)``, from
        ``global_state``; the plan's batches index the client's own examples."""
        jobs = [(np.asarray(idx, dtype=np.int64), [np.asarray(b, dtype=np.int64) for b in plan])
                for idx, plan in clients]
        chunks = [jobs[i :: self.processes] for i in range(self.processes)]
        state = _to_numpy(global_state)
        pending = [self._pool.submit(_train_clients, state, chunk) for chunk in chunks if chunk]
        done = [p.result() for p in pending]
        states = [None] * len(jobs)
        for i, chunk_states in enumerate(done):
            states[i :: self.processes] = [_to_torch(s) for s in chunk_states]
        return states

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
