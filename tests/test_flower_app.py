"""flower_app/: Notebook 01's task on Flower; one round equals ppml_helpers.fl to 1e-5."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

APP_DIR = Path(__file__).resolve().parents[1] / "flower_app"
sys.path.insert(0, str(APP_DIR))

from ppml_flower import server_app, simulation, task  # noqa: E402

from ppml_helpers import fl  # noqa: E402
from ppml_helpers.data import load_mnist, partition_dirichlet, partition_iid  # noqa: E402
from ppml_helpers.models import MLP  # noqa: E402
from ppml_helpers.train import evaluate  # noqa: E402

SMALL = {"num-server-rounds": 1, "fraction-train": 1.0, "model": "2NN", "train-examples": 600,
         "test-examples": 500, "local-epochs": 1, "batch-size": 10, "lr": 0.05, "seed": 3,
         "partitioner": "dirichlet", "alpha": 1.0}  # unequal clients, so the weighting matters


def test_config_layers_defaults_run_config_and_overrides():
    cfg = task.resolve_config({"lr": 0.5, "seed": 1}, {"seed": 2})
    assert cfg["lr"] == 0.5 and cfg["seed"] == 2
    assert cfg["strategy"] == task.default_config()["strategy"]


def test_unknown_override_is_named():
    with pytest.raises(ValueError, match="leraning-rate"):
        task.resolve_config({}, {"leraning-rate": 0.1})


def test_bad_model_partitioner_or_partition_id_is_named():
    with pytest.raises(ValueError, match="model"):
        task.make_model("VGG")
    with pytest.raises(ValueError, match="partitioner"):
        task.load_partition(0, 2, partitioner="zipf", train_examples=100)
    with pytest.raises(ValueError, match="partition_id"):
        task.load_partition(2, 2, train_examples=100)


@pytest.mark.parametrize("strategy", ["fedsum", "fedavg,fedsum", "fedavg,fedavg", ""])
def test_bad_strategy_is_named(strategy):
    with pytest.raises(ValueError, match="strategy must be one of"):
        server_app.strategy_names(task.resolve_config({}, {"strategy": strategy}))


def test_a_strategy_list_is_parsed_and_krum_is_told_how_many_attack():
    cfg = task.resolve_config({}, {"strategy": "fedavg, krum", "num-malicious": 2})
    assert server_app.strategy_names(cfg) == ["fedavg", "krum"]
    krum = server_app.make_strategy(cfg, "krum")
    assert type(krum).__name__ == "Krum" and krum.num_malicious_nodes == 2
    with pytest.raises(ValueError, match="strategy must be one of"):
        server_app.make_strategy(cfg, "fedsum")


def test_partitions_are_notebook_01s():
    x, y = load_mnist("train")
    parts = partition_iid(y[:600], 3, seed=3)
    for pid in range(3):
        xp, yp = task.load_partition(pid, 3, partitioner="iid", train_examples=600, seed=3)
        assert torch.equal(yp, y[:600][torch.as_tensor(parts[pid])])
        assert torch.equal(xp, x[:600][torch.as_tensor(parts[pid])])


def _simulate(monkeypatch, cfg, num_supernodes: int = 3):
    """Run the app on Flower's simulation engine; return ``{strategy: Result}``."""
    monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", ""))  # simulate() extends it
    return simulation.simulate(cfg, num_supernodes=num_supernodes)


def test_one_flower_round_equals_run_fedavg(monkeypatch):
    result = _simulate(monkeypatch, SMALL)["fedavg"]
    flower = result.arrays.to_torch_state_dict()

    x, y = load_mnist("train")
    train = (x[:600], y[:600])
    parts = partition_dirichlet(train[1], 3, alpha=1.0, seed=3)
    assert len({len(p) for p in parts}) == 3, "the clients should differ in size"
    ours = fl.run_fedavg(MLP, train, parts, (x[:10], y[:10]), rounds=1, client_fraction=1.0, local_epochs=1,
                         batch_size=10, lr=0.05, seed=3, vectorise=False, progress=False)
    assert set(flower) == set(ours.model.state_dict())
    for key, value in ours.model.state_dict().items():
        np.testing.assert_allclose(flower[key].numpy(), value.numpy(), atol=1e-5)
    (accuracy,) = simulation.accuracies(result)
    assert 0.0 < accuracy <= 1.0


def test_the_first_num_malicious_nodes_attack():
    attacks = [task.attack_of(pid, 5, attack="sign-flip", num_malicious=2) for pid in range(5)]
    assert attacks == ["sign-flip", "sign-flip", "none", "none", "none"]
    with pytest.raises(ValueError, match="attack"):
        task.attack_of(0, 5, attack="backdoor", num_malicious=1)
    with pytest.raises(ValueError, match="num-malicious"):
        task.attack_of(0, 5, attack="sign-flip", num_malicious=6)


def _small_round_one(num_nodes: int):
    """SMALL's initial model, and round 1's honest states and sizes of ``num_nodes`` nodes."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SMALL["seed"])
        start = MLP().state_dict()
    states, sizes = [], []
    for pid in range(num_nodes):
        x, y = task.load_partition(pid, num_nodes, partitioner=SMALL["partitioner"], alpha=SMALL["alpha"],
                                   train_examples=SMALL["train-examples"], seed=SMALL["seed"])
        model = MLP()
        model.load_state_dict(start)
        states.append(task.train_client(model, x, y, local_epochs=SMALL["local-epochs"], batch_size=SMALL["batch-size"],
                                        lr=SMALL["lr"], mu=0.0, seed=SMALL["seed"], server_round=1, partition_id=pid))
        sizes.append(len(y))
    return start, states, sizes


def test_a_sign_flipping_node_enters_flowers_average_as_configured(monkeypatch):
    cfg = SMALL | {"attack": "sign-flip", "num-malicious": 1, "boost": 10.0, "strategy": "fedavg,fedmedian"}
    results = _simulate(monkeypatch, cfg)
    flower = results["fedavg"].arrays.to_torch_state_dict()
    median = results["fedmedian"].arrays.to_torch_state_dict()

    start, states, sizes = _small_round_one(3)
    states[0] = fl.sign_flip(start, states[0], boost=10.0)
    expected = fl.fedavg(states, sizes)
    for key, value in expected.items():
        np.testing.assert_allclose(flower[key].numpy(), value.numpy(), atol=1e-5)
    # the second strategy of the same run starts again from the same model, same client work
    for key, value in fl.coordinate_median(states).items():
        np.testing.assert_allclose(median[key].numpy(), value.numpy(), atol=1e-5)


def test_alie_needs_two_colluders_and_z_uses_the_nodes_that_train():
    with pytest.raises(ValueError, match="num-malicious >= 2"):
        task.attack_of(0, 5, attack="alie", num_malicious=1)
    assert task.attack_of(1, 5, attack="alie", num_malicious=2) == "alie"
    assert [task.nodes_per_round(f, 10) for f in (1.0, 0.5, 0.1, 0.0)] == [10, 5, 2, 2]


def test_alie_nodes_send_what_fl_alie_gives(monkeypatch):
    cfg = SMALL | {"attack": "alie", "num-malicious": 2, "strategy": "fedavg"}  # alie-z 0: the paper's z_max
    flower = _simulate(monkeypatch, cfg, num_supernodes=5)["fedavg"].arrays.to_torch_state_dict()

    start, states, sizes = _small_round_one(5)
    # the two colluders pool their own honest updates; z_max for 5 nodes, 2 attackers
    attack = fl.alie(start, states[:2], num_clients=5, num_malicious=2)
    expected = fl.fedavg([attack, attack, *states[2:]], sizes)
    for key, value in expected.items():
        np.testing.assert_allclose(flower[key].numpy(), value.numpy(), atol=1e-5)


def test_local_test_sets_are_held_out_disjoint_and_have_the_nodes_class_mix():
    kwargs = {"partitioner": "dirichlet", "alpha": 0.3, "train_examples": 600, "seed": 3}
    x_all, y_all = load_mnist("train")
    seen = set()
    for pid in range(4):
        _, y_train = task.load_partition(pid, 4, **kwargs)
        x, y = task.load_local_test(pid, 4, local_test_fraction=0.2, **kwargs)
        assert len(y) == round(0.2 * len(y_train))
        expected_mix = 0.2 * torch.bincount(y_train, minlength=10)
        assert torch.all((torch.bincount(y, minlength=10) - expected_mix).abs() < 1.0)
        idx = task._local_tests(4, "dirichlet", 0.3, 600, 0.2, 3)[pid]
        assert int(idx.min()) >= 600 and not seen & set(idx.tolist())  # never a training image, nor another node's
        seen |= set(idx.tolist())
        assert torch.equal(x, x_all[idx]) and torch.equal(y, y_all[idx])
    with pytest.raises(ValueError, match="local-test-fraction"):
        task.load_local_test(0, 4, local_test_fraction=0.0, **kwargs)
    with pytest.raises(ValueError, match="train-examples"):
        task.load_local_test(0, 2, local_test_fraction=1.0, partitioner="iid", train_examples=59_000)


def test_federated_evaluation_reports_each_nodes_accuracy_on_its_local_test_set(monkeypatch):
    cfg = SMALL | {"num-server-rounds": 2, "fraction-evaluate": 1.0, "local-test-fraction": 0.5}
    result = _simulate(monkeypatch, cfg)["fedavg"]
    assert sorted(result.evaluate_metrics_clientapp) == [1, 2]
    assert len(simulation.federated_accuracies(result)) == 2

    model = MLP()
    model.load_state_dict(result.arrays.to_torch_state_dict())  # the final model, which round 2 evaluated
    per_node, sizes = {}, {}
    for pid in range(3):
        test = task.load_local_test(pid, 3, partitioner="dirichlet", alpha=1.0, train_examples=600,
                                    local_test_fraction=0.5, seed=3)
        per_node[pid], sizes[pid] = evaluate(model, test).accuracy, len(test[1])
    clients = simulation.client_accuracies(result)
    assert clients.keys() == per_node.keys()
    for pid, acc in per_node.items():
        assert clients[pid] == pytest.approx(acc, abs=1e-6)
    weighted = sum(per_node[p] * sizes[p] for p in per_node) / sum(sizes.values())
    assert simulation.federated_accuracies(result)[-1] == pytest.approx(weighted, abs=1e-6)
    assert list(result.evaluate_metrics_clientapp[2]["client-num-examples"]) == [sizes[p] for p in range(3)]


def test_without_fraction_evaluate_there_is_no_federated_evaluation():
    cfg = task.resolve_config({}, {})
    assert float(cfg["fraction-evaluate"]) == 0.0
    assert server_app.make_strategy(cfg, "krum").fraction_evaluate == 0.0
    with pytest.raises(ValueError, match="fraction-evaluate > 0"):
        simulation.client_accuracies(server_app.Result())
