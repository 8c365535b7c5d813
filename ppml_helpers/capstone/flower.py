"""The consortium on Flower: five hospital SuperNodes, distributed DP with Gaussian noise shares
added in the ClientApp, and Flower's SecAgg+ (``SecAggPlusWorkflow`` + ``secaggplus_mod``)
summing them. Used by notebook 08 (Flower's simulation engine) and by ``make capstone`` (a TLS
federation of separate processes, ``flower_app/capstone``).

Each round the ServerApp sends the model; each hospital reads only its own file (node config
``data-path``, or ``<data-dir>/hospital_<partition-id>.npz`` in simulation), computes the sum of
its clipped per-patient gradients and adds its share of N(0, σ²C²). The hospital calibrates σ
itself, from the ε, δ, rounds, colluders and dropouts of its own node config where it pins them
(else the run config), and never takes a noise level from the coordinator; it answers each
round number once and no more rounds than its budget covers. Its noise comes from a generator
seeded from the operating system's entropy, unless its node config sets ``noise-seed`` (teaching
and the comparison with the in-process run only: whoever knows the seed can subtract the noise).
In Flower's simulation engine, where nodes have no config of their own, the run config's
``seed`` plays that role. SecAgg+ masks, quantises and sums; the ServerApp turns the mean Flower
hands it back into the sum and takes one step, dividing by the declared cohort size (a public
constant: hospitals send no counts). After every round each hospital scores the model on its own
test split and the ServerApp prints the pooled accuracy: ``round N: test accuracy A``.

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
from .secure import plan_threshold
from .training import evaluate, gaussian_release, round_rng

__all__ = ["DEFAULT_RUN_CONFIG", "PINNABLE", "capstone_apps", "hospital_vector", "make_client_app", "make_server_app", "share_std"]

#: The Flower app's run config (``flower_app/capstone/pyproject.toml`` holds the same keys).
DEFAULT_RUN_CONFIG = {
    "num-server-rounds": 20,
    "epsilon": 3.0,
    "delta": 1e-5,
    "clip": 1.0,
    "lr": 0.5,
    "colluders": 1,
    "dropouts": 1,
    "declared-patients": 300,     # public constant: the step divides by it; δ < 1/it
    "clipping-range": 1024.0,     # SecAgg+'s range for each coordinate of a hospital's vector
    "data-dir": "",               # simulation: where hospital_<partition-id>.npz lie
    "seed": 0,
}


#: The privacy parameters a hospital may pin in its own node config, over the coordinator's run config.
PINNABLE = ("epsilon", "delta", "num-server-rounds", "colluders", "dropouts", "clip", "declared-patients")


def _cfg(run_config, node_config=None) -> dict:
    cfg = dict(DEFAULT_RUN_CONFIG)
    cfg.update({k: v for k, v in dict(run_config).items() if k in DEFAULT_RUN_CONFIG})
    cfg.update({k: v for k, v in dict(node_config or {}).items() if k in PINNABLE})
    return cfg


def share_std(cfg: dict, hospitals: int) -> float:
    """Each hospital's Gaussian noise std, in gradient units: σC / √(n − n_C − D), σ calibrated
    to ``epsilon`` over ``num-server-rounds`` rounds (sample rate 1)."""
    delta = acc.check_delta_for(float(cfg["delta"]), int(cfg["declared-patients"]))
    rounds = int(cfg["num-server-rounds"])
    sigma = acc.calibrate_gaussian(target_epsilon=float(cfg["epsilon"]), sample_rate=1.0, rounds=rounds,
                                   delta=delta)
    plan = plan_shares(sigma**2, hospitals=hospitals, colluders=int(cfg["colluders"]),
                       dropouts=int(cfg["dropouts"]))
    return math.sqrt(plan.share_variance) * float(cfg["clip"])


def hospital_vector(w, hospital, cfg: dict, *, rng, noise_std: float) -> np.ndarray:
    """What a hospital sends: its clipped gradient sum plus its Gaussian share; refused if a value
    would fall outside SecAgg+'s range (Flower would clip it silently, and a clipped noisy value
    voids the guarantee)."""
    vector = gaussian_release(np.asarray(w, dtype=np.float64), hospital.x_train, hospital.y_train,
                              clip=float(cfg["clip"]), noise_std=noise_std, rng=rng)
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


def _answered(record) -> set[int]:
    return {int(r) for r in record["rounds"]}


def _remember(record, server_round: int) -> None:
    record["rounds"] = [*record["rounds"], server_round]


def make_client_app(run_config_overrides: dict | None = None, *, hospitals: int = 5):
    """The hospital's ClientApp (a legacy ``NumPyClient`` behind ``secaggplus_mod``)."""
    from flwr.app import ConfigRecord
    from flwr.client import ClientApp, NumPyClient
    from flwr.client.mod import secaggplus_mod

    class HospitalClient(NumPyClient):
        def __init__(self, context):
            node = context.node_config
            if "partition-id" not in node:
                raise ValueError("the node config must set partition-id (each hospital's own index); without it "
                                 "two hospitals could draw the same noise.")
            self.cfg = _cfg({**context.run_config, **(run_config_overrides or {})}, node)
            self.hospital = load_hospital(_data_path(context, self.cfg))
            self.party = int(node["partition-id"])
            self.noise_std = share_std(self.cfg, hospitals)  # computed here, never taken from the coordinator
            if "noise-seed" in node:
                self.seed = int(node["noise-seed"])
            elif "data-path" not in node:  # Flower's simulation engine: teaching runs
                self.seed = int(self.cfg["seed"])
            else:
                self.seed = None
            self.answered = context.state.config_records.get("answered-rounds")

        def fit(self, parameters, config):
            server_round = int(config["round"])
            rounds = int(self.cfg["num-server-rounds"])
            done = _answered(self.answered)
            if server_round in done or not 1 <= server_round <= rounds:
                raise ValueError(f"{self.hospital.name}: round {server_round} refused (answered {sorted(done)}, "
                                 f"budget {rounds} rounds): each round's noise is drawn once.")
            rng = (round_rng(self.seed, server_round - 1, self.party) if self.seed is not None
                   else np.random.default_rng())  # OS entropy
            vector = hospital_vector(parameters[0], self.hospital, self.cfg, rng=rng, noise_std=self.noise_std)
            _remember(self.answered, server_round)
            return [vector], 1, {}

        def evaluate(self, parameters, config):
            w = np.asarray(parameters[0], dtype=np.float64)
            x, y = self.hospital.x_test, self.hospital.y_test
            correct = round(evaluate(w, x, y)["accuracy"] * len(y))
            return 0.0, len(y), {"correct": correct}

    def client_fn(context):
        if "answered-rounds" not in context.state.config_records:
            context.state.config_records["answered-rounds"] = ConfigRecord({"rounds": []})
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
        state = {"w": np.zeros(31)}

        class DPFedSGD(FedAvg):
            def aggregate_fit(self, server_round, results, failures):
                if failures or len(results) < hospitals:
                    raise RuntimeError(f"round {server_round}: {len(results)} of {hospitals} hospitals answered "
                                       f"({len(failures)} failures); the noise plan needs the sum of all of them.")
                mean = parameters_to_ndarrays(super().aggregate_fit(server_round, results, failures)[0])[0]
                total = mean.astype(np.float64) * len(results)  # weights 1: Flower's mean times n is the sum
                state["w"] = state["w"] - float(cfg["lr"]) * total / float(cfg["declared-patients"])
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
                            on_fit_config_fn=lambda r: {"round": r},
                            initial_parameters=ndarrays_to_parameters([state["w"]]))
        t = plan_threshold(hospitals, colluders=int(cfg["colluders"]), dropouts=int(cfg["dropouts"]))
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
            make_client_app(overrides, hospitals=hospitals))
