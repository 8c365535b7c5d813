"""The consortium on Flower: five hospital SuperNodes, distributed DP with Gaussian noise shares
added in the ClientApp, and Flower's SecAgg+ (``SecAggPlusWorkflow`` + ``secaggplus_mod``)
summing them. Used by notebook 08 (Flower's simulation engine) and by ``make capstone`` (a TLS
federation of separate processes, ``flower_app/capstone``).

Each round the ServerApp sends the model; each hospital reads only its own file (node config
``data-path``, or ``<data-dir>/hospital_<partition-id>.npz`` in simulation), computes the sum of
its clipped per-patient gradients, adds its share of N(0, σ²C²) (σ calibrated by the ServerApp
to the run's ε, the share sized for the declared colluders and dropouts) and returns that vector
with its training-set size appended. SecAgg+ masks, quantises and sums; the ServerApp turns the
mean Flower hands it back into the sum and takes one gradient step. After every round each
hospital scores the model on its own test split and the ServerApp prints the pooled accuracy
(Σ correct / Σ patients): ``round N: test accuracy A``.

Flower's SecAgg+ quantises each hospital's noised float vector (2^22 levels over the clipping
range) before masking, so the DP proof covers the real-valued sum and the quantisation error
is outside it; the in-process path with integer Skellam noise has no such gap. A value outside
the clipping range would be clipped silently by Flower: the ClientApp refuses to send one.
Flower has no switch to make a node drop out, and its masks come from a 32-bit seeded
``RandomState`` (see :mod:`ppml_helpers.secagg.flower`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import accounting as acc
from .data import load_hospital
from .noise import plan_shares
from .secure import safe_threshold
from .training import evaluate, gaussian_release, round_rng

__all__ = ["DEFAULT_RUN_CONFIG", "capstone_apps", "hospital_vector", "make_client_app", "make_server_app", "share_std"]

#: The Flower app's run config (``flower_app/capstone/pyproject.toml`` holds the same keys).
DEFAULT_RUN_CONFIG = {
    "num-server-rounds": 20,
    "epsilon": 3.0,
    "delta": 1e-5,
    "clip": 1.0,
    "lr": 0.5,
    "colluders": 1,
    "dropouts": 1,
    "num-patients": 569,          # public: for the check δ < 1/n
    "clipping-range": 1024.0,     # SecAgg+'s range for each coordinate of a hospital's vector
    "data-dir": "",               # simulation: where hospital_<partition-id>.npz lie
    "seed": 0,
}


def _cfg(run_config) -> dict:
    cfg = dict(DEFAULT_RUN_CONFIG)
    cfg.update({k: v for k, v in dict(run_config).items() if k in DEFAULT_RUN_CONFIG})
    return cfg


def share_std(cfg: dict, hospitals: int) -> float:
    """Each hospital's Gaussian noise std, in gradient units: σC / √(n − n_C − D), σ calibrated
    to ``epsilon`` over ``num-server-rounds`` rounds (sample rate 1)."""
    delta = acc.check_delta_for(float(cfg["delta"]), int(cfg["num-patients"]))
    rounds = int(cfg["num-server-rounds"])
    sigma = acc.calibrate_gaussian(target_epsilon=float(cfg["epsilon"]), sample_rate=1.0, rounds=rounds,
                                   delta=delta)
    plan = plan_shares(sigma**2, hospitals=hospitals, colluders=int(cfg["colluders"]),
                       dropouts=int(cfg["dropouts"]))
    return math.sqrt(plan.share_variance) * float(cfg["clip"])


def hospital_vector(w, hospital, cfg: dict, *, server_round: int, party: int, noise_std: float) -> np.ndarray:
    """What a hospital sends in round ``server_round``: its clipped gradient sum plus its Gaussian
    share, then its training-set size; refused if a value would fall outside SecAgg+'s range
    (Flower would clip it silently, and a clipped noisy value voids the guarantee)."""
    rng = round_rng(int(cfg["seed"]), server_round - 1, party)
    release = gaussian_release(np.asarray(w, dtype=np.float64), hospital.x_train, hospital.y_train,
                               clip=float(cfg["clip"]), noise_std=noise_std, rng=rng)
    vector = np.append(release, len(hospital.y_train))
    bound = float(cfg["clipping-range"])
    if np.abs(vector).max() > bound:
        raise ValueError(f"{hospital.name}: a coordinate of {np.abs(vector).max():.4g} exceeds SecAgg+'s clipping "
                         f"range {bound:g}, which would clip it silently and void the noise's guarantee; raise "
                         "clipping-range.")
    return vector


def _data_path(context, cfg) -> Path:
    node = context.node_config
    if "data-path" in node:
        return Path(str(node["data-path"]))
    return Path(str(cfg["data-dir"])) / f"hospital_{int(node['partition-id'])}.npz"


def make_client_app(run_config_overrides: dict | None = None):
    """The hospital's ClientApp (a legacy ``NumPyClient`` behind ``secaggplus_mod``)."""
    from flwr.client import ClientApp, NumPyClient
    from flwr.client.mod import secaggplus_mod

    class HospitalClient(NumPyClient):
        def __init__(self, context):
            self.cfg = _cfg({**context.run_config, **(run_config_overrides or {})})
            self.hospital = load_hospital(_data_path(context, self.cfg))
            self.party = int(context.node_config.get("partition-id", 0))

        def fit(self, parameters, config):
            vector = hospital_vector(parameters[0], self.hospital, self.cfg, server_round=int(config["round"]),
                                     party=self.party, noise_std=float(config["share-std"]))
            return [vector], 1, {}

        def evaluate(self, parameters, config):
            w = np.asarray(parameters[0], dtype=np.float64)
            x, y = self.hospital.x_test, self.hospital.y_test
            correct = round(evaluate(w, x, y)["accuracy"] * len(y))
            return 0.0, len(y), {"correct": correct}

    def client_fn(context):
        return HospitalClient(context).to_client()

    return ClientApp(client_fn=client_fn, mods=[secaggplus_mod])


def make_server_app(run_config_overrides: dict | None = None, *, hospitals: int = 5,
                    on_round: Callable[[int, float, np.ndarray], None] | None = None, out=None):
    """The coordinator's ServerApp: calibrates the shares, runs SecAgg+ with the threshold the
    colluder rule gives, steps the model, prints each round's pooled test accuracy."""
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server import LegacyContext, ServerApp, ServerConfig
    from flwr.server.strategy import FedAvg
    from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow

    app = ServerApp()

    @app.main()
    def main(grid, context) -> None:
        cfg = _cfg({**context.run_config, **(run_config_overrides or {})})
        rounds = int(cfg["num-server-rounds"])
        std = share_std(cfg, hospitals)
        state = {"w": np.zeros(31)}

        class DPFedSGD(FedAvg):
            def aggregate_fit(self, server_round, results, failures):
                if failures or len(results) < hospitals:
                    raise RuntimeError(f"round {server_round}: {len(results)} of {hospitals} hospitals answered "
                                       f"({len(failures)} failures); the noise plan needs the sum of all of them.")
                mean = parameters_to_ndarrays(super().aggregate_fit(server_round, results, failures)[0])[0]
                total = mean.astype(np.float64) * len(results)  # weights 1: Flower's mean times n is the sum
                patients = round(total[-1])
                state["w"] = state["w"] - float(cfg["lr"]) * total[:-1] / patients
                return ndarrays_to_parameters([state["w"]]), {}

            def aggregate_evaluate(self, server_round, results, failures):
                correct = sum(int(r.metrics["correct"]) for _, r in results)
                n = sum(int(r.num_examples) for _, r in results)
                accuracy = correct / n
                print(f"round {server_round}: test accuracy {accuracy:.4f}", file=out, flush=True)
                if on_round is not None:
                    on_round(server_round, accuracy, state["w"].copy())
                return None, {"accuracy": accuracy}

        strategy = DPFedSGD(fraction_fit=1.0, fraction_evaluate=1.0, min_fit_clients=hospitals,
                            min_evaluate_clients=hospitals, min_available_clients=hospitals,
                            fit_metrics_aggregation_fn=lambda m: {},
                            on_fit_config_fn=lambda r: {"round": r, "share-std": std},
                            initial_parameters=ndarrays_to_parameters([state["w"]]))
        t = safe_threshold(hospitals, colluders=int(cfg["colluders"]), dropouts=int(cfg["dropouts"]))
        workflow = SecAggPlusWorkflow(num_shares=hospitals, reconstruction_threshold=t,
                                      clipping_range=float(cfg["clipping-range"]), max_weight=1.0)
        legacy = LegacyContext(context=context, config=ServerConfig(num_rounds=rounds), strategy=strategy)
        DefaultWorkflow(fit_workflow=workflow)(grid, legacy)

    return app


def capstone_apps(data_dir, *, hospitals: int = 5, on_round=None, out=None, **run_config):
    """``(server_app, client_app)`` for ``flwr.simulation.run_simulation`` with
    ``num_supernodes=hospitals``: each node reads ``data_dir/hospital_<partition-id>.npz``."""
    overrides = {"data-dir": str(data_dir), **run_config}
    unknown = sorted(set(run_config) - set(DEFAULT_RUN_CONFIG))
    if unknown:
        raise ValueError(f"unknown run-config keys {unknown}; allowed: {sorted(DEFAULT_RUN_CONFIG)}.")
    return (make_server_app(overrides, hospitals=hospitals, on_round=on_round, out=out),
            make_client_app(overrides))
