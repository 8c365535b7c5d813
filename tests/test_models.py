"""ppml_helpers.models: parameter counts, output shapes, and DP-SGD compatibility."""

from __future__ import annotations

import copy

import pytest
import torch
from opacus.validators import ModuleValidator
from torch import nn

from ppml_helpers.models import (
    MLP,
    LogisticRegression,
    McMahanCNN,
    SigmoidLeNet,
    SmallCNN,
    count_parameters,
)

MODELS = {
    "logreg": LogisticRegression,
    "mlp": MLP,
    "mcmahan_cnn": McMahanCNN,
    "small_cnn_tanh": lambda: SmallCNN(activation="tanh"),
    "small_cnn_relu": lambda: SmallCNN(activation="relu"),
    "sigmoid_lenet": SigmoidLeNet,
}


def _linear(i: int, o: int) -> int:
    return i * o + o


def _conv(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k + c_out


@pytest.fixture(params=sorted(MODELS))
def model(request) -> nn.Module:
    torch.manual_seed(0)
    return MODELS[request.param]()


# --- parameter counts -----------------------------------------------------------------


def test_mlp_has_the_papers_199210_parameters():
    # McMahan et al. (2017), "2NN": 784-200-200-10, 199,210 parameters.
    assert _linear(784, 200) + _linear(200, 200) + _linear(200, 10) == 199_210
    assert count_parameters(MLP()) == 199_210


def test_mcmahan_cnn_has_the_papers_1663370_parameters():
    # McMahan et al. (2017), MNIST CNN: 1,663,370 parameters.
    expected = _conv(1, 32, 5) + _conv(32, 64, 5) + _linear(64 * 7 * 7, 512) + _linear(512, 10)
    assert expected == 1_663_370
    assert count_parameters(McMahanCNN()) == 1_663_370


def test_small_cnn_parameter_count():
    # Opacus MNIST example / Papernot et al. (2021): 26,010 parameters.
    expected = _conv(1, 16, 8) + _conv(16, 32, 4) + _linear(32 * 4 * 4, 32) + _linear(32, 10)
    assert count_parameters(SmallCNN()) == expected == 26_010


def test_logistic_regression_parameter_count():
    assert count_parameters(LogisticRegression()) == _linear(784, 10)


def test_sigmoid_lenet_parameter_count():
    # Zhu et al. (2019) LeNet for 28x28: three 5x5 convs of 12 channels, 28 -> 14 -> 7 -> 7.
    expected = _conv(1, 12, 5) + 2 * _conv(12, 12, 5) + _linear(12 * 7 * 7, 10)
    assert count_parameters(SigmoidLeNet()) == expected


def test_count_parameters_skips_frozen():
    model = MLP()
    model.net[1].requires_grad_(False)
    assert count_parameters(model) == 199_210 - _linear(784, 200)


# --- shapes ---------------------------------------------------------------------------


def test_output_shape_on_mnist_batch(model):
    out = model(torch.rand(5, 1, 28, 28))
    assert out.shape == (5, 10)


def test_single_example_batch(model):
    assert model(torch.rand(1, 1, 28, 28)).shape == (1, 10)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogisticRegression(num_classes=3),
        lambda: MLP(num_classes=3),
        lambda: McMahanCNN(num_classes=3),
        lambda: SmallCNN(num_classes=3),
        lambda: SigmoidLeNet(num_classes=3),
    ],
    ids=["logreg", "mlp", "mcmahan_cnn", "small_cnn", "sigmoid_lenet"],
)
def test_num_classes_sets_output_width(make):
    assert make()(torch.rand(2, 1, 28, 28)).shape == (2, 3)


@pytest.mark.parametrize("size", [28, 29, 30, 31, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_sigmoid_lenet_other_image_sizes(size, channels):
    model = SigmoidLeNet(in_channels=channels, image_size=size)
    assert model(torch.rand(2, channels, size, size)).shape == (2, 10)


def test_mlp_hidden_width():
    assert count_parameters(MLP(hidden=32)) == _linear(784, 32) + _linear(32, 32) + _linear(32, 10)


# --- DP-SGD compatibility -------------------------------------------------------------

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def test_no_batchnorm(model):
    assert not any(isinstance(m, BATCH_NORMS) for m in model.modules())


def test_opacus_validator_accepts(model):
    assert ModuleValidator.validate(model, strict=False) == []


def test_opacus_validator_would_flag_batchnorm():
    # The validator check above can fail: a BatchNorm model is reported.
    bad = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4))
    assert ModuleValidator.validate(bad, strict=False) != []


# --- bad inputs -----------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["sigmoid", "ReLU", "", None])
def test_small_cnn_bad_activation_raises(activation):
    with pytest.raises(ValueError, match="activation"):
        SmallCNN(activation=activation)


@pytest.mark.parametrize(("activation", "cls"), [("tanh", nn.Tanh), ("relu", nn.ReLU)])
def test_small_cnn_activation_used(activation, cls):
    acts = [
        m for m in SmallCNN(activation=activation).modules() if isinstance(m, (nn.Tanh, nn.ReLU))
    ]
    assert len(acts) == 3 and all(isinstance(m, cls) for m in acts)


def test_mcmahan_cnn_runs_channels_last_with_the_default_layouts_numbers():
    torch.manual_seed(0)
    model = McMahanCNN()
    model.load_state_dict({k: v.contiguous() for k, v in model.state_dict().items()})  # as from a file
    assert model.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    reference = copy.deepcopy(model.features).to(memory_format=torch.contiguous_format)
    assert reference[0].weight.is_contiguous()
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.classifier(reference(x)), atol=1e-5, rtol=1e-5)
