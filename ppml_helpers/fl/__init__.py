"""Federated learning from scratch: FedAvg, FedSGD, FedProx, update compression, and
robust aggregation against malicious clients (sign-flip, ALIE, label flipping) (``02_flower``).

``ph.fl.fedavg`` averages state dicts, ``ph.fl.run_fedavg`` runs whole
simulations. Introduced in ``01_federated_averaging``.
"""

from .aggregate import check_states, fedavg, state_bytes
from .attacks import alie, alie_z_max, flip_labels, sign_flip
from .client import (
    batch_plan,
    client_generator,
    client_update,
    clients_update_vectorised,
    stacked_layers,
)
from .compress import Compressed, Int8Quantizer, NoCompression, TopK
from .parallel import ClientPool, available_cpus
from .robust import KrumChoice, coordinate_median, krum, trimmed_mean
from .simulate import FedAvgResult, RoundRecord, num_sampled, run_fedavg

__all__ = [
    "ClientPool",
    "Compressed",
    "FedAvgResult",
    "Int8Quantizer",
    "KrumChoice",
    "NoCompression",
    "RoundRecord",
    "TopK",
    "alie",
    "alie_z_max",
    "available_cpus",
    "batch_plan",
    "check_states",
    "client_generator",
    "client_update",
    "clients_update_vectorised",
    "coordinate_median",
    "fedavg",
    "flip_labels",
    "krum",
    "num_sampled",
    "run_fedavg",
    "sign_flip",
    "stacked_layers",
    "state_bytes",
    "trimmed_mean",
]
