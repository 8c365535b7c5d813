"""Small models used across the course; none uses BatchNorm, so all work with Opacus.

BatchNorm mixes examples of a batch, so one example's gradient depends on the
others and per-example clipping (DP-SGD) is undefined; Opacus refuses it. We
use plain layers (and GroupNorm where normalisation is wanted).
Introduced in ``00_threat_models`` and ``01_federated_averaging``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "MLP",
    "LayerStack",
    "LogisticRegression",
    "McMahanCNN",
    "SigmoidLeNet",
    "SmallCNN",
    "count_parameters",
]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class LayerStack(nn.Module):
    """A model whose forward is exactly ``self.net(x)`` for an ``nn.Sequential`` ``net``.

    Federated simulations train many copies of such a model at once with
    batched matrix products (``ppml_helpers.fl``), which needs to know the
    layers in order; subclasses only build ``self.net``.
    """

    net: nn.Sequential

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LogisticRegression(LayerStack):
    """Multinomial logistic regression: flatten, then one linear layer."""

    def __init__(self, in_features: int = 784, num_classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, num_classes))


class MLP(LayerStack):
    """McMahan et al.'s "2NN": 784-200-200-10 with ReLU (199,210 parameters)."""

    def __init__(self, in_features: int = 784, hidden: int = 200, num_classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )


class McMahanCNN(nn.Module):
    """McMahan et al.'s MNIST CNN (1,663,370 parameters).

    Two 5x5 convolutions (32 then 64 channels, "same" padding), each followed
    by ReLU and 2x2 max pooling, a 512-unit ReLU layer and a linear output.
    The convolutions run in channels-last memory layout, which oneDNN pools and
    convolves faster on a CPU (about 1.5x for evaluation here); the numbers
    are the same as in the default layout up to float rounding.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 7 * 7, 512), nn.ReLU(), nn.Linear(512, num_classes)
        )
        self.features.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x.contiguous(memory_format=torch.channels_last)))


class SmallCNN(nn.Module):
    """The small CNN of Opacus's MNIST example and Papernot et al. (2021), 26,010 parameters.

    Args:
        activation: ``"tanh"`` (the tempered sigmoid that suits DP-SGD) or ``"relu"``.
    """

    def __init__(self, num_classes: int = 10, activation: str = "tanh"):
        super().__init__()
        acts = {"tanh": nn.Tanh, "relu": nn.ReLU}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)}. Got {activation!r}.")
        act = acts[activation]
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 8, stride=2, padding=3),
            act(),
            nn.MaxPool2d(2, 1),
            nn.Conv2d(16, 32, 4, stride=2),
            act(),
            nn.MaxPool2d(2, 1),
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 32),
            act(),
            nn.Linear(32, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SigmoidLeNet(nn.Module):
    """The LeNet variant of Zhu et al. (2019, "Deep Leakage from Gradients") for 28x28 inputs.

    Three 5x5 convolutions with sigmoid activations (strides 2, 2, 1) and one
    linear layer. Sigmoids are smooth (twice differentiable), which the
    gradient-matching attack needs, and positive, which makes the label
    readable from the last layer's gradient (iDLG). Used in ``00_threat_models``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 28):
        super().__init__()
        side = (image_size + 3) // 4
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 12, 5, padding=2, stride=2),
            nn.Sigmoid(),
            nn.Conv2d(12, 12, 5, padding=2, stride=2),
            nn.Sigmoid(),
            nn.Conv2d(12, 12, 5, padding=2, stride=1),
            nn.Sigmoid(),
        )
        self.fc = nn.Linear(12 * side * side, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.body(x).flatten(1))
