"""ppml_helpers.fl: FedAvg aggregation, client updates (sequential and vectorised), rounds, compression."""

from __future__ import annotations

import functools
import math
import os
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ppml_helpers import fl
from ppml_helpers.models import MLP, LogisticRegression, SmallCNN


def _random_states(k: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    shapes = {"a.weight": (4, 3), "a.bias": (4,), "b.weight": (2, 4)}
    return [OrderedDict((n, torch.randn(s, generator=gen)) for n, s in shapes.items()) for _ in range(k)]


# --- fedavg ---------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(k=st.integers(1, 8), seed=st.integers(0, 10_000), data=st.data())
def test_fedavg_is_the_weighted_mean(k, seed, data):
    states = _random_states(k, seed)
    weights = data.draw(st.lists(st.floats(0.01, 1000), min_size=k, max_size=k))
    out = fl.fedavg(states, weights)
    w = np.array(weights) / np.sum(weights)
    for key in states[0]:
        expected = sum(wk * s[key].double().numpy() for wk, s in zip(w, states, strict=True))
        np.testing.assert_allclose(out[key].numpy(), expected, atol=1e-6)


def test_fedavg_of_identical_states_is_that_state():
    (s,) = _random_states(1, 0)
    out = fl.fedavg([s, s, s], [1, 5, 100])
    for key in s:
        torch.testing.assert_close(out[key], s[key])


def test_fedavg_weights_are_scale_free():
    states = _random_states(3, 1)
    a, b = fl.fedavg(states, [1, 2, 3]), fl.fedavg(states, [10, 20, 30])
    for key in a:
        torch.testing.assert_close(a[key], b[key])


def test_fedavg_does_not_modify_inputs():
    states = _random_states(2, 2)
    copies = [OrderedDict((k, v.clone()) for k, v in s.items()) for s in states]
    fl.fedavg(states, [1, 1])
    for s, c in zip(states, copies, strict=True):
        assert all(torch.equal(s[k], c[k]) for k in s)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0], "weights has 1 entries"),
        ([1.0, 0.0], r"weights\[1\]"),
        ([-1.0, 1.0], r"weights\[0\]"),
        ([1.0, math.nan], r"weights\[1\]"),
        ([math.inf, 1.0], r"weights\[0\]"),
        (["x", 1.0], r"weights\[0\]"),
    ],
)
def test_fedavg_bad_weights_raise(weights, match):
    with pytest.raises(ValueError, match=match):
        fl.fedavg(_random_states(2, 0), weights)


def test_fedavg_empty_raises():
    with pytest.raises(ValueError, match="states is empty"):
        fl.fedavg([], [])


def test_fedavg_key_mismatch_names_the_key():
    a, b = _random_states(2, 0)
    b["extra.weight"] = b.pop("b.weight")
    with pytest.raises(ValueError, match=r"extra\.weight"):
        fl.fedavg([a, b], [1, 1])


def test_fedavg_shape_mismatch_names_the_key():
    a, b = _random_states(2, 0)
    b["a.bias"] = torch.zeros(5)
    with pytest.raises(ValueError, match=r"a\.bias.*shape"):
        fl.fedavg([a, b], [1, 1])


def test_fedavg_dtype_mismatch_names_the_key():
    a, b = _random_states(2, 0)
    b["a.bias"] = b["a.bias"].double()
    with pytest.raises(ValueError, match=r"a\.bias.*dtype"):
        fl.fedavg([a, b], [1, 1])


def test_state_bytes_counts_float32():
    model = MLP()
    assert fl.state_bytes(model.state_dict()) == 199_210 * 4


# --- client updates -------------------------------------------------------------------


def test_batch_plan_covers_each_example_once_per_epoch():
    plan = fl.batch_plan(23, local_epochs=3, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert len(plan) == 3 * 5  # ceil(23 / 5) batches per epoch
    for e in range(3):
        epoch = torch.cat(plan[e * 5 : (e + 1) * 5])
        assert sorted(epoch.tolist()) == list(range(23))


def test_batch_plan_full_batch_is_one_step_per_epoch():
    plan = fl.batch_plan(7, local_epochs=1, batch_size=None, generator=torch.Generator())
    assert len(plan) == 1 and plan[0].tolist() == list(range(7))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 0}, "at least one example"), ({"local_epochs": 0}, "local_epochs"), ({"batch_size": 0}, "batch_size")],
)
def test_batch_plan_bad_input(kwargs, match):
    args = {"n": 5, "local_epochs": 1, "batch_size": 2} | kwargs
    n = args.pop("n")
    with pytest.raises(ValueError, match=match):
        fl.batch_plan(n, generator=torch.Generator(), **args)


def _clients(sizes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.rand((n, 1, 28, 28), generator=gen), torch.randint(0, 10, (n,), generator=gen)) for n in sizes]


@pytest.mark.parametrize("engine", ["bmm-mlp", "vmap-mlp", "vmap-cnn"])
@pytest.mark.parametrize(
    ("sizes", "batch_size", "mu"),
    [((40, 40, 40), 10, 0.0), ((40, 33, 17), 10, 0.0), ((40, 33, 17), None, 0.0), ((30, 30), 8, 0.5),
     ((40, 33, 17), 10, 0.5)],
    ids=["aligned", "uneven", "fedsgd-uneven", "fedprox", "fedprox-uneven"],
)
def test_vectorised_equals_sequential(sizes, batch_size, mu, engine):
    torch.manual_seed(0)
    model = SmallCNN() if engine == "vmap-cnn" else MLP(hidden=32)
    method = engine.split("-")[0]
    data = _clients(sizes)
    plans = [
        fl.batch_plan(n, local_epochs=2, batch_size=batch_size, generator=fl.client_generator(0, 1, i))
        for i, n in enumerate(sizes)
    ]
    start = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    vec = fl.clients_update_vectorised(model, data, plans, lr=0.1, mu=mu, method=method)
    # vmap batches the clients' convolutions, which sums in another order than one client's
    # convolution: float32 rounding, seen up to 1.4e-5 after 8 steps on some CPUs
    tol = 5e-5 if engine == "vmap-cnn" else 1e-5
    for (x, y), plan, got in zip(data, plans, vec, strict=True):
        model.load_state_dict(start)
        seq = fl.client_update(model, x, y, plan, lr=0.1, mu=mu)
        for key in seq:
            torch.testing.assert_close(got[key], seq[key], atol=tol, rtol=1e-5)


def test_bmm_refuses_a_model_that_is_not_a_linear_stack():
    plans = [fl.batch_plan(4, local_epochs=1, batch_size=2, generator=torch.Generator())]
    with pytest.raises(ValueError, match="method='bmm'"):
        fl.clients_update_vectorised(SmallCNN(), _clients([4]), plans, lr=0.1, method="bmm")


def test_only_linear_stacks_take_the_bmm_engine():
    assert fl.stacked_layers(MLP()) is not None and fl.stacked_layers(LogisticRegression()) is not None
    assert fl.stacked_layers(SmallCNN()) is None


def test_vectorised_leaves_the_global_model_alone():
    torch.manual_seed(0)
    model = MLP(hidden=16)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    plans = [fl.batch_plan(20, local_epochs=1, batch_size=5, generator=torch.Generator())]
    fl.clients_update_vectorised(model, _clients([20]), plans, lr=0.5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_fedprox_stays_closer_to_the_start():
    torch.manual_seed(0)
    model = MLP(hidden=32)
    (x, y), = _clients([60])
    start = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    plan = fl.batch_plan(60, local_epochs=5, batch_size=10, generator=torch.Generator().manual_seed(0))
    dist = {}
    for mu in (0.0, 1.0):
        model.load_state_dict(start)
        out = fl.client_update(model, x, y, plan, lr=0.1, mu=mu)
        dist[mu] = sum(float(((out[k] - start[k]) ** 2).sum()) for k in start)
    assert dist[1.0] < dist[0.0]


# --- rounds ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_task():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((400, 1, 28, 28), generator=gen)
    w = torch.randn((784, 10), generator=gen)
    y = (x.flatten(1) @ w).argmax(1)  # a linearly separable task
    parts = [np.arange(i, 400, 10) for i in range(10)]  # 10 clients of 40
    return (x[:300], y[:300]), (x[300:], y[300:]), [p[p < 300] for p in parts]


def test_fedsgd_with_all_clients_is_full_batch_gradient_descent(tiny_task):
    train, test, parts = tiny_task
    result = fl.run_fedavg(LogisticRegression, train, parts, test, rounds=1, client_fraction=1.0,
                           local_epochs=1, batch_size=None, lr=0.5, seed=3, progress=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        central = LogisticRegression()
    idx = np.concatenate(parts)
    loss = torch.nn.functional.cross_entropy(central(train[0][idx]), train[1][idx])
    loss.backward()
    with torch.no_grad():
        for p in central.parameters():
            p -= 0.5 * p.grad
    for key, value in central.state_dict().items():
        torch.testing.assert_close(result.model.state_dict()[key], value, atol=1e-6, rtol=1e-5)


def test_rounds_sample_max_ck_1_distinct_clients_and_count_bytes(tiny_task):
    train, test, parts = tiny_task
    result = fl.run_fedavg(LogisticRegression, train, parts, test, rounds=3, client_fraction=0.3,
                           local_epochs=1, batch_size=10, lr=0.1, seed=0, progress=False)
    size = fl.state_bytes(LogisticRegression().state_dict())
    for r in result.rounds:
        assert len(set(r.clients)) == len(r.clients) == 3
        assert r.bytes_down == r.bytes_up == 3 * size
    assert result.bytes_until(2) == 4 * 3 * size


def test_client_fraction_zero_means_one_client():
    assert fl.num_sampled(100, 0.0) == 1 and fl.num_sampled(100, 0.1) == 10


def test_target_round_is_the_first_reaching_it(tiny_task):
    train, test, parts = tiny_task
    result = fl.run_fedavg(LogisticRegression, train, parts, test, rounds=8, client_fraction=0.5,
                           local_epochs=2, batch_size=10, lr=0.5, seed=0, target_accuracy=0.5,
                           progress=False)
    reached = [r.round for r in result.rounds if r.test_accuracy >= 0.5]
    assert result.rounds_to_target == (reached[0] if reached else None)
    assert result.first_round_reaching(0.5) == result.rounds_to_target
    assert result.first_round_reaching(1.01) is None
    best = max(result.accuracy)
    assert result.rounds[result.first_round_reaching(best) - 1].test_accuracy == best
    assert result.final_accuracy > 0.5, "the separable task should be learnt"


def test_stop_at_target_stops(tiny_task):
    train, test, parts = tiny_task
    result = fl.run_fedavg(LogisticRegression, train, parts, test, rounds=20, client_fraction=0.5,
                           local_epochs=2, batch_size=10, lr=0.5, seed=0, target_accuracy=0.3,
                           stop_at_target=True, progress=False)
    assert result.rounds_to_target == len(result.rounds)


def test_validation_set_is_evaluated_and_stopping_waits_for_it(tiny_task):
    train, test, parts = tiny_task
    kw = dict(rounds=20, client_fraction=0.5, local_epochs=2, batch_size=10, lr=0.5, seed=0,
              target_accuracy=0.55, progress=False)
    plain = fl.run_fedavg(LogisticRegression, train, parts, test, **kw)
    same = fl.run_fedavg(LogisticRegression, train, parts, test, validation_set=test, **kw)
    assert plain.val_accuracy == [None] * len(plain.rounds)
    assert same.accuracy == plain.accuracy and same.val_accuracy == plain.accuracy
    hard = (test[0], (test[1] + 1) % 10)  # shifted labels: reaching 0.55 here needs test accuracy <= 0.45
    held = fl.run_fedavg(LogisticRegression, train, parts, test, validation_set=hard, **kw)
    assert max(held.val_accuracy) < 0.55 and held.first_round_reaching(0.55, on="validation") is None
    with pytest.raises(ValueError, match="validation_set"):
        plain.first_round_reaching(0.9, on="validation")
    with pytest.raises(ValueError, match="'test' or 'validation'"):
        held.first_round_reaching(0.9, on="val")
    stopped = fl.run_fedavg(LogisticRegression, train, parts, test, validation_set=hard,
                            stop_at_target=True, **kw)
    assert plain.rounds_to_target is not None and len(stopped.rounds) == 20, \
        "reaching the target on the test set alone must not stop a run that has a validation set"
    early = fl.run_fedavg(LogisticRegression, train, parts, test, validation_set=hard,
                          stop_at_target=True, wait_for_validation=False, **kw)
    assert len(early.rounds) == plain.rounds_to_target == early.rounds_to_target < 20
    assert early.val_accuracy == held.val_accuracy[: len(early.rounds)]


def test_vectorised_and_sequential_runs_agree(tiny_task):
    train, test, parts = tiny_task
    kw = dict(rounds=2, client_fraction=0.3, local_epochs=2, batch_size=10, lr=0.2, seed=1, progress=False)
    a = fl.run_fedavg(MLP, train, parts, test, vectorise=True, **kw)
    b = fl.run_fedavg(MLP, train, parts, test, vectorise=False, **kw)
    assert all(r.vectorised for r in a.rounds) and not any(r.vectorised for r in b.rounds)
    for key, value in a.model.state_dict().items():
        torch.testing.assert_close(value, b.model.state_dict()[key], atol=1e-5, rtol=1e-4)


def test_worker_processes_and_one_process_agree(tiny_task):
    train, test, parts = tiny_task
    kw = dict(rounds=2, client_fraction=0.3, local_epochs=2, batch_size=10, lr=0.2, mu=0.01, seed=1,
              vectorise=False, progress=False)
    one = fl.run_fedavg(SmallCNN, train, parts, test, **kw)
    two = fl.run_fedavg(SmallCNN, train, parts, test, processes=2, **kw)
    assert [r.clients for r in one.rounds] == [r.clients for r in two.rounds]
    for key, value in one.model.state_dict().items():
        torch.testing.assert_close(value, two.model.state_dict()[key], atol=1e-5, rtol=1e-4)


def test_client_pool_trains_each_client_as_client_update_does():
    gen = torch.Generator().manual_seed(5)
    x, y = torch.rand((90, 1, 28, 28), generator=gen), torch.randint(0, 10, (90,), generator=gen)
    parts = [np.arange(0, 50), np.arange(50, 63), np.arange(63, 90)]  # unequal clients
    torch.manual_seed(0)
    start = MLP(hidden=16).state_dict()
    make = functools.partial(MLP, hidden=16)
    plans = {c: fl.batch_plan(len(parts[c]), local_epochs=2, batch_size=8, generator=fl.client_generator(4, 2, c))
             for c in (2, 0)}
    with fl.ClientPool(3, make, (x, y), lr=0.1, mu=0.1) as pool:
        got = pool.train(start, [(parts[c], plans[c]) for c in (2, 0)])  # 3 workers, 2 clients, not in id order
    for client, state in zip([2, 0], got, strict=True):
        model = make()
        model.load_state_dict(start)
        want = fl.client_update(model, x[parts[client]], y[parts[client]], plans[client], lr=0.1, mu=0.1)
        for key in want:
            torch.testing.assert_close(state[key], want[key], atol=1e-5, rtol=1e-5)


def test_client_pool_reports_a_worker_that_cannot_start(tiny_task):
    with pytest.raises(RuntimeError, match="failed to start"):
        fl.ClientPool(2, functools.partial(MLP, hidden=-1), tiny_task[0], lr=0.1)


def test_worker_processes_refuse_a_model_fn_from_a_notebook(monkeypatch):
    def make():
        return MLP(hidden=8)

    make.__module__ = "__main__"
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # no __file__, as in Jupyter
    monkeypatch.setattr(sys.modules["__main__"], "make", make, raising=False)
    with pytest.raises(ValueError, match="notebook"):
        fl.parallel.check_model_fn(make)


def test_available_cpus_is_at_most_the_machines():
    assert 1 <= fl.available_cpus() <= (os.cpu_count() or 1)


def test_worker_processes_need_a_picklable_model_fn(tiny_task):
    train, test, parts = tiny_task
    with pytest.raises(ValueError, match="picklable"):
        fl.run_fedavg(lambda: MLP(hidden=8), train, parts, test, rounds=1, client_fraction=0.2,
                      local_epochs=1, batch_size=10, lr=0.1, seed=0, vectorise=False, processes=2,
                      progress=False)


@pytest.mark.parametrize("processes", [1, 1.5, True])
def test_client_pool_bad_processes(tiny_task, processes):
    with pytest.raises(ValueError, match="processes"):
        fl.ClientPool(processes, MLP, tiny_task[0], lr=0.1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rounds": 0}, "rounds"), ({"client_fraction": 1.5}, "client_fraction"), ({"lr": 0}, "lr"),
     ({"mu": -1}, "mu"), ({"target_accuracy": 2}, "target_accuracy"), ({"vectorise": "yes"}, "vectorise"),
     ({"processes": 0}, "processes"), ({"processes": 2.0}, "processes")],
)
def test_run_fedavg_bad_input(tiny_task, kwargs, match):
    train, test, parts = tiny_task
    args = dict(rounds=1, client_fraction=0.1, local_epochs=1, batch_size=10, lr=0.1, seed=0) | kwargs
    with pytest.raises(ValueError, match=match):
        fl.run_fedavg(LogisticRegression, train, parts, test, progress=False, **args)


def test_run_fedavg_empty_partition_raises(tiny_task):
    train, test, parts = tiny_task
    with pytest.raises(ValueError, match="partitions"):
        fl.run_fedavg(LogisticRegression, train, [*parts, np.array([], dtype=int)], test, rounds=1,
                      client_fraction=0.1, local_epochs=1, batch_size=10, lr=0.1, seed=0)


# --- compression ----------------------------------------------------------------------


def test_int8_error_is_at_most_half_a_step_and_bytes_are_counted():
    update = _random_states(1, 5)[0]
    sent = fl.Int8Quantizer()(update)
    assert sent.nbytes == sum(v.numel() + 8 for v in update.values())
    for key, v in update.items():
        step = float(v.max() - v.min()) / 255
        assert float((sent.update[key] - v).abs().max()) <= step / 2 + 1e-6


def test_int8_stochastic_is_unbiased():
    v = OrderedDict(w=torch.linspace(-1, 1, 11).repeat(20_000, 1))
    sent = fl.Int8Quantizer(stochastic=True)(v, generator=torch.Generator().manual_seed(0))
    bias = (sent.update["w"] - v["w"]).mean(0)
    step = 2 / 255
    assert float(bias.abs().max()) < 0.05 * step  # mean of 20,000 draws: tolerance 5 % of a step


def test_relative_error_is_reported():
    update = _random_states(1, 6)[0]
    assert fl.NoCompression()(update).rel_error == 0.0
    for compressor in (fl.Int8Quantizer(), fl.TopK(0.1)):
        sent = compressor(update)
        num = sum(float(((sent.update[k] - v) ** 2).sum()) for k, v in update.items())
        den = sum(float((v**2).sum()) for v in update.values())
        assert sent.rel_error == pytest.approx((num / den) ** 0.5, rel=1e-6)
    assert fl.TopK(0.1)(update).rel_error > fl.Int8Quantizer()(update).rel_error


def test_topk_keeps_the_largest_entries():
    v = OrderedDict(w=torch.tensor([0.1, -5.0, 0.2, 3.0, -0.3, 0.0, 1.0, 0.05, 0.4, -2.0]))
    sent = fl.TopK(0.3)(v)
    assert sent.update["w"].tolist() == [0, -5.0, 0, 3.0, 0, 0, 0, 0, 0, -2.0]
    assert sent.nbytes == 3 * 8


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5])
def test_topk_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction"):
        fl.TopK(fraction)


def test_compression_shrinks_uploads_in_a_round(tiny_task):
    train, test, parts = tiny_task
    kw = dict(rounds=1, client_fraction=0.3, local_epochs=1, batch_size=10, lr=0.1, seed=0, progress=False)
    plain = fl.run_fedavg(MLP, train, parts, test, **kw)
    int8 = fl.run_fedavg(MLP, train, parts, test, compression=fl.Int8Quantizer(), **kw)
    assert int8.rounds[0].bytes_up < plain.rounds[0].bytes_up / 3.9


def test_run_fedavg_leaves_the_global_rng_alone(tiny_task):
    train, test, parts = tiny_task
    before = torch.get_rng_state()
    fl.run_fedavg(MLP, train, parts, test, rounds=1, client_fraction=0.2, local_epochs=1,
                  batch_size=10, lr=0.1, seed=0, vectorise=False, progress=False)
    assert torch.equal(torch.get_rng_state(), before)


def test_plot_rounds_draws_one_line_per_run_and_the_target(tiny_task):
    import matplotlib

    matplotlib.use("Agg")
    from ppml_helpers.plots import plot_rounds

    train, test, parts = tiny_task
    kw = dict(rounds=2, client_fraction=0.2, local_epochs=1, batch_size=10, lr=0.1, progress=False)
    runs = {f"seed {s}": fl.run_fedavg(LogisticRegression, train, parts, test, seed=s, **kw) for s in (0, 1)}
    _, ax = plot_rounds(runs, target=0.5)
    lines = ax.get_lines()
    assert len(lines) == 3  # two runs and the target
    assert list(lines[0].get_ydata()) == runs["seed 0"].accuracy
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["seed 0", "seed 1"]


def test_plot_rounds_takes_plain_accuracy_lists():
    import matplotlib

    matplotlib.use("Agg")
    from ppml_helpers.plots import plot_rounds

    _, ax = plot_rounds({"flower": [0.5, 0.7, 0.9]})
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    assert list(ax.get_lines()[0].get_ydata()) == [0.5, 0.7, 0.9]
