"""Run the app on Flower's simulation engine from Python (a notebook, a test, a benchmark).

``flwr run flower_app`` does the same from a shell. Here the ServerApp runs in the
caller's process (so its results come back as Python objects) and the ClientApps in
Ray workers, which import ``ppml_flower`` from ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from pathlib import Path

from flwr.serverapp.strategy import Result
from flwr.simulation import run_simulation

from ppml_flower import client_app, server_app

APP_DIR = Path(__file__).resolve().parent.parent


def simulate(overrides: dict, *, num_supernodes: int) -> dict[str, Result]:
    """Run the app with ``overrides`` on its run config; return ``{strategy: Flower's Result}``.

    Each call starts (and stops) the simulation engine: 20-30 s on a 2-core laptop.
    """
    path = os.environ.get("PYTHONPATH", "")
    if str(APP_DIR) not in path.split(os.pathsep):  # Ray's workers import the app from here
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(APP_DIR), path) if p)
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")  # no GPUs; silences Ray's notice
    results: list[dict[str, Result]] = []
    run_simulation(
        server_app=server_app.make_server_app(overrides, on_result=results.append),
        client_app=client_app.make_client_app(overrides),
        num_supernodes=num_supernodes,
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
    )
    if len(results) != 1:
        raise RuntimeError("the ServerApp did not finish: see the log above for the first error.")
    return results[0]


def accuracies(result: Result) -> list[float]:
    """Test accuracy after rounds 1, 2, … (the ServerApp's central evaluation; round 0 dropped)."""
    metrics = result.evaluate_metrics_serverapp
    return [float(metrics[r]["accuracy"]) for r in sorted(metrics) if r >= 1]


def federated_accuracies(result: Result) -> list[float]:
    """Federated evaluation: the nodes' accuracy on their local test sets after rounds 1, 2, …,
    averaged with weights ``num-examples`` (empty when ``fraction-evaluate`` was 0)."""
    metrics = result.evaluate_metrics_clientapp
    return [float(metrics[r]["accuracy"]) for r in sorted(metrics)]


def client_accuracies(result: Result, server_round: int | None = None) -> dict[int, float]:
    """Federated evaluation: ``{partition-id: accuracy on its local test set}`` for one round
    (default the last); only the nodes sampled to evaluate appear."""
    metrics = result.evaluate_metrics_clientapp
    if not metrics:
        raise ValueError("the result holds no federated evaluation: run with fraction-evaluate > 0.")
    record = metrics[max(metrics) if server_round is None else server_round]
    return dict(zip((int(p) for p in record["client-partition-id"]),
                    (float(a) for a in record["client-accuracy"]), strict=True))
