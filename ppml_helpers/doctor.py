"""``ppml doctor``: is this machine ready for the course?

Checks Python, every package a notebook imports, torch's threads and device,
each dataset under the data dir, the Jupyter kernel, the optional appendix kernels
(a warning when one is missing), and (in a course checkout)
every installed version against ``requirements/lock.txt``. Returns a list of
findings; the CLI prints them and exits non-zero when anything needed is
missing. A version that differs from the lock is a warning, not a failure: the
course may well work, but it was tested with the lock's.
"""

from __future__ import annotations

import importlib
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from . import kernels
from .config import data_dir as _data_dir
from .data import dataset_status
from .lockfile import LOCK_PATH, drift, read_lock

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
    ("sklearn", "scikit-learn"),
    ("pydp", "python-dp"),
    ("pipeline_dp", "pipeline-dp"),
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
    """One line of the doctor's report; ``ok=False`` makes ``ppml doctor`` exit 1.

    ``warning`` marks a finding worth reading that does not stop the course (``ok`` stays True).
    """

    topic: str
    ok: bool
    detail: str
    warning: bool = False


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


def _appendix_kernels() -> list[Finding]:
    """One finding per appendix kernel: optional, so a missing one is a warning naming its make target."""
    try:
        found = kernels.installed_kernels()
    except Exception as exc:
        return [Finding("appendix kernels", True, f"cannot list Jupyter's kernels: {exc}", warning=True)]
    findings = []
    for name, k in kernels.APPENDIX_KERNELS.items():
        topic = f"kernel {name} (optional)"
        if name in found:
            findings.append(Finding(topic, True, f"{k.holds}, for {k.notebook}, at {found[name]}"))
        else:
            findings.append(Finding(topic, True, f"not installed; only appendix {k.notebook} needs it "
                                    f"({k.holds}): `make {k.make_target}`", warning=True))
    return findings


def _lock(root: Path) -> list[Finding]:
    """A warning for each installed version that differs from the lock's; nothing outside a checkout."""
    path = root / LOCK_PATH
    if not path.is_file():
        return []
    drifted = drift(read_lock(path))
    fix = f"`pip install -r {LOCK_PATH}`, or `make clean-venv lab`"
    findings = [
        Finding(f"version {d.name}", True,
                f"{d.installed or 'not installed'}; the lock has {d.locked} ({fix})", warning=True)
        for d in drifted
    ]
    if not drifted:
        findings.append(Finding("lock", True, f"every installed version is the one in {LOCK_PATH}"))
    return findings


def diagnose(data_dir=None, project_root=None) -> list[Finding]:
    """Run every check and return the findings, in a stable order.

    ``project_root``: the course checkout whose lock to compare with (default: the one
    this package was installed from, when it is one).
    """
    findings = []
    py_ok = sys.version_info >= (3, 11)
    findings.append(Finding("python", py_ok, f"{platform.python_version()} ({sys.executable})"
                            + ("" if py_ok else "; the course needs 3.11 or newer")))
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
    findings += _appendix_kernels()
    findings += _lock(Path(project_root) if project_root else Path(__file__).resolve().parent.parent)
    return findings
