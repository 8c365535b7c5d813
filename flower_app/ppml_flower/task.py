"""The task both apps share, built from ``ppml_helpers`` (models, MNIST, partitions,
the client update, the attacks) so Flower and notebook 01 train exactly the same thing,
and each node's local test set for federated evaluation."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import torch

from ppml_helpers import fl
from ppml_helpers.data import load_mnist, partition_dirichlet, partition_iid, partition_shards
from ppml_helpers.models import MLP, McMahanCNN

MODELS = {"2NN": MLP, "CNN": McMahanCNN}
PARTITIONERS = ("iid", "dirichlet", "shards")
ATTACKS = ("none", "sign-flip", "label-flip", "alie")
APP_DIR = Path(__file__).resolve().parent.parent


@functools.cache
def default_config() -> dict:
    """The run config in the app's ``pyproject.toml`` (``[tool.flwr.app.config]``)."""
    with open(APP_DIR / "pyproject.toml", "rb") as f:
        return dict(tomllib.load(f)["tool"]["flwr"]["app"]["config"])


def resolve_config(run_config, overrides=None) -> dict:
    """The app's defaults, then the run's config (``flwr run --run-config``), then ``overrides``
    (what a notebook passes to ``make_client_app``/``make_server_app``; ``run_simulation``
    itself carries no run config)."""
    defaults = default_config()
    unknown = sorted(set(overrides or {}) - set(defaults))
    if unknown:
        raise ValueError(f"unknown run-config keys {unknown}; the app knows {sorted(defaults)}.")
    return defaults | dict(run_config or {}) | dict(overrides or {})


def make_model(name: str) -> torch.nn.Module:
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}. Got {name!r}.")
    return MODELS[name]()


@functools.cache
def _partitions(num_partitions: int, partitioner: str, alpha: float, train_examples: int, seed: int):
    x, y = load_mnist("train")
    x, y = x[:train_examples], y[:train_examples]
    if partitioner == "iid":
        parts = partition_iid(y, num_partitions, seed=seed)
    elif partitioner == "dirichlet":
        parts = partition_dirichlet(y, num_partitions, alpha=alpha, seed=seed)
    elif partitioner == "shards":
        parts = partition_shards(y, num_partitions, shards_per_client=2, seed=seed)
    else:
        raise ValueError(f"partitioner must be one of {PARTITIONERS}. Got {partitioner!r}.")
    return x, y, parts


def load_partition(partition_id: int, num_partitions: int, *, partitioner: str = "iid", alpha: float = 0.5,
                   train_examples: int = 60_000, seed: int = 0):
    """This node's ``(x, y)``: partition ``partition_id`` of ``num_partitions``, as notebook 01 splits them."""
    if not 0 <= partition_id < num_partitions:
        raise ValueError(f"partition_id must be in [0, {num_partitions}). Got {partition_id}.")
    x, y, parts = _partitions(num_partitions, partitioner, alpha, train_examples, seed)
    idx = torch.as_tensor(parts[partition_id], dtype=torch.int64)
    return x[idx], y[idx]


@functools.cache
def _local_tests(num_partitions: int, partitioner: str, alpha: float, train_examples: int, fraction: float,
                 seed: int) -> list[torch.Tensor]:
    _, y, parts = _partitions(num_partitions, partitioner, alpha, train_examples, seed)
    pool_y = load_mnist("train")[1][train_examples:]
    pool = [torch.nonzero(pool_y == c).flatten() + train_examples for c in range(10)]  # by class, in order
    taken = [0] * 10
    out = []
    for pid, part in enumerate(parts):
        counts = torch.bincount(y[torch.as_tensor(part, dtype=torch.int64)], minlength=10).double()
        want = round(fraction * len(part))
        exact = want * counts / max(len(part), 1)
        quota = exact.floor().long()
        for c in torch.argsort(exact - quota, descending=True, stable=True)[: want - int(quota.sum())]:
            quota[c] += 1  # largest remainders: the local test set has the node's class mix
        idx = []
        for c in range(10):
            if taken[c] + int(quota[c]) > len(pool[c]):
                raise ValueError(
                    f"not enough held-out images of digit {c} for the nodes' local test sets: they come from "
                    f"the MNIST training images after the first train-examples={train_examples}, and "
                    f"local-test-fraction={fraction} of each partition needs more. Lower train-examples or "
                    f"local-test-fraction (partition {pid} of {num_partitions}).")
            idx.append(pool[c][taken[c]: taken[c] + int(quota[c])])
            taken[c] += int(quota[c])
        out.append(torch.sort(torch.cat(idx)).values)
    return out


def load_local_test(partition_id: int, num_partitions: int, *, partitioner: str = "iid", alpha: float = 0.5,
                    train_examples: int = 60_000, local_test_fraction: float = 0.1, seed: int = 0):
    """This node's held-out ``(x, y)`` for federated evaluation, apart from its training data.

    It holds ``round(local_test_fraction x`` the partition's size``)`` images with the
    partition's class mix (largest-remainder rounding per class), drawn in order from the
    MNIST training images that no node trains on (those after the first ``train_examples``),
    disjoint across nodes. The training partitions stay exactly ``load_partition``'s.

    Raises:
        ValueError: ``local_test_fraction`` not in (0, 1]; too few held-out images of a class.
    """
    if not 0 <= partition_id < num_partitions:
        raise ValueError(f"partition_id must be in [0, {num_partitions}). Got {partition_id}.")
    if not 0 < local_test_fraction <= 1:
        raise ValueError(f"local-test-fraction must be in (0, 1] (of each node's partition size). "
                         f"Got {local_test_fraction!r}.")
    idx = _local_tests(num_partitions, partitioner, alpha, train_examples, float(local_test_fraction), seed)
    x, y = load_mnist("train")
    return x[idx[partition_id]], y[idx[partition_id]]


def nodes_per_round(fraction_train: float, num_nodes: int) -> int:
    """How many nodes Flower's strategies sample to train: ``max(int(fraction x nodes), 2)``, at most all."""
    return min(num_nodes, max(int(num_nodes * fraction_train), 2))


@functools.cache
def load_test(test_examples: int = 10_000):
    x, y = load_mnist("test")
    return x[:test_examples], y[:test_examples]


def train_client(model, x, y, *, local_epochs: int, batch_size: int | None, lr: float, mu: float,
                 seed: int, server_round: int, partition_id: int):
    """``fl.client_update`` on the batches ``run_fedavg`` would draw for this client and round."""
    plan = fl.batch_plan(len(x), local_epochs=local_epochs, batch_size=batch_size,
                         generator=fl.client_generator(seed, server_round, partition_id))
    return fl.client_update(model, x, y, plan, lr=lr, mu=mu)


def attack_of(partition_id: int, num_partitions: int, *, attack: str, num_malicious: int) -> str:
    """The attack this node runs: ``attack`` for partition ids below ``num_malicious``, else "none"."""
    if attack not in ATTACKS:
        raise ValueError(f"attack must be one of {ATTACKS}. Got {attack!r}.")
    if not 0 <= num_malicious <= num_partitions:
        raise ValueError(f"num-malicious must be in [0, {num_partitions}] (the nodes). Got {num_malicious}.")
    if attack == "alie" and num_malicious < 2:
        raise ValueError(f"attack 'alie' needs num-malicious >= 2: the colluders estimate the honest "
                         f"updates' standard deviation from their own. Got {num_malicious}.")
    return attack if partition_id < num_malicious else "none"
