"""The ServerApp: Flower's own strategies, chosen by the run config, and the global
model evaluated on the MNIST test set after every round."""

from __future__ import annotations

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg, FedMedian, FedProx, FedTrimmedAvg, Krum, Result

from ppml_flower import task
from ppml_helpers.train import evaluate


def make_strategy(cfg) -> FedAvg:
    """The strategy the run config names, training ``fraction-train`` of the nodes, no client-side evaluation."""
    name = str(cfg["strategy"])
    common = {"fraction_train": float(cfg["fraction-train"]), "fraction_evaluate": 0.0}
    if name == "fedavg":
        return FedAvg(**common)
    if name == "fedprox":
        return FedProx(**common, proximal_mu=float(cfg["proximal-mu"]))
    if name == "fedmedian":
        return FedMedian(**common)
    if name == "fedtrimmedavg":
        return FedTrimmedAvg(**common, beta=float(cfg["trim-beta"]))
    if name == "krum":
        return Krum(**common, num_malicious_nodes=int(cfg["num-malicious"]))
    raise ValueError(
        f"strategy must be one of fedavg, fedprox, fedmedian, fedtrimmedavg, krum. Got {name!r}."
    )


def run(grid: Grid, context: Context, overrides: dict | None = None) -> Result:
    """Train for ``num-server-rounds`` from a model seeded with ``seed``; return Flower's Result."""
    cfg = task.resolve_config(context.run_config, overrides)
    with torch.random.fork_rng(devices=[]):  # the same initial model as run_fedavg(seed=...)
        torch.manual_seed(int(cfg["seed"]))
        model = task.make_model(str(cfg["model"]))
    test_set = task.load_test(int(cfg["test-examples"]))

    def central_evaluate(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        model.load_state_dict(arrays.to_torch_state_dict())
        ev = evaluate(model, test_set)
        print(f"round {server_round}: test accuracy {ev.accuracy:.4f}, loss {ev.loss:.4f}", flush=True)
        return MetricRecord({"accuracy": ev.accuracy, "loss": ev.loss})

    return make_strategy(cfg).start(
        grid=grid, initial_arrays=ArrayRecord(model.state_dict()), num_rounds=int(cfg["num-server-rounds"]),
        train_config=ConfigRecord({}), evaluate_fn=central_evaluate,
    )


def make_server_app(overrides: dict | None = None, on_result=None) -> ServerApp:
    """A ServerApp with ``overrides`` on the run config; ``on_result(result)`` receives Flower's
    Result when the run ends (the ServerApp runs in the caller's process under ``run_simulation``)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        result = run(grid, context, overrides)
        if on_result is not None:
            on_result(result)

    return app


app = make_server_app()
