"""Helpers for the hands-on course on privacy-preserving machine learning.

Notebooks do ``import ppml_helpers as ph`` and call ``ph.setup(seed=0)``,
``ph.data.load_mnist(...)``, ``ph.inversion.dlg_attack(...)`` and so on.
Submodules load on first use, so importing the package stays cheap.
"""

from __future__ import annotations

import importlib

from .config import Config, setup

__version__ = "0.1.0"

_SUBMODULES = (
    "build", "capstone", "cli", "config", "data", "doctor", "dp", "errors", "exercises", "fl", "guide", "he",
    "interview", "inversion", "kernels", "lockfile", "mia", "models", "mpc", "plots", "remote", "report", "runner",
    "secagg", "site", "slides", "tf_bridge", "train", "wheelhouse", "widgets",
)  # fmt: skip

__all__ = ["Config", "__version__", "setup", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES))
