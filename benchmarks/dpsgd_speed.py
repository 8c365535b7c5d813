"""One MNIST epoch of SmallCNN (26,010 parameters, tanh) trained three ways, side by side:
non-private minibatch SGD (batch 256, the loop of `ph.train.fit`), Opacus
(`PrivacyEngine.make_private` with Poisson sampling at q = 256/60000 from its
DPDataLoader, RDP accountant), and our DP-SGD (`ppml_helpers.dp.sgd`: the loop of
`train_dp_sgd`, the same σ, C and q, our RDP accountant, seeded NoiseSource).

Also timed: Opacus's step alone (`GradSampleModule` + `DPOptimizer` on batches
indexed from tensors, as ours are), which separates its per-example gradient
cost from its DataLoader's (a DataLoader over a TensorDataset fetches and
stacks the 256 examples one by one); and Opacus's fastest mode, ghost clipping
(`make_private(..., grad_sample_mode="ghost")`, the same indexed batches): it
computes each example's gradient norm without materialising the gradient where
a layer has a norm sampler (Linear here; SmallCNN's convolutions fall back to
per-example gradients), then a second backward pass with the clipping
weights. "Ours / Opacus" is also printed against the fastest Opacus path.

Prints the seconds per epoch (or per the `--fraction` of it that was timed), the
ratios ours/Opacus and each/non-private. The paths alternate in each repeat
so that all of them see the same machine; the best repeat is kept.
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ppml_helpers.config import data_dir
from ppml_helpers.data import load_mnist
from ppml_helpers.dp.noise import NoiseSource
from ppml_helpers.dp.rdp import RDPAccountant
from ppml_helpers.dp.sgd import dp_sgd_step, poisson_sample, steps_per_epoch
from ppml_helpers.models import SmallCNN
from ppml_helpers.train import batches

BATCH, SIGMA, CLIP, LR = 256, 1.0, 1.0, 0.5


def non_private(x, y, steps: int) -> float:
    torch.manual_seed(0)
    model = SmallCNN()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    t0 = time.perf_counter()
    it = batches((x, y), batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(0))
    for _, (xb, yb) in zip(range(steps), it, strict=False):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - t0


def opacus_engine(x, y, steps: int) -> float:
    from opacus import PrivacyEngine

    torch.manual_seed(0)
    model = SmallCNN()
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH)
    engine = PrivacyEngine(accountant="rdp")
    model, opt, loader = engine.make_private(
        module=model, optimizer=torch.optim.SGD(model.parameters(), lr=LR), data_loader=loader,
        noise_multiplier=SIGMA, max_grad_norm=CLIP, poisson_sampling=True,
    )
    t0 = time.perf_counter()
    for _, (xb, yb) in zip(range(steps), loader, strict=False):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - t0


def opacus_step_only(x, y, steps: int) -> float:
    from opacus import GradSampleModule
    from opacus.accountants import RDPAccountant as OpacusRDP
    from opacus.optimizers import DPOptimizer

    torch.manual_seed(0)
    model = GradSampleModule(SmallCNN())
    q = BATCH / len(x)
    opt = DPOptimizer(torch.optim.SGD(model.parameters(), lr=LR), noise_multiplier=SIGMA,
                      max_grad_norm=CLIP, expected_batch_size=BATCH)
    acc, gen = OpacusRDP(), torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = poisson_sample(len(x), sample_rate=q, generator=gen)
        opt.zero_grad()
        F.cross_entropy(model(x[idx]), y[idx]).backward()
        opt.step()
        acc.step(noise_multiplier=SIGMA, sample_rate=q)
    return time.perf_counter() - t0


def opacus_ghost(x, y, steps: int) -> float:
    from opacus import PrivacyEngine

    torch.manual_seed(0)
    model = SmallCNN()
    q = BATCH / len(x)
    engine = PrivacyEngine(accountant="rdp")
    model, opt, criterion, _ = engine.make_private(
        module=model, optimizer=torch.optim.SGD(model.parameters(), lr=LR),
        data_loader=DataLoader(TensorDataset(x, y), batch_size=BATCH), criterion=torch.nn.CrossEntropyLoss(),
        noise_multiplier=SIGMA, max_grad_norm=CLIP, poisson_sampling=True, grad_sample_mode="ghost",
    )
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = poisson_sample(len(x), sample_rate=q, generator=gen)
        opt.zero_grad()
        criterion(model(x[idx]), y[idx]).backward()
        opt.step()
    return time.perf_counter() - t0


def ours(x, y, steps: int) -> float:
    torch.manual_seed(0)
    model = SmallCNN()
    model.train()
    q = BATCH / len(x)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    noise, acc, gen = NoiseSource(seed=0), RDPAccountant(), torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = poisson_sample(len(x), sample_rate=q, generator=gen)
        dp_sgd_step(model, opt, x[idx], y[idx], noise_multiplier=SIGMA, max_grad_norm=CLIP,
                    expected_batch_size=q * len(x), noise=noise)
        acc.step(noise_multiplier=SIGMA, sample_rate=q)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="time this fraction of an epoch's steps (default 1: a full epoch)")
    parser.add_argument("--repeats", type=int, default=2, help="timed repeats per path; best kept")
    args = parser.parse_args()
    if not 0 < args.fraction <= 1:
        parser.error(f"--fraction must lie in (0, 1]. Got {args.fraction}.")
    warnings.filterwarnings("ignore", message="Full backward hook is firing")  # Opacus, harmless
    warnings.filterwarnings("ignore", message=".*[Ss]ecure.*")  # Opacus: secure_mode is off
    x, y = load_mnist("train", data_dir=data_dir())
    q = BATCH / len(x)
    steps = {  # steps in a full epoch for each path
        "non-private SGD": -(-len(x) // BATCH),
        "Opacus make_private": len(DataLoader(TensorDataset(x, y), batch_size=BATCH)),
        "Opacus step only": steps_per_epoch(q),
        "Opacus ghost clipping": steps_per_epoch(q),
        "ours (dp.sgd)": steps_per_epoch(q),
    }
    timed = {k: max(1, round(args.fraction * v)) for k, v in steps.items()}
    paths = {"non-private SGD": non_private, "Opacus make_private": opacus_engine,
             "Opacus step only": opacus_step_only, "Opacus ghost clipping": opacus_ghost,
             "ours (dp.sgd)": ours}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; SmallCNN on MNIST "
          f"({len(x)} examples), batch {BATCH} (DP: Poisson, q = {BATCH}/{len(x)}), "
          f"σ = {SIGMA}, C = {CLIP}")
    what = "one full epoch" if args.fraction == 1 else f"{args.fraction:g} of an epoch"
    print(f"timed: {what} per path, best of {args.repeats}; steps: "
          + ", ".join(f"{k} {timed[k]}/{steps[k]}" for k in paths))
    for fn in paths.values():  # warm-up: first calls allocate and pick kernels
        fn(x, y, 3)
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(args.repeats):
        for name, fn in paths.items():
            best[name] = min(best[name], fn(x, y, timed[name]))
    base, opacus = best["non-private SGD"], best["Opacus make_private"]
    for name, seconds in best.items():
        per_step = 1000 * seconds / timed[name]
        print(f"{name:>20}: {seconds:7.2f} s ({per_step:5.1f} ms/step) = "
              f"{seconds / base:4.2f}x non-private, {seconds / opacus:4.2f}x Opacus make_private")
    opacus_paths = [k for k in best if k.startswith("Opacus")]
    fastest = min(opacus_paths, key=lambda k: best[k] / timed[k])
    print(f"ours / Opacus: {best['ours (dp.sgd)'] / opacus:.2f} (make_private), "
          f"{best['ours (dp.sgd)'] / best['Opacus step only']:.2f} (step only), "
          f"{best['ours (dp.sgd)'] / best['Opacus ghost clipping']:.2f} (ghost clipping); "
          f"against Opacus's fastest mode here ({fastest}), per step: "
          f"{(best['ours (dp.sgd)'] / timed['ours (dp.sgd)']) / (best[fastest] / timed[fastest]):.2f}")


if __name__ == "__main__":
    main()
