"""ALIE against the robust rules at notebook 02's full-mode attack scale, from scratch.

10 clients of 3,000 MNIST images (the first 30,000), 2 colluding, 10 rounds of the 2NN at
E = 1, B = 10, lr 0.05; ``ph.fl``'s aggregators (tested equal to Flower's). Prints each rule's
final test accuracy for each z. Notebook 02 quotes its output (section 4, "ALIE").

    python benchmarks/alie_probe.py --z none,max,1,2,5                 # colluders' own updates
    python benchmarks/alie_probe.py --z none,1,3 --omniscient          # the paper's: all honest updates
    python benchmarks/alie_probe.py --z none,1,3 --omniscient --partitioner dirichlet

About 2 minutes per z on 2 cores (one PyTorch thread).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "flower_app"))
from ppml_flower import task

from ppml_helpers import fl
from ppml_helpers.train import evaluate

N, F, TRAIN, SEED = 10, 2, 30_000, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--z", default="none,max,1", help="comma-separated: none (no attack), max (z_max) or numbers")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--omniscient", action="store_true", help="attackers see every honest update")
    parser.add_argument("--partitioner", choices=("iid", "dirichlet"), default="iid")
    parser.add_argument("--alpha", type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    parts = [task.load_partition(p, N, partitioner=args.partitioner, alpha=args.alpha, train_examples=TRAIN,
                                 seed=SEED) for p in range(N)]
    test = task.load_test(10_000)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        init = task.make_model("2NN").state_dict()
    rules = {"fedavg": lambda s, w: fl.fedavg(s, w), "fedmedian": lambda s, w: fl.coordinate_median(s),
             "fedtrimmedavg": lambda s, w: fl.trimmed_mean(s, beta=0.2),
             "krum": lambda s, w: fl.krum(s, num_malicious=F).state}
    model = task.make_model("2NN")
    print(f"{args.partitioner}, {'omniscient' if args.omniscient else 'colluders own updates'}, {args.rounds} rounds")
    for token in args.z.split(","):
        z = 0.0 if token == "none" else (None if token == "max" else float(token))
        start, row = time.time(), {}
        for name, rule in rules.items():
            g = {k: v.clone() for k, v in init.items()}
            for r in range(1, args.rounds + 1):
                states = []
                for p, (x, y) in enumerate(parts):
                    model.load_state_dict(g)
                    states.append(task.train_client(model, x, y, local_epochs=1, batch_size=10, lr=0.05, mu=0.0,
                                                    seed=SEED, server_round=r, partition_id=p))
                if z != 0.0:
                    seen = states[F:] if args.omniscient else states[:F]
                    states[:F] = [fl.alie(g, seen, num_clients=N, num_malicious=F, z=z)] * F
                g = rule(states, [len(y) for _, y in parts])
            model.load_state_dict(g)
            row[name] = round(evaluate(model, test).accuracy, 4)
        label = "no attack" if z == 0.0 else (
            f"z_max = {fl.alie_z_max(num_clients=N, num_malicious=F):.4f}" if z is None else f"z = {z:g}")
        print(label, row, f"{time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
