"""The ClientApp: each SuperNode trains its own MNIST partition (``partition-id``,
``num-partitions`` from its node config) with ``ppml_helpers``' client update."""

from __future__ import annotations

from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from ppml_flower import task


def make_client_app(overrides: dict | None = None) -> ClientApp:
    """A ClientApp whose run config is the app's, with ``overrides`` on top (see ``task.resolve_config``)."""
    app = ClientApp()

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        cfg = task.resolve_config(context.run_config, overrides)
        pid, n = int(context.node_config["partition-id"]), int(context.node_config["num-partitions"])
        x, y = task.load_partition(pid, n, partitioner=str(cfg["partitioner"]), alpha=float(cfg["alpha"]),
                                   train_examples=int(cfg["train-examples"]), seed=int(cfg["seed"]))
        model = task.make_model(str(cfg["model"]))
        model.load_state_dict(msg.content["arrays"].to_torch_state_dict())
        config = msg.content["config"]
        state = task.train_client(
            model, x, y, local_epochs=int(cfg["local-epochs"]), batch_size=int(cfg["batch-size"]),
            lr=float(cfg["lr"]), mu=float(config.get("proximal-mu", 0.0)), seed=int(cfg["seed"]),
            server_round=int(config["server-round"]), partition_id=pid,
        )
        reply = RecordDict({"arrays": ArrayRecord(state), "metrics": MetricRecord({"num-examples": len(y)})})
        return Message(content=reply, reply_to=msg)

    return app


app = make_client_app()
