"""Course configuration: seeds, device, fast mode, data directory, plot theme.

Every notebook starts with ``cfg = ph.setup(seed=0)`` in its ``parameters``
cell. Introduced in ``00_threat_models``.

torch is optional here: it is imported when :func:`setup` or :func:`seed_everything`
runs, and only if it is installed. The appendix kernel ``ppml-syft`` (PySyft 0.9.5) has
no torch; there ``setup`` seeds Python and NumPy, and ``Config.device`` is the string
``"cpu"`` (where torch is installed it is a ``torch.device``, as before).
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = ["Config", "check_seed", "data_dir", "fast_mode", "report_dir", "seed_everything", "setup"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class Config:
    """What :func:`setup` decided, handed to the notebook's later cells.

    Attributes:
        seed: the seed given to Python's ``random``, NumPy and (when installed) torch.
        device: ``torch.device("cuda")`` when a GPU is present, else ``torch.device("cpu")``;
            the string ``"cpu"`` where torch is not installed (the PySyft appendix kernel).
        fast: ``True`` when ``PPML_FAST=1``: smaller data, fewer rounds.
        data_dir: where datasets live (``PPML_DATA_DIR`` or a user cache dir).
        report_dir: where ``report.headline`` writes JSON, or ``None``.
    """

    seed: int
    device: torch.device | str
    fast: bool
    data_dir: Path
    report_dir: Path | None

    def pick(self, *, fast, full):
        """Return ``fast`` in fast mode and ``full`` otherwise.

        >>> Config(0, "cpu", True, Path("."), None).pick(fast=2, full=200)
        2
        """
        return fast if self.fast else full


def fast_mode(environ=None) -> bool:
    """Read ``PPML_FAST`` (``1``/``true``/``yes``/``on`` or ``0``/``false``/unset).

    Raises:
        ValueError: for any other value, so a typo never silently means "full".
    """
    env = os.environ if environ is None else environ
    raw = env.get("PPML_FAST", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(
        f"PPML_FAST must be one of 1/true/yes/on or 0/false/no/off. Got {raw!r}."
    )


def _user_cache_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "ppml"


def data_dir(environ=None) -> Path:
    """The data directory: ``PPML_DATA_DIR`` when set, else ``<user cache>/ppml``."""
    env = os.environ if environ is None else environ
    raw = env.get("PPML_DATA_DIR", "").strip()
    return Path(raw).expanduser() if raw else _user_cache_dir()


def report_dir(environ=None) -> Path | None:
    """The headline-report directory (``PPML_REPORT_DIR``), or ``None`` when unset."""
    env = os.environ if environ is None else environ
    raw = env.get("PPML_REPORT_DIR", "").strip()
    return Path(raw).expanduser() if raw else None


def check_seed(seed, name: str = "seed") -> int:
    """Return ``seed`` if it is a non-negative integer, else raise a ``ValueError`` naming it.

    Helpers take explicit seeds so every run can be repeated; ``None`` is refused.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer (runs must be repeatable). Got {seed!r}.")
    return int(seed)


def _torch():
    """The ``torch`` module when it is installed, else ``None`` (imported on first use)."""
    try:
        import torch
    except ImportError:  # the PySyft appendix kernel has no torch
        return None
    return torch


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's legacy global generator and torch (when installed).

    Helpers never rely on these global seeds (they take ``seed=``/``rng=``);
    this only makes a learner's own ad-hoc cells repeatable.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = _torch()
    if torch is not None:
        torch.manual_seed(seed)


def setup(seed: int = 0, *, theme: bool = True) -> Config:
    """Prepare a notebook: seed, pick the device, read fast mode and the data dir.

    Args:
        seed: non-negative integer for Python, NumPy and torch (when installed).
        theme: apply the course's seaborn plot theme.

    Returns:
        A frozen :class:`Config`.

    Raises:
        ValueError: a negative or non-integer seed, or an unreadable ``PPML_FAST``.
    """
    seed_everything(seed)
    if theme:
        import seaborn as sns

        sns.set_theme(context="notebook", style="whitegrid", palette="colorblind")
    torch = _torch()
    device = "cpu" if torch is None else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return Config(
        seed=seed,
        device=device,
        fast=fast_mode(),
        data_dir=data_dir(),
        report_dir=report_dir(),
    )
