"""One FedAvg round with 10 sampled clients (E=5, B=10, 600 examples each), side by side:
the clients trained one after another (`client_update`), all at once
(`clients_update_vectorised`: batched matrix products for the 2NN, torch.func.vmap
for the CNN), and one after another in worker processes with one thread each
(`fl.parallel.ClientPool`, one per core), for McMahan et al.'s 2NN and CNN.

Prints the times, the ratios to the sequential path, and the largest difference
between the models the paths produce (they follow the same batches, so it is
float rounding). The pool's start-up (spawning workers, once per run) is printed
apart from its round time.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import OrderedDict

import torch

from ppml_helpers import fl
from ppml_helpers.config import data_dir
from ppml_helpers.data import load_mnist, partition_iid
from ppml_helpers.models import MLP, McMahanCNN


def one_round(model, data, plans, *, lr: float, vectorised: bool):
    start = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    t0 = time.perf_counter()
    if vectorised:
        states = fl.clients_update_vectorised(model, data, plans, lr=lr)
    else:
        states = []
        for (x, y), plan in zip(data, plans, strict=True):
            model.load_state_dict(start)
            states.append(fl.client_update(model, x, y, plan, lr=lr))
        model.load_state_dict(start)
    seconds = time.perf_counter() - t0
    return fl.fedavg(states, [len(d[1]) for d in data]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5, help="local epochs E (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per path; best kept")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2,
                        help="worker processes for the pool path (default: one per core)")
    args = parser.parse_args()
    x, y = load_mnist("train", data_dir=data_dir())
    parts = partition_iid(y, 100, seed=0)
    data = [(x[parts[c]], y[parts[c]]) for c in range(10)]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"10 clients x 600 examples, E={args.epochs}, B=10")
    for name, make in (("2NN", MLP), ("CNN", McMahanCNN)):
        torch.manual_seed(0)
        model = make()
        plans = [
            fl.batch_plan(600, local_epochs=args.epochs, batch_size=10, generator=fl.client_generator(0, 1, c))
            for c in range(10)
        ]
        repeats = args.repeats if name == "2NN" else 1  # a CNN round takes about a minute
        t_seq = t_vec = float("inf")
        for _ in range(repeats):  # alternate the two paths so both see the same machine
            seq, t = one_round(model, data, plans, lr=0.05, vectorised=False)
            t_seq = min(t_seq, t)
            vec, t = one_round(model, data, plans, lr=0.05, vectorised=True)
            t_vec = min(t_vec, t)
        t0 = time.perf_counter()
        with fl.ClientPool(args.processes, make, (x, y), lr=0.05) as pool:
            t_spawn = time.perf_counter() - t0
            start = model.state_dict()
            t_pool = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                states = pool.train(start, [(parts[c], plans[c]) for c in range(10)])
                t_pool = min(t_pool, time.perf_counter() - t0)
        pooled = fl.fedavg(states, [len(d[1]) for d in data])
        diff = max(float((seq[k] - other[k]).abs().max()) for other in (vec, pooled) for k in seq)
        engine = "bmm" if fl.stacked_layers(model) is not None else "vmap"
        print(f"{name}: sequential {t_seq:6.2f} s, vectorised ({engine}) {t_vec:6.2f} s = "
              f"{t_seq / t_vec:4.2f}x, {args.processes} processes {t_pool:6.2f} s = {t_seq / t_pool:4.2f}x "
              f"(+{t_spawn:.1f} s start-up; best of {repeats}), max |difference| {diff:.1e}")


if __name__ == "__main__":
    main()
