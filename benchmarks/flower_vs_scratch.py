"""The same FedAvg rounds on Flower's simulation engine and on ``ppml_helpers.fl``, side by side.

Notebook 01's 10-client project (2NN, IID, every client every round, E=1, B=10):
Flower through ``run_simulation`` (the app in ``flower_app/``: ServerApp in this
process, ClientApps in Ray workers), and ``fl.run_fedavg`` in this process, the
clients one after another (the same work Flower's nodes do) and vectorised (the
batched matrix products notebook 01 uses by default). Both sides follow the same
batches from the same initial model, so the accuracies printed must agree.

Flower is timed twice, with 0 rounds (starting the engine, loading the data, the
initial evaluation) and with ``--rounds``; their difference is what the rounds cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1] / "flower_app"
sys.path.insert(0, str(APP_DIR))

from ppml_flower.simulation import accuracies, simulate  # noqa: E402

from ppml_helpers import fl  # noqa: E402
from ppml_helpers.data import load_mnist, partition_iid  # noqa: E402
from ppml_helpers.models import MLP  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--train", type=int, default=30_000, help="training examples split over the clients")
    args = parser.parse_args()
    config = {"fraction-train": 1.0, "model": "2NN", "partitioner": "iid", "train-examples": args.train,
              "local-epochs": 1, "batch-size": 10, "lr": 0.05, "seed": 0, "strategy": "fedavg"}

    timings, curves = {}, {}
    for rounds in (0, args.rounds):
        t0 = time.perf_counter()
        result = simulate(config | {"num-server-rounds": rounds}, num_supernodes=args.clients)["fedavg"]
        timings[f"flower {rounds}"] = time.perf_counter() - t0
    curves["flower"] = accuracies(result)  # the last run's, with --rounds rounds

    x, y = load_mnist("train")
    train, test = (x[:args.train], y[:args.train]), load_mnist("test")
    parts = partition_iid(train[1], args.clients, seed=0)
    for name, vectorise in (("sequential", False), ("vectorised", "auto")):
        t0 = time.perf_counter()
        run = fl.run_fedavg(MLP, train, parts, test, rounds=args.rounds, client_fraction=1.0, local_epochs=1,
                            batch_size=10, lr=0.05, seed=0, vectorise=vectorise, progress=False)
        timings[name] = time.perf_counter() - t0
        curves[name] = run.accuracy

    flower_rounds = timings[f"flower {args.rounds}"] - timings["flower 0"]
    print(f"\n{args.rounds} rounds, {args.clients} clients, {args.train:,} examples, 2NN, E=1, B=10")
    print(f"{'path':<38}{'seconds':>9}{'vs sequential':>15}")
    rows = [
        ("Flower run_simulation, whole run", timings[f"flower {args.rounds}"]),
        ("Flower, engine start-up (0 rounds)", timings["flower 0"]),
        ("Flower, the rounds (difference)", flower_rounds),
        ("ppml_helpers.fl, sequential clients", timings["sequential"]),
        ("ppml_helpers.fl, vectorised clients", timings["vectorised"]),
    ]
    for label, seconds in rows:
        print(f"{label:<38}{seconds:>9.2f}{seconds / timings['sequential']:>14.2f}x")
    print("accuracy per round:")
    for name, curve in curves.items():
        print(f"  {name:<11} " + " ".join(f"{a:.4f}" for a in curve))


if __name__ == "__main__":
    main()
