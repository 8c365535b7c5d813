"""The ServerApp: Flower's own strategies, chosen by the run config, and the global
model evaluated on the MNIST test set after every round (central evaluation) and, with
``fraction-evaluate > 0``, by the nodes on their own local test sets (federated evaluation:
``Result.evaluate_metrics_clientapp``, aggregated by ``federated_metrics``).

``strategy`` names one strategy, or several separated by commas: then each runs in
turn on the same federation, from the same initial model, and the clients (whose
batches depend only on the seed, the round and their partition) do the same work for
each. One run instead of one per aggregator saves the simulation engine's start-up.
"""

from __future__ import annotations

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord, RecordDict
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg, FedMedian, FedProx, FedTrimmedAvg, Krum, Result

from ppml_flower import task
from ppml_helpers.train import evaluate

STRATEGIES = ("fedavg", "fedprox", "fedmedian", "fedtrimmedavg", "krum")


def strategy_names(cfg) -> list[str]:
    """The strategies ``cfg["strategy"]`` names ("fedavg" or "fedavg,fedmedian,krum"), checked."""
    names = [n.strip() for n in str(cfg["strategy"]).split(",")]
    bad = [n for n in names if n not in STRATEGIES]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, or several of them separated "
                         f"by commas, each once. Got {cfg['strategy']!r}.")
    return names


def federated_metrics(records: list[RecordDict], weighting_key: str) -> MetricRecord:
    """The nodes' evaluation replies, aggregated: ``accuracy`` and ``loss`` averaged with weights
    ``weighting_key`` (as Flower's default does), and each node's own values kept as lists
    ordered by partition id (``client-partition-id``, ``client-accuracy``, ``client-loss``,
    ``client-num-examples``), so the spread across nodes survives into Flower's Result."""
    rows = sorted((next(iter(r.metric_records.values())) for r in records), key=lambda m: int(m["partition-id"]))
    weights = [float(m[weighting_key]) for m in rows]
    total = sum(weights)
    return MetricRecord({
        "accuracy": sum(w * float(m["accuracy"]) for w, m in zip(weights, rows, strict=True)) / total,
        "loss": sum(w * float(m["loss"]) for w, m in zip(weights, rows, strict=True)) / total,
        "client-partition-id": [int(m["partition-id"]) for m in rows],
        "client-accuracy": [float(m["accuracy"]) for m in rows],
        "client-loss": [float(m["loss"]) for m in rows],
        "client-num-examples": [int(m[weighting_key]) for m in rows],
    })


def make_strategy(cfg, name: str) -> FedAvg:
    """Flower's strategy ``name``, set up from the run config: training ``fraction-train`` of
    the nodes, and asking ``fraction-evaluate`` of them (0: none) to evaluate each round's
    model on their local test sets."""
    common = {"fraction_train": float(cfg["fraction-train"]),
              "fraction_evaluate": float(cfg["fraction-evaluate"]),
              "evaluate_metrics_aggr_fn": federated_metrics}
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
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}. Got {name!r}.")


def run(grid: Grid, context: Context, overrides: dict | None = None) -> dict[str, Result]:
    """Train for ``num-server-rounds`` from a model seeded with ``seed``, once per strategy
    named; return ``{strategy: Flower's Result}``."""
    cfg = task.resolve_config(context.run_config, overrides)
    names = strategy_names(cfg)
    with torch.random.fork_rng(devices=[]):  # the same initial model as run_fedavg(seed=...)
        torch.manual_seed(int(cfg["seed"]))
        model = task.make_model(str(cfg["model"]))
    initial = ArrayRecord(model.state_dict())
    test_set = task.load_test(int(cfg["test-examples"]))
    results = {}
    for name in names:
        def central_evaluate(server_round: int, arrays: ArrayRecord, name=name) -> MetricRecord:
            model.load_state_dict(arrays.to_torch_state_dict())
            ev = evaluate(model, test_set)
            print(f"[{name}] round {server_round}: test accuracy {ev.accuracy:.4f}, loss {ev.loss:.4f}",
                  flush=True)
            return MetricRecord({"accuracy": ev.accuracy, "loss": ev.loss})

        results[name] = make_strategy(cfg, name).start(
            grid=grid, initial_arrays=initial.copy(), num_rounds=int(cfg["num-server-rounds"]),
            train_config=ConfigRecord({}), evaluate_fn=central_evaluate,
        )
    return results


def make_server_app(overrides: dict | None = None, on_result=None) -> ServerApp:
    """A ServerApp with ``overrides`` on the run config; ``on_result(results)`` receives
    ``{strategy: Flower's Result}`` when the run ends (the ServerApp runs in the caller's
    process under ``run_simulation``)."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        results = run(grid, context, overrides)
        if on_result is not None:
            on_result(results)

    return app


app = make_server_app()
