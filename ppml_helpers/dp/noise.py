"""Where a mechanism's randomness comes from: seedable for teaching, OS entropy on request.

Introduced in ``03_differential_privacy``.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from ..config import check_seed

__all__ = ["NoiseSource", "as_noise_source"]

_TWO_POW_53 = float(2**53)


class NoiseSource:
    """Uniform, Laplace and Gaussian noise, either seeded or from the operating system.

    ``NoiseSource(seed=0)`` draws from NumPy's PCG64 generator: the same seed
    gives the same noise, which is what a course, a test or a debugging
    session needs. It is **not** fit for a real release. PCG64 is a
    statistical generator; whoever learns the seed, or sees enough of its
    outputs, can predict every later draw, subtract the noise from a
    released answer and get the exact answer back, and the privacy
    guarantee is gone.

    ``NoiseSource(secure=True)`` reads every bit from ``os.urandom`` (the
    kernel's cryptographically secure generator, the one Python's
    ``secrets`` module uses), so draws cannot be predicted or replayed;
    runs are then not repeatable. Uniforms carry 53 random bits, Gaussians
    come from the Box–Muller transform and Laplace draws from the inverse
    CDF of those uniforms.

    Neither mode fixes a subtler leak: floating-point numbers are not the
    reals, and a Laplace draw computed as ``-b*log(u)`` can only take
    values on an uneven grid, so some released outputs are impossible
    from one dataset and possible from its neighbour (Mironov 2012,
    shown in ``03_differential_privacy``). Production libraries use
    discrete or "snapped" mechanisms for that.

    Args:
        seed: a non-negative integer, for a repeatable teaching source.
        secure: ``True`` for OS entropy; then ``seed`` must be ``None``.

    Raises:
        ValueError: both or neither of ``seed`` and ``secure`` given.

    >>> NoiseSource(seed=0).normal(3, std=2.0).shape
    (3,)
    """

    def __init__(self, *, seed: int | None = None, secure: bool = False):
        if secure and seed is not None:
            raise ValueError(
                f"seed must be None when secure=True (OS entropy cannot be seeded). Got seed={seed!r}."
            )
        if not secure and seed is None:
            raise ValueError("Give seed=<int> for a repeatable source, or secure=True for OS entropy.")
        self.secure = bool(secure)
        self.seed = None if secure else check_seed(seed)
        self._rng = None if secure else np.random.default_rng(self.seed)

    def __repr__(self) -> str:
        return "NoiseSource(secure=True)" if self.secure else f"NoiseSource(seed={self.seed})"

    def uniform(self, size) -> np.ndarray:
        """Uniform draws in the open interval (0, 1), float64."""
        if not self.secure:
            u = self._rng.random(size)
            # random() is in [0, 1); keep 0 out so log(u) stays finite.
            return np.where(u == 0.0, 0.5 / _TWO_POW_53, u)
        n = int(np.prod(size, dtype=np.int64))
        words = np.frombuffer(os.urandom(8 * n), dtype=np.uint64) >> np.uint64(11)
        return ((words.astype(np.float64) + 0.5) / _TWO_POW_53).reshape(size)

    def normal(self, size, *, std: float = 1.0) -> np.ndarray:
        """Gaussian draws with mean 0 and standard deviation ``std``."""
        _check_scale(std, "std")
        if not self.secure:
            return self._rng.normal(0.0, std, size)
        n = int(np.prod(size, dtype=np.int64))
        half = (n + 1) // 2
        u1, u2 = self.uniform(half), self.uniform(half)
        radius = np.sqrt(-2.0 * np.log(u1))
        z = np.concatenate([radius * np.cos(2 * math.pi * u2), radius * np.sin(2 * math.pi * u2)])
        return (std * z[:n]).reshape(size)

    def laplace(self, size, *, scale: float) -> np.ndarray:
        """Laplace draws with mean 0 and scale ``b`` (variance 2b²), by the inverse CDF."""
        _check_scale(scale, "scale")
        if not self.secure:
            return self._rng.laplace(0.0, scale, size)
        u = self.uniform(size) - 0.5
        return -scale * np.sign(u) * np.log1p(-2.0 * np.abs(u))

    def bernoulli(self, p: float, size) -> np.ndarray:
        """Boolean draws that are ``True`` with probability ``p``."""
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"p must lie in [0, 1]. Got {p!r}.")
        return self.uniform(size) < p

    def torch_normal(self, shape, *, std: float, dtype=torch.float32) -> torch.Tensor:
        """Gaussian noise as a torch tensor (drawn in float64, then cast), e.g. for DP-SGD."""
        shape = tuple(shape)
        return torch.from_numpy(np.asarray(self.normal(shape, std=std))).to(dtype)


def _check_scale(value, name: str) -> None:
    if not (isinstance(value, (int, float, np.floating)) and 0 <= float(value) < math.inf):
        raise ValueError(f"{name} must be a non-negative finite number. Got {value!r}.")


def as_noise_source(rng) -> NoiseSource:
    """Accept a :class:`NoiseSource` or an integer seed (a seeded source), refuse the rest.

    Raises:
        TypeError: ``rng`` is ``None`` or another type (randomness is always explicit).
    """
    if isinstance(rng, NoiseSource):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return NoiseSource(seed=int(rng))
    raise TypeError(
        "rng must be a ppml_helpers.dp.NoiseSource (NoiseSource(seed=0) or NoiseSource(secure=True)) "
        f"or an integer seed. Got {rng!r}."
    )
