"""The ClientApp: each SuperNode trains its own MNIST partition (``partition-id``,
``num-partitions`` from its node config) with ``ppml_helpers``' client update; the
first ``num-malicious`` nodes run the configured ``attack`` instead."""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from ppml_flower import task
from ppml_helpers import fl


def make_client_app(overrides: dict | None = None) -> ClientApp:
    """A ClientApp whose run config is the app's, with ``overrides`` on top (see ``task.resolve_config``)."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        cfg = task.resolve_config(context.run_config, overrides)
        pid, n = int(context.node_config["partition-id"]), int(context.node_config["num-partitions"])
        x, y = task.load_partition(pid, n, partitioner=str(cfg["partitioner"]), alpha=float(cfg["alpha"]),
                                   train_examples=int(cfg["train-examples"]), seed=int(cfg["seed"]))
        attack = task.attack_of(pid, n, attack=str(cfg["attack"]), num_malicious=int(cfg["num-malicious"]))
        if attack == "label-flip":
            y = fl.flip_labels(y)
        model = task.make_model(str(cfg["model"]))
        global_state = msg.content["arrays"].to_torch_state_dict()
        model.load_state_dict(global_state)
        config = msg.content["config"]
        state = task.train_client(
            model, x, y, local_epochs=int(cfg["local-epochs"]), batch_size=int(cfg["batch-size"]),
            lr=float(cfg["lr"]), mu=float(config.get("proximal-mu", 0.0)), seed=int(cfg["seed"]),
            server_round=int(config["server-round"]), partition_id=pid,
        )
        if attack == "sign-flip":
            state = fl.sign_flip(global_state, state, boost=float(cfg["boost"]))
        reply = RecordDict({"arrays": ArrayRecord(state), "metrics": MetricRecord({"num-examples": len(y)})})
        return Message(content=reply, reply_to=msg)

    return app


app = make_client_app()
