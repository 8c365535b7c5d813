"""Flower's SecAgg+ on given vectors: the apps that notebook 06 and ``benchmarks/secagg_speed.py`` run.

Teaching scaffolding, introduced in ``06_secure_aggregation``. Each simulated
SuperNode's ClientApp returns one fixed vector as its "trained" parameters
with weight 1, behind Flower's ``secaggplus_mod``; the ServerApp runs Flower's
legacy ``FedAvg`` inside ``DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(...))``
on a ``LegacyContext``. In flwr 1.42 the SecAgg+ workflow exists only on that
legacy strategy API: ``SecAggPlusWorkflow.__call__`` refuses any context that is
not a ``LegacyContext``, and the Message-API strategies of ``flwr.serverapp``
have no secure aggregation.

What Flower's strategy receives is the weighted mean of the unmasked,
dequantised vectors; with every weight 1 (and ``max_weight=1.0``) that is the
plain mean, so ``mean × n`` is the sum that :func:`ppml_helpers.secagg.simulate`
computes. Two facts worth knowing when comparing:

- Flower's quantiser scales each vector by round(weight / max_weight · 2^22) / 2^22
  before quantising it to 2^22 levels over the clipping range, so the default
  ``max_weight=1000`` leaves only about 4,194 levels for a weight-1 vector: a step
  about 1000 times coarser. Pass ``max_weight`` equal to the largest weight a
  client reports (here 1.0).
- Flower's masks come from ``numpy.random.RandomState`` seeded with a 32-bit
  XOR fold of the agreed 32-byte key (``secaggplus_utils.pseudo_rand_gen``):
  at most 2^32 different masks per seed. Ours use AES-256-CTR keyed with all
  32 bytes (:mod:`~ppml_helpers.secagg.prg`).

Reference: Flower's documentation of ``SecAggPlusWorkflow`` and ``secaggplus_mod``,
https://flower.ai/docs/framework/ref-api/flwr.server.workflow.SecAggPlusWorkflow.html
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["secaggplus_apps"]


def secaggplus_apps(vector_of: Callable[[int], np.ndarray], *, num_clients: int, length: int,
                    workflow, num_rounds: int = 1, on_round: Callable[[np.ndarray, int], None]):
    """A ServerApp and a ClientApp that sum fixed vectors with Flower's SecAgg+; pass both to
    ``flwr.simulation.run_simulation`` with ``num_supernodes=num_clients``.

    Args:
        vector_of: ``vector_of(partition_id)`` is that SuperNode's vector (length ``length``,
            values within the workflow's ``clipping_range``). It is pickled to Ray's workers,
            so a function that rebuilds the vector from a seed travels lighter than a closure
            over every client's data.
        num_clients: n; every SuperNode takes part in every round (no dropouts: Flower has
            no switch to drop a client).
        length: d, the vector length (the initial global parameters are d zeros).
        workflow: a ``flwr.server.workflow.SecAggPlusWorkflow`` (or a subclass, e.g. one
            that times its stages).
        num_rounds: FL rounds; each runs the four SecAgg+ stages.
        on_round: called once per round with the aggregated vector (float64: the mean
            over the clients whose masked input arrived) and the number of failures.

    Returns:
        ``(server_app, client_app)``.
    """
    from flwr.app import Context
    from flwr.client import ClientApp, NumPyClient
    from flwr.client.mod import secaggplus_mod
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server import Grid, LegacyContext, ServerApp, ServerConfig
    from flwr.server.strategy import FedAvg
    from flwr.server.workflow import DefaultWorkflow

    class FixedVectorClient(NumPyClient):
        def __init__(self, pid: int):
            self.pid = pid

        def fit(self, parameters, config):
            # Weight 1 (one example): with max_weight=1 Flower's quantiser sees the values as they are.
            return [np.asarray(vector_of(self.pid), dtype=np.float32)], 1, {}

    def client_fn(context: Context):
        return FixedVectorClient(int(context.node_config["partition-id"])).to_client()

    class KeepMean(FedAvg):
        def aggregate_fit(self, server_round, results, failures):
            aggregated = super().aggregate_fit(server_round, results, failures)
            on_round(parameters_to_ndarrays(aggregated[0])[0].astype(np.float64), len(failures))
            return aggregated

    server_app = ServerApp()

    @server_app.main()
    def main(grid: Grid, context: Context) -> None:
        strategy = KeepMean(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=num_clients,
                            min_available_clients=num_clients, fit_metrics_aggregation_fn=lambda metrics: {},
                            initial_parameters=ndarrays_to_parameters([np.zeros(length, np.float32)]))
        legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=num_rounds), strategy=strategy)
        DefaultWorkflow(fit_workflow=workflow)(grid, legacy)

    return server_app, ClientApp(client_fn=client_fn, mods=[secaggplus_mod])
