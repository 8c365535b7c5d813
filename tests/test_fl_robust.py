"""fl.robust and fl.attacks: the robust aggregators equal Flower's own (its FedMedian's
numpy median, FedTrimmedAvg's trim_mean, Krum's selection) and the attacks do what their
docstrings say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from flwr.app import ArrayRecord, RecordDict
from flwr.serverapp.strategy.fedtrimmedavg import trim_mean as flower_trim_mean
from flwr.serverapp.strategy.multikrum import select_multikrum
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ppml_helpers import fl


def _states(n: int, seed: int, shapes=((3, 4), (4,))):
    g = torch.Generator().manual_seed(seed)
    return [{f"p{i}": torch.randn(*shape, generator=g) for i, shape in enumerate(shapes)} for _ in range(n)]


@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_median_is_numpys_coordinate_median(n):
    states = _states(n, seed=n)
    out = fl.coordinate_median(states)
    for key in states[0]:
        expected = np.median(np.stack([s[key].numpy() for s in states]), axis=0)  # FedMedian's rule
        np.testing.assert_allclose(out[key].numpy(), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("n", "beta"), [(10, 0.2), (10, 0.0), (7, 0.3), (4, 0.49)])
def test_trimmed_mean_is_flowers(n, beta):
    states = _states(n, seed=10 * n)
    out = fl.trimmed_mean(states, beta=beta)
    for key in states[0]:
        expected = flower_trim_mean(np.stack([s[key].numpy() for s in states]), beta)
        np.testing.assert_allclose(out[key].numpy(), expected, rtol=0, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 12), f=st.integers(0, 4), seed=st.integers(0, 10_000))
@example(n=4, f=1, seed=93)  # a tie (clients 2 and 3), which failed CI once
def test_krum_picks_the_client_flowers_krum_picks(n, f, seed):
    f = min(f, n - 1)
    states = _states(n, seed)
    choice = fl.krum(states, num_malicious=f)
    contents = [RecordDict({"arrays": ArrayRecord(s)}) for s in states]
    flower = select_multikrum(contents, num_malicious_nodes=f, num_nodes_to_select=1)[0]
    picked = flower["arrays"].to_torch_state_dict()
    [flower_index] = [i for i, s in enumerate(states)
                      if all(torch.equal(s[k], picked[k]) for k in s)]
    assert choice.scores[choice.index] == min(choice.scores)
    assert all(torch.equal(v, states[choice.index][k]) for k, v in choice.state.items())
    # Flower's pick has the lowest score too. Ties are structural when n - f - 2 <= 1: each
    # client's score is then its nearest-neighbour distance, which the closest pair share, and
    # Flower (float32 distances from norms) breaks the tie by rounding, we by the lower index.
    # Away from ties (second-lowest score more than 1e-5 relative above) the two picks agree.
    assert choice.scores[flower_index] <= min(choice.scores) * (1 + 1e-5), (flower_index, choice)
    if sorted(choice.scores)[1] > min(choice.scores) * (1 + 1e-5):
        assert flower_index == choice.index


def test_robust_aggregators_resist_two_boosted_sign_flips_fedavg_does_not():
    # Arrange: 8 honest clients near +1, 2 attackers sending -10x the honest update from 0
    g = torch.Generator().manual_seed(0)
    zero = {"w": torch.zeros(50)}
    honest = [{"w": 1.0 + 0.1 * torch.randn(50, generator=g)} for _ in range(8)]
    attackers = [fl.sign_flip(zero, honest[i], boost=10.0) for i in range(2)]
    states = attackers + honest
    # Act
    mean = fl.fedavg(states, [1] * 10)["w"]
    robust = [fl.coordinate_median(states)["w"], fl.trimmed_mean(states, beta=0.2)["w"],
              fl.krum(states, num_malicious=2).state["w"]]
    # Assert: FedAvg's step points the wrong way (-1.2x); the robust ones stay near +1
    assert mean.mean() < -1.0
    for out in robust:
        assert 0.8 < float(out.mean()) < 1.2
    assert fl.krum(states, num_malicious=2).index >= 2  # an honest client is kept


def test_median_bounded_by_honest_values_with_a_minority_of_attackers():
    honest = _states(6, seed=1)
    attackers = [{k: 1e6 * torch.ones_like(v) for k, v in honest[0].items()} for _ in range(5)]
    out = fl.coordinate_median(attackers + honest)
    for key in out:
        stacked = torch.stack([s[key] for s in honest])
        assert torch.all(out[key] <= stacked.max(0).values) and torch.all(out[key] >= stacked.min(0).values)


@pytest.mark.parametrize("beta", [-0.1, 0.5, 1.0])
def test_bad_beta_is_named(beta):
    with pytest.raises(ValueError, match="beta must be in"):
        fl.trimmed_mean(_states(4, 0), beta=beta)


@pytest.mark.parametrize("f", [-1, 4])
def test_bad_num_malicious_is_named(f):
    with pytest.raises(ValueError, match="num_malicious must be in"):
        fl.krum(_states(4, 0), num_malicious=f)


@pytest.mark.parametrize("aggregate", [fl.coordinate_median, lambda s: fl.trimmed_mean(s, beta=0.1),
                                       lambda s: fl.krum(s, num_malicious=0)])
def test_mismatched_or_empty_states_are_named(aggregate):
    with pytest.raises(ValueError, match="states is empty"):
        aggregate([])
    with pytest.raises(ValueError, match="shape"):
        aggregate([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}])


def test_sign_flip_sends_minus_boost_times_the_honest_update():
    g = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([0.5])}
    s = {"w": torch.tensor([1.5, 1.0]), "b": torch.tensor([0.5])}
    out = fl.sign_flip(g, s, boost=10.0)
    torch.testing.assert_close(out["w"] - g["w"], -10.0 * (s["w"] - g["w"]))
    torch.testing.assert_close(out["b"], g["b"])


@pytest.mark.parametrize("boost", [0.0, -1.0, float("nan")])
def test_bad_boost_is_named(boost):
    g = {"w": torch.zeros(2)}
    with pytest.raises(ValueError, match="boost must be positive"):
        fl.sign_flip(g, g, boost=boost)


def test_sign_flip_refuses_mismatched_states():
    with pytest.raises(ValueError, match="different keys"):
        fl.sign_flip({"w": torch.zeros(2)}, {"v": torch.zeros(2)}, boost=1.0)


def test_label_flip_maps_c_to_9_minus_c_and_is_an_involution():
    y = torch.arange(10)
    assert torch.equal(fl.flip_labels(y), torch.arange(9, -1, -1))
    assert torch.equal(fl.flip_labels(fl.flip_labels(y)), y)
    assert torch.equal(fl.flip_labels(torch.tensor([0, 1]), num_classes=2), torch.tensor([1, 0]))


def test_label_outside_the_classes_is_named():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        fl.flip_labels(torch.tensor([3, 10]))


def test_attacks_docstring_examples_run():
    import doctest

    from ppml_helpers.fl import attacks
    assert doctest.testmod(attacks).failed == 0


@pytest.mark.parametrize(("n", "f", "supporters"), [(10, 2, 4), (25, 5, 8), (7, 3, 1), (9, 1, 4)])
def test_alie_default_z_is_the_papers_z_max(n, f, supporters):
    from scipy.stats import norm
    assert supporters == int(n / 2 + 1) - f  # s = floor(n/2 + 1) - f, the paper's supporters
    expected = float(norm.ppf((n - supporters) / n))
    assert fl.alie_z_max(num_clients=n, num_malicious=f) == pytest.approx(expected, rel=1e-12)
    if (n, f) == (10, 2):
        assert expected == pytest.approx(0.2533471, abs=1e-6)


def test_alie_sends_global_plus_mean_minus_z_std_of_the_honest_updates():
    g = {"w": torch.tensor([1.0, 0.0, -1.0]), "b": torch.tensor([2.0])}
    honest = [{"w": torch.tensor([2.0, 0.0, -1.0]), "b": torch.tensor([2.0])},   # updates (1, 0, 0), 0
              {"w": torch.tensor([3.0, 1.0, -1.0]), "b": torch.tensor([3.0])},   # (2, 1, 0), 1
              {"w": torch.tensor([4.0, 2.0, -1.0]), "b": torch.tensor([4.0])}]   # (3, 2, 0), 2
    out = fl.alie(g, honest, num_clients=10, num_malicious=2, z=1.5)
    # mean update (2, 1, 0) and (1,); sample std (1, 1, 0) and (1,)
    torch.testing.assert_close(out["w"], torch.tensor([1.0 + 2 - 1.5, 1 - 1.5, -1.0]))
    torch.testing.assert_close(out["b"], torch.tensor([2.0 + 1 - 1.5]))
    z = fl.alie_z_max(num_clients=10, num_malicious=2)
    default = fl.alie(g, honest, num_clients=10, num_malicious=2)
    torch.testing.assert_close(default["w"], torch.tensor([1.0 + 2 - z, 1 - z, -1.0]))


def test_alie_at_z_max_lies_inside_the_honest_range_so_median_and_trim_keep_it():
    honest = _states(8, seed=5)
    g = {k: torch.zeros_like(v) for k, v in honest[0].items()}
    attack = fl.alie(g, honest, num_clients=10, num_malicious=2)
    for key, value in attack.items():
        stacked = torch.stack([s[key] for s in honest])
        assert torch.all(value > stacked.min(0).values) and torch.all(value < stacked.max(0).values)
        assert torch.all(value < stacked.mean(0))  # every coordinate pulled the same way
    # so the median of 10 with 2 such attackers stays inside the honest range, and Krum picks the attackers
    states = [attack, attack, *honest]
    median = fl.coordinate_median(states)
    for key in median:
        stacked = torch.stack([s[key] for s in honest])
        assert torch.all(median[key] >= stacked.min(0).values) and torch.all(median[key] <= stacked.max(0).values)
    assert fl.krum(states, num_malicious=2).index in (0, 1)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_clients": 10, "num_malicious": 0}, "num_malicious must be at least 1"),
    ({"num_clients": 10, "num_malicious": 5}, r"below num_clients / 2 = 5"),
    ({"num_clients": 4, "num_malicious": 1}, "z_max is .* = 0"),
    ({"num_clients": 10, "num_malicious": 2, "z": 0.0}, "z must be positive"),
    ({"num_clients": 10, "num_malicious": 2, "z": -1.0}, "z must be positive"),
    ({"num_clients": 10, "num_malicious": 2, "z": float("nan")}, "z must be positive"),
    ({"num_clients": 10, "num_malicious": 6, "z": 1.0}, "num_malicious must be"),
])
def test_alie_refusals_are_named(kwargs, match):
    honest = _states(3, seed=0)
    with pytest.raises(ValueError, match=match):
        fl.alie(honest[0], honest, **kwargs)


def test_alie_needs_two_honest_states_and_matching_ones():
    honest = _states(2, seed=0)
    with pytest.raises(ValueError, match="at least 2 states"):
        fl.alie(honest[0], honest[:1], num_clients=10, num_malicious=2)
    with pytest.raises(ValueError, match="different keys"):
        fl.alie({"v": torch.zeros(2)}, [{"w": torch.zeros(2)}] * 2, num_clients=10, num_malicious=2)
