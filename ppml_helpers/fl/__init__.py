"""Federated learning from scratch: FedAvg, FedSGD, FedProx, and update compression.

``ph.fl.fedavg`` averages state dicts, ``ph.fl.run_fedavg`` runs whole
simulations. Introduced in ``01_federated_averaging``.
"""

from .aggregate import fedavg, state_bytes
from .client import (
    batch_plan,
    client_generator,
    client_update,
    clients_update_vectorised,
    stacked_layers,
)
from .compress import Compressed, Int8Quantizer, NoCompression, TopK
from .parallel import ClientPool, available_cpus
from .simulate import FedAvgResult, RoundRecord, num_sampled, run_fedavg

__all__ = [
    "ClientPool",
    "Compressed",
    "FedAvgResult",
    "Int8Quantizer",
    "NoCompression",
    "RoundRecord",
    "TopK",
    "available_cpus",
    "batch_plan",
    "client_generator",
    "client_update",
    "clients_update_vectorised",
    "fedavg",
    "num_sampled",
    "run_fedavg",
    "stacked_layers",
    "state_bytes",
]
