"""ppml_helpers.capstone.flower: notebook 08's consortium on Flower's simulation engine with
SecAgg+, against the same configuration run in-process with the same noise draws."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from ppml_helpers import capstone as cap
from ppml_helpers.capstone import accounting as acc
from ppml_helpers.capstone.flower import (
    DEFAULT_RUN_CONFIG,
    capstone_apps,
    hospital_vector,
    share_std,
)
from ppml_helpers.capstone.training import (
    TrustConfig,
    gaussian_release,
    round_rng,
    train_consortium,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hospitals():
    return cap.split_hospitals(seed=0)


def test_the_app_and_the_package_share_one_run_config():
    app = tomllib.loads((ROOT / "flower_app" / "capstone" / "pyproject.toml").read_text())
    assert app["tool"]["flwr"]["app"]["config"] == DEFAULT_RUN_CONFIG


def test_share_std_is_the_calibrated_sigma_over_the_honest_shares():
    cfg = {**DEFAULT_RUN_CONFIG, "epsilon": 2.0, "num-server-rounds": 10}
    sigma = acc.calibrate_gaussian(target_epsilon=2.0, sample_rate=1.0, rounds=10, delta=1e-5)
    assert share_std(cfg, 5) == pytest.approx(sigma / math.sqrt(3))
    with pytest.raises(ValueError, match="not below 1/n"):
        share_std({**cfg, "delta": 0.01}, 5)


def test_a_hospital_pins_its_privacy_parameters_over_the_coordinators():
    from ppml_helpers.capstone.flower import _cfg

    cfg = _cfg({"epsilon": 50.0, "lr": 2.0}, {"epsilon": 1.0, "partition-id": 3, "lr": 9.0})
    assert cfg["epsilon"] == 1.0 and cfg["lr"] == 2.0  # epsilon is pinnable, lr is not


def test_a_hospital_sends_its_noised_sum_and_no_count(hospitals):
    h = hospitals[2]
    w = np.full(31, 0.05)
    vector = hospital_vector(w, h, DEFAULT_RUN_CONFIG, rng=round_rng(0, 2, 2), noise_std=4.0)
    expected = gaussian_release(w, h.x_train, h.y_train, clip=1.0, noise_std=4.0, rng=round_rng(0, 2, 2))
    np.testing.assert_array_equal(vector, expected)


def test_a_value_outside_secaggs_range_is_refused_not_clipped(hospitals):
    with pytest.raises(ValueError, match=r"hospital_0: a coordinate of .* exceeds SecAgg\+'s clipping range 5"):
        hospital_vector(np.zeros(31), hospitals[0], {**DEFAULT_RUN_CONFIG, "clipping-range": 5.0},
                        rng=round_rng(0, 0, 0), noise_std=1.0)


def test_unknown_run_config_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown run-config keys \['epsilonn'\]"):
        capstone_apps(tmp_path, epsilonn=3.0)


def test_flower_with_secaggplus_matches_the_in_process_run(hospitals, tmp_path):
    from flwr.simulation import run_simulation

    cap.save_hospitals(hospitals, tmp_path)
    seen = []
    server, client = capstone_apps(tmp_path, on_round=lambda r, a, w: seen.append((r, a, w)),
                                   **{"num-server-rounds": 3, "epsilon": 3.0})
    run_simulation(server_app=server, client_app=client, num_supernodes=5,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}})
    reference = train_consortium(hospitals, TrustConfig("distributed", epsilon=3.0, rounds=3, lr=0.5, noise="gaussian"),
                                 seed=0, evaluate_on="test")
    assert [r for r, _, _ in seen] == [1, 2, 3]
    for (_, accuracy, _), row in zip(seen, reference.history, strict=True):
        assert abs(accuracy - row["accuracy"]) <= 1 / 116 + 1e-9
    # SecAgg+ quantises each value to 2048/2^22 and the sum is divided by 300: the models agree to ~1e-5
    assert np.abs(seen[-1][2] - reference.weights).max() < 1e-4
