"""``ppml doctor``: is this machine ready for the course?

Checks Python, every package a notebook imports, torch's threads and device,
each dataset under the data dir, and the Jupyter kernel. Returns a list of
findings; the CLI prints them and exits non-zero when anything needed is missing.
"""

from __future__ import annotations

import importlib
import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from .config import data_dir as _data_dir
from .data import dataset_status

__all__ = ["REQUIRED_IMPORTS", "Finding", "diagnose"]

#: (import name, distribution name) of everything the notebooks use.
REQUIRED_IMPORTS = (
    ("torch", "torch"),
    ("torchvision", "torchvision"),
    ("opacus", "opacus"),
    ("tenseal", "tenseal"),
    ("flwr", "flwr"),
    ("ray", "ray"),
    ("dp_accounting", "dp-accounting"),
    ("cryptography", "cryptography"),
    ("numpy", "numpy"),
    ("scipy", "scipy"),
    ("pandas", "pandas"),
    ("matplotlib", "matplotlib"),
    ("seaborn", "seaborn"),
    ("tqdm", "tqdm"),
    ("ipywidgets", "ipywidgets"),
    ("ipykernel", "ipykernel"),
    ("jupyterlab", "jupyterlab"),
    ("nbformat", "nbformat"),
    ("nbclient", "nbclient"),
)


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report; ``ok=False`` makes ``ppml doctor`` exit 1."""

    topic: str
    ok: bool
    detail: str


def _package(mod: str, dist: str) -> Finding:
    try:
        importlib.import_module(mod)
    except Exception as exc:  # ImportError, or a broken build failing at import
        return Finding(f"package {dist}", False, f"cannot import {mod}: {type(exc).__name__}: {exc}")
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = "unknown version"
    return Finding(f"package {dist}", True, version)


def _kernel() -> Finding:
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec("python3")
    except Exception as exc:
        return Finding("jupyter kernel", False, f"no python3 kernel: {exc}")
    return Finding("jupyter kernel", True, f"python3 ({spec.display_name}) at {spec.resource_dir}")


def diagnose(data_dir=None) -> list[Finding]:
    """Run every check and return the findings, in a stable order."""
    findings = []
    py_ok = sys.version_info >= (3, 10)
    findings.append(Finding("python", py_ok, f"{platform.python_version()} ({sys.executable})"
                            + ("" if py_ok else "; the course needs 3.10 or newer")))
    findings += [_package(mod, dist) for mod, dist in REQUIRED_IMPORTS]
    try:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
        findings.append(Finding("torch", True, f"{torch.get_num_threads()} threads, device {device}"))
    except Exception as exc:
        findings.append(Finding("torch", False, str(exc)))
    root = _data_dir() if data_dir is None else data_dir
    for name, missing in dataset_status(root).items():
        if missing:
            detail = f"missing under {root}: " + ", ".join(p.name for p in missing)
            detail += " (run `ppml data download`, or set PPML_DATA_DIR to a copy)"
            findings.append(Finding(f"dataset {name}", False, detail))
        else:
            findings.append(Finding(f"dataset {name}", True, f"found under {root}"))
    findings.append(_kernel())
    return findings
