"""Datasets and federated partitions.

Loaders go through the standard libraries (torchvision, pandas) and read from
the data directory (``PPML_DATA_DIR`` or a user cache dir); partitioners split
a label array among simulated clients. Introduced in ``00_threat_models`` and
``01_federated_averaging``.
"""

from .loaders import (
    ADULT_FILES,
    MNIST_FILES,
    TabularData,
    dataset_status,
    download_all,
    load_adult,
    load_adult_frame,
    load_mnist,
)
from .partitions import (
    label_skew,
    partition_dirichlet,
    partition_iid,
    partition_shards,
    partition_summary,
)

__all__ = [
    "ADULT_FILES",
    "MNIST_FILES",
    "TabularData",
    "dataset_status",
    "download_all",
    "label_skew",
    "load_adult",
    "load_adult_frame",
    "load_mnist",
    "partition_dirichlet",
    "partition_iid",
    "partition_shards",
    "partition_summary",
]
