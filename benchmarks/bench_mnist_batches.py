"""Why `load_mnist` returns two tensors: one epoch of batches, side by side.

(a) torchvision's usual pipeline: `MNIST(transform=ToTensor())` in a `DataLoader`,
    which builds a PIL image and converts it for every example;
(b) the course's: the whole split as one tensor, batches by indexing
    (`ppml_helpers.train.batches`).
Both produce identical batches (checked below); the ratio is printed.
"""

from __future__ import annotations

import time

import torch
from torch.utils.data import DataLoader
from torchvision import transforms
from torchvision.datasets import MNIST

from ppml_helpers.config import data_dir
from ppml_helpers.data import load_mnist
from ppml_helpers.train import batches

BATCH = 64
LIMIT = 20_000  # examples per epoch, to keep the run short


def torchvision_epoch(ds) -> int:
    loader = DataLoader(torch.utils.data.Subset(ds, range(LIMIT)), batch_size=BATCH, shuffle=False)
    n = 0
    for xb, _ in loader:
        n += len(xb)
    return n


def tensor_epoch(x, y) -> int:
    n = 0
    for xb, _ in batches((x[:LIMIT], y[:LIMIT]), batch_size=BATCH, shuffle=False):
        n += len(xb)
    return n


def main() -> None:
    root = data_dir()
    ds = MNIST(root=str(root), train=True, download=True, transform=transforms.ToTensor())
    x, y = load_mnist("train", data_dir=root)
    first = next(iter(DataLoader(ds, batch_size=BATCH)))[0]
    if not torch.equal(first, x[:BATCH]):
        raise RuntimeError("the two pipelines gave different pixels")
    timings = {}
    for name, fn in (("torchvision Dataset + DataLoader", lambda: torchvision_epoch(ds)),
                     ("one tensor, indexed batches", lambda: tensor_epoch(x, y))):
        start = time.perf_counter()
        n = fn()
        timings[name] = time.perf_counter() - start
        print(f"{name:<34} {n:,} examples in {timings[name]:.3f} s")
    a, b = timings.values()
    print(f"ratio: tensor batches are {a / b:.0f}x faster than the per-example pipeline")


if __name__ == "__main__":
    main()
