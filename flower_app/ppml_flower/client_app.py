"""The ClientApp: each SuperNode trains its own MNIST partition (``partition-id``,
``num-partitions`` from its node config) with ``ppml_helpers``' client update; the
first ``num-malicious`` nodes run the configured ``attack`` instead. Asked to evaluate
(federated evaluation, ``fraction-evaluate > 0``), a node scores the model it receives on
its own held-out local test set (``task.load_local_test``)."""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from ppml_flower import task
from ppml_helpers import fl
from ppml_helpers.train import evaluate


def _data_kwargs(cfg) -> dict:
    return {"partitioner": str(cfg["partitioner"]), "alpha": float(cfg["alpha"]),
            "train_examples": int(cfg["train-examples"]), "seed": int(cfg["seed"])}


def make_client_app(overrides: dict | None = None) -> ClientApp:
    """A ClientApp whose run config is the app's, with ``overrides`` on top (see ``task.resolve_config``)."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        cfg = task.resolve_config(context.run_config, overrides)
        pid, n = int(context.node_config["partition-id"]), int(context.node_config["num-partitions"])
        x, y = task.load_partition(pid, n, **_data_kwargs(cfg))
        num_malicious = int(cfg["num-malicious"])
        attack = task.attack_of(pid, n, attack=str(cfg["attack"]), num_malicious=num_malicious)
        if attack == "label-flip":
            y = fl.flip_labels(y)
        model = task.make_model(str(cfg["model"]))
        global_state = msg.content["arrays"].to_torch_state_dict()
        config = msg.content["config"]

        def honest_state(partition_id, x, y):
            model.load_state_dict(global_state)
            return task.train_client(
                model, x, y, local_epochs=int(cfg["local-epochs"]), batch_size=int(cfg["batch-size"]),
                lr=float(cfg["lr"]), mu=float(config.get("proximal-mu", 0.0)), seed=int(cfg["seed"]),
                server_round=int(config["server-round"]), partition_id=partition_id,
            )

        if attack == "alie":
            # The colluders (partition ids < num-malicious) share their data: each recomputes all
            # their honest updates (same seeds and round, so the same batches) and sends ALIE's model.
            states = [honest_state(q, *task.load_partition(q, n, **_data_kwargs(cfg)))
                      for q in range(num_malicious)]
            z = float(cfg["alie-z"])
            state = fl.alie(global_state, states, num_clients=task.nodes_per_round(float(cfg["fraction-train"]), n),
                            num_malicious=num_malicious, z=z if z > 0 else None)
        else:
            state = honest_state(pid, x, y)
        if attack == "sign-flip":
            state = fl.sign_flip(global_state, state, boost=float(cfg["boost"]))
        reply = RecordDict({"arrays": ArrayRecord(state), "metrics": MetricRecord({"num-examples": len(y)})})
        return Message(content=reply, reply_to=msg)

    @app.evaluate()
    def evaluate_locally(msg: Message, context: Context) -> Message:
        cfg = task.resolve_config(context.run_config, overrides)
        pid, n = int(context.node_config["partition-id"]), int(context.node_config["num-partitions"])
        test = task.load_local_test(pid, n, local_test_fraction=float(cfg["local-test-fraction"]),
                                    **_data_kwargs(cfg))
        model = task.make_model(str(cfg["model"]))
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        ev = evaluate(model, test)
        metrics = MetricRecord({"accuracy": ev.accuracy, "loss": ev.loss, "num-examples": len(test[1]),
                                "partition-id": pid})
        return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)

    return app


app = make_client_app()
