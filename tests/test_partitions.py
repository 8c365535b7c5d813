"""ppml_helpers.data.partitions: IID, Dirichlet and shard splits among federated clients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ppml_helpers.data import (
    load_mnist,
    partition_dirichlet,
    partition_iid,
    partition_shards,
    partition_summary,
)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # data README


@pytest.fixture(scope="module")
def mnist_labels(data_dir) -> np.ndarray:
    _, labels = load_mnist("train", data_dir=data_dir, download=False)
    return labels.numpy()


def _covers_each_index_once(parts, n: int) -> bool:
    joined = np.concatenate(parts)
    return len(joined) == n and np.array_equal(np.sort(joined), np.arange(n))


def _mean_max_share(labels, parts) -> float:
    """Mean over clients of the fraction of its examples that carry its most common label."""
    return float(np.mean([np.bincount(labels[p]).max() / len(p) for p in parts]))


# --- cover-once property (hypothesis) ------------------------------------------------


@st.composite
def label_arrays(draw, min_size: int = 1):
    n = draw(st.integers(min_size, 300))
    num_classes = draw(st.integers(1, 12))
    return draw(arrays(np.int64, n, elements=st.integers(0, num_classes - 1)))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), labels=label_arrays(), seed=st.integers(0, 2**32 - 1))
def test_iid_covers_every_index_once(data, labels, seed):
    k = data.draw(st.integers(1, len(labels)), label="num_clients")
    parts = partition_iid(labels, k, seed=seed)
    assert len(parts) == k
    assert _covers_each_index_once(parts, len(labels))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), labels=label_arrays(), seed=st.integers(0, 2**32 - 1))
def test_iid_sizes_differ_by_at_most_one(data, labels, seed):
    k = data.draw(st.integers(1, len(labels)), label="num_clients")
    sizes = [len(p) for p in partition_iid(labels, k, seed=seed)]
    assert max(sizes) - min(sizes) <= 1


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    labels=label_arrays(),
    alpha=st.floats(0.01, 100.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_dirichlet_covers_every_index_once(data, labels, alpha, seed):
    k = data.draw(st.integers(1, min(len(labels), 30)), label="num_clients")
    parts = partition_dirichlet(labels, k, alpha=alpha, seed=seed, min_size=0)
    assert len(parts) == k
    assert _covers_each_index_once(parts, len(labels))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), labels=label_arrays(), seed=st.integers(0, 2**32 - 1))
def test_shards_cover_every_index_once_and_bound_labels(data, labels, seed):
    n, num_classes = len(labels), len(np.unique(labels))
    spc = data.draw(st.integers(1, 4), label="shards_per_client")
    lo = -(-num_classes // spc)  # enough shards for every class
    hi = n // spc  # no more shards than examples
    assume(lo <= hi)
    k = data.draw(st.integers(lo, hi), label="num_clients")
    parts = partition_shards(labels, k, shards_per_client=spc, seed=seed)
    assert len(parts) == k
    assert _covers_each_index_once(parts, n)
    assert max(len(np.unique(labels[p])) for p in parts) <= spc


@pytest.mark.parametrize("partition", ["iid", "dirichlet", "shards"])
def test_parts_are_sorted_int_arrays(partition, mnist_labels):
    parts = _split(partition, mnist_labels, seed=0)
    assert all(np.issubdtype(p.dtype, np.integer) and np.all(np.diff(p) > 0) for p in parts)


# --- IID ------------------------------------------------------------------------------


def test_iid_mnist_100_clients_600_each(mnist_labels):
    parts = partition_iid(mnist_labels, 100, seed=0)
    assert {len(p) for p in parts} == {600}


def test_iid_accepts_torch_labels(mnist_labels):
    from_numpy = partition_iid(mnist_labels, 7, seed=3)
    from_torch = partition_iid(torch.from_numpy(mnist_labels), 7, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(from_numpy, from_torch, strict=True))


# --- Dirichlet ------------------------------------------------------------------------


def test_dirichlet_skew_grows_as_alpha_falls(mnist_labels):
    shares = [
        _mean_max_share(mnist_labels, partition_dirichlet(mnist_labels, 100, alpha=a, seed=0))
        for a in (100.0, 1.0, 0.1)
    ]
    assert shares[0] < shares[1] < shares[2]


def test_dirichlet_large_alpha_is_near_iid(mnist_labels):
    # With alpha = 100 every client's label mix is close to the overall one
    # (largest class share 6742/60000 = 0.112); allow 0.05 of sampling slack.
    share = _mean_max_share(
        mnist_labels, partition_dirichlet(mnist_labels, 100, alpha=100.0, seed=0)
    )
    assert share < max(MNIST_TRAIN_COUNTS) / sum(MNIST_TRAIN_COUNTS) + 0.05


def test_dirichlet_without_min_size_can_leave_tiny_clients(mnist_labels):
    # The draw used below binds: with no floor some client gets fewer than 10 examples.
    parts = partition_dirichlet(mnist_labels, 100, alpha=0.1, seed=1, min_size=0)
    assert min(len(p) for p in parts) < 10


@pytest.mark.parametrize("min_size", [10, 20])
def test_dirichlet_min_size_respected(mnist_labels, min_size):
    parts = partition_dirichlet(mnist_labels, 100, alpha=0.1, seed=1, min_size=min_size)
    assert min(len(p) for p in parts) >= min_size


def test_dirichlet_min_size_unreachable_raises_after_max_tries():
    labels = np.repeat(np.arange(2), 10)  # 20 examples, 2 clients: each needs all 10 of its share
    with pytest.raises(ValueError, match="min_size"):
        partition_dirichlet(labels, 2, alpha=0.01, seed=0, min_size=10, max_tries=3)


# --- shards ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_shards(mnist_labels):
    return partition_shards(mnist_labels, 100, shards_per_client=2, seed=0)


def test_shards_mnist_at_most_two_labels(mnist_labels, mnist_shards):
    assert max(len(np.unique(mnist_labels[p])) for p in mnist_shards) <= 2


def test_shards_mnist_every_index_once(mnist_labels, mnist_shards):
    assert len(mnist_shards) == 100
    assert _covers_each_index_once(mnist_shards, len(mnist_labels))


def test_shards_mnist_sizes_near_600(mnist_shards):
    # 200 shards of 60,000 / 200 = 300 in the paper; shards here stay inside one label,
    # so sizes vary by a few percent. Tolerance: within 10 % of 600.
    sizes = np.array([len(p) for p in mnist_shards])
    assert np.all(np.abs(sizes - 600) <= 60)


def test_shards_one_per_client_gives_one_label(mnist_labels):
    parts = partition_shards(mnist_labels, 10, shards_per_client=1, seed=0)
    assert [len(np.unique(mnist_labels[p])) for p in parts] == [1] * 10
    assert sorted(len(p) for p in parts) == sorted(MNIST_TRAIN_COUNTS)


@pytest.mark.parametrize(
    ("labels", "num_clients"),
    [(np.array([0] + [1] * 99), 50), (np.array([0, 1] + [2] * 98), 50)],
    ids=["one_rare_class", "two_rare_classes"],
)
def test_shards_are_never_empty(labels, num_clients):
    # total shards == n is allowed, so every shard can hold at least one example; a class
    # must never get more shards than it has examples. Every client then holds at least
    # shards_per_client examples.
    parts = partition_shards(labels, num_clients, shards_per_client=2, seed=0)
    assert min(len(p) for p in parts) >= 2


# --- bad inputs -----------------------------------------------------------------------

PARTITIONERS = {
    "iid": lambda y, k, seed: partition_iid(y, k, seed=seed),
    "dirichlet": lambda y, k, seed: partition_dirichlet(y, k, alpha=0.5, seed=seed, min_size=0),
    "shards": lambda y, k, seed: partition_shards(y, k, shards_per_client=2, seed=seed),
}


def _split(name, labels, seed, k: int = 10):
    return PARTITIONERS[name](labels, k, seed)


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
@pytest.mark.parametrize(
    ("labels", "error"),
    [
        (np.zeros((10, 2), dtype=np.int64), ValueError),  # 2-D
        (np.array([], dtype=np.int64), ValueError),  # empty
        (np.linspace(0, 9, 50), TypeError),  # float class ids
        (np.array([True, False] * 10), TypeError),  # bool is not a class id
    ],
    ids=["2d", "empty", "float", "bool"],
)
def test_bad_labels_raise_naming_labels(name, labels, error):
    with pytest.raises(error, match="labels"):
        PARTITIONERS[name](labels, 2, 0)


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
@pytest.mark.parametrize(
    ("k", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (101, ValueError),
        (2.0, TypeError),
        (True, TypeError),
        ("2", TypeError),
    ],
)
def test_bad_num_clients_raise_naming_num_clients(name, k, error):
    labels = np.arange(100) % 2
    with pytest.raises(error, match="num_clients"):
        PARTITIONERS[name](labels, k, 0)


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
def test_num_clients_equal_to_n_is_allowed(name):
    labels = np.arange(40) % 4
    parts = (
        PARTITIONERS[name](labels, 20, 0) if name == "shards" else PARTITIONERS[name](labels, 40, 0)
    )
    assert _covers_each_index_once(parts, 40)


def test_num_clients_numpy_integer_accepted():
    parts = partition_iid(np.arange(10) % 2, np.int64(3), seed=0)
    assert len(parts) == 3


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), float("inf")])
def test_dirichlet_bad_alpha_raises_naming_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        partition_dirichlet(np.arange(100) % 10, 5, alpha=alpha, seed=0)


@pytest.mark.parametrize("min_size", [-1, 21])
def test_dirichlet_impossible_min_size_raises_naming_min_size(min_size):
    # 100 examples, 5 clients: min_size must lie in [0, 20].
    with pytest.raises(ValueError, match="min_size"):
        partition_dirichlet(np.arange(100) % 10, 5, alpha=1.0, seed=0, min_size=min_size)


def test_shards_fewer_than_classes_raise_naming_shards_per_client():
    labels = np.arange(100) % 10
    with pytest.raises(ValueError, match="shards_per_client"):
        partition_shards(labels, 4, shards_per_client=2, seed=0)  # 8 shards, 10 classes


@pytest.mark.parametrize(
    ("spc", "error"), [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)]
)
def test_shards_bad_shards_per_client_raise(spc, error):
    with pytest.raises(error, match="shards_per_client"):
        partition_shards(np.arange(100) % 2, 5, shards_per_client=spc, seed=0)


def test_shards_more_shards_than_examples_raise():
    labels = np.arange(10)  # 10 examples, 10 classes; 10 clients x 2 = 20 shards
    with pytest.raises(ValueError, match="shards"):
        partition_shards(labels, 10, shards_per_client=2, seed=0)


# --- seeds ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
def test_same_seed_same_split(name, mnist_labels):
    a, b = _split(name, mnist_labels, seed=5), _split(name, mnist_labels, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
def test_different_seed_different_split(name, mnist_labels):
    a, b = _split(name, mnist_labels, seed=5), _split(name, mnist_labels, seed=6)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
def test_numpy_generator_state_untouched(name, mnist_labels):
    np.random.seed(0)
    expected = np.random.rand()
    np.random.seed(0)
    _split(name, mnist_labels, seed=1)
    assert np.random.rand() == expected


# --- summary --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PARTITIONERS))
def test_summary_counts_match_bincount(name, mnist_labels):
    parts = _split(name, mnist_labels, seed=2)
    summary = partition_summary(mnist_labels, parts)
    expected = np.stack([np.bincount(mnist_labels[p], minlength=10) for p in parts])
    assert np.array_equal(summary[list(range(10))].to_numpy(), expected)
    assert summary["total"].tolist() == [len(p) for p in parts]


def test_summary_columns_sum_to_class_counts(mnist_labels):
    summary = partition_summary(mnist_labels, partition_iid(mnist_labels, 13, seed=0))
    assert summary[list(range(10))].sum().tolist() == MNIST_TRAIN_COUNTS


def test_summary_layout():
    summary = partition_summary(np.array([0, 2, 2, 5]), [np.array([0, 1]), np.array([2, 3])])
    assert list(summary.columns) == [0, 2, 5, "total"]
    assert summary.index.name == "client"
    assert summary.to_numpy().tolist() == [[1, 1, 0, 2], [0, 1, 1, 2]]


@pytest.mark.parametrize("bad", [np.array([0, 4]), np.array([-1])])
def test_summary_out_of_range_index_raises_naming_parts(bad):
    with pytest.raises(ValueError, match="parts"):
        partition_summary(np.array([0, 1, 1, 0]), [np.array([0]), bad])


@pytest.mark.parametrize(
    "call",
    [
        lambda y: partition_iid(y, 2, seed=None),
        lambda y: partition_dirichlet(y, 2, alpha=1.0, seed=None),
        lambda y: partition_shards(y, 2, seed=-1),
    ],
    ids=["iid", "dirichlet", "shards"],
)
def test_partitions_need_an_explicit_seed(call):
    with pytest.raises(ValueError, match="seed"):
        call(np.arange(20) % 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"alpha": "1"}, "alpha"), ({"alpha": None}, "alpha"), ({"min_size": 2.5}, "min_size"),
     ({"max_tries": 0}, "max_tries")],
)
def test_dirichlet_bad_argument_types(kwargs, match):
    args = {"alpha": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        partition_dirichlet(np.arange(20) % 2, 2, seed=0, **args)
