"""ppml_helpers.secagg.flower: Flower's SecAgg+ (run_simulation, Ray) sums our vectors as simulate does."""

from __future__ import annotations

import os

import numpy as np

from ppml_helpers import secagg
from ppml_helpers.secagg.flower import secaggplus_apps

N, D, CLIP = 5, 200, 1.0


def vector_of(pid: int) -> np.ndarray:
    return np.random.default_rng([11, pid]).uniform(-CLIP, CLIP, D)


def test_flowers_secaggplus_sum_matches_ours_within_quantisation():
    # Arrange
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    from flwr.server.workflow import SecAggPlusWorkflow
    from flwr.simulation import run_simulation

    rounds: list[tuple[np.ndarray, int]] = []
    workflow = SecAggPlusWorkflow(num_shares=N, reconstruction_threshold=3, clipping_range=CLIP, max_weight=1.0)
    server_app, client_app = secaggplus_apps(vector_of, num_clients=N, length=D, workflow=workflow,
                                             on_round=lambda mean, failures: rounds.append((mean, failures)))
    updates = np.stack([vector_of(p) for p in range(N)])

    # Act
    run_simulation(server_app=server_app, client_app=client_app, num_supernodes=N,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    ours = secagg.simulate(updates, threshold=3, neighbours=4, clip_range=CLIP, bits=32, frac_bits=21, seed=0)

    # Assert
    assert len(rounds) == 1, "the ServerApp did not finish its round"
    mean, failures = rounds[0]
    assert failures == 0 and mean.shape == (D,)
    flower_sum = mean * N
    # Flower rounds stochastically to steps of 2c / 2^22 (after float32); ours to the nearest 2^-21.
    step = 2 * CLIP / 2**22
    assert np.abs(flower_sum - updates.sum(0)).max() <= N * (step + 1e-7)
    assert np.abs(flower_sum - ours.sum).max() <= N * (step + 2**-22 + 1e-7)
    # and it is not trivially close: a sum that skipped one client would be far off
    assert np.abs(flower_sum - updates[1:].sum(0)).max() > 0.5
