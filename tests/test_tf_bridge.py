"""ppml_helpers.tf_bridge without TensorFlow: torch weights in Keras's layout, bad states refused,
and TFF's leftover worker stopped (a stand-in process named worker_binary)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import psutil
import pytest
import torch

from ppml_helpers import models
from ppml_helpers.tf_bridge import TFF_WORKER, keras_weights_from_torch, stop_tff_workers


def test_torch_weights_become_keras_kernels_that_compute_the_same_function():
    torch.manual_seed(0)
    mlp = models.MLP()
    weights = keras_weights_from_torch(mlp.state_dict())
    assert [w.shape for w in weights] == [(784, 200), (200,), (200, 200), (200,), (200, 10), (10,)]
    x = torch.rand(5, 784)
    h = x.numpy()
    for i in range(0, len(weights), 2):  # what Keras's Dense layers compute: x @ kernel + bias
        h = h @ weights[i] + weights[i + 1]
        if i + 2 < len(weights):
            h = np.maximum(h, 0)
    np.testing.assert_allclose(h, mlp(x).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("state", [
    {},
    {"w.weight": np.zeros((2, 3))},
    {"w.weight": np.zeros((2, 3)), "w.bias": np.zeros(3)},  # bias of the wrong length
    {"w.bias": np.zeros(2), "w.weight": np.zeros((2, 3))},  # out of order
])
def test_a_state_that_is_not_linear_layers_is_refused_naming_what_it_got(state):
    with pytest.raises(ValueError, match="state must"):
        keras_weights_from_torch(state)


def test_stop_tff_workers_stops_a_worker_binary_child_and_nothing_else(tmp_path):
    fake_worker = tmp_path / TFF_WORKER
    shutil.copy(shutil.which("sleep"), fake_worker)
    worker = subprocess.Popen([str(fake_worker), "600"])
    bystander = subprocess.Popen([shutil.which("sleep"), "600"])
    try:
        stopped = stop_tff_workers()
        assert stopped == [worker.pid]
        assert worker.wait(timeout=10) is not None
        assert bystander.poll() is None and psutil.pid_exists(bystander.pid)
    finally:
        for proc in (worker, bystander):
            proc.kill()
            proc.wait()
