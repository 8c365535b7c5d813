"""The Jupyter kernels the notebooks run in: the course's own, and one per appendix.

The appendices pin releases the course cannot live beside (TensorFlow Federated:
TensorFlow 2.14 and numpy 1.25; PySyft 0.9.5: numpy 1.24 and pandas 2.2.2), so
each has a virtual environment of its own, ``.venv-<name>``, built by ``make
<name>-kernel`` from ``requirements/<name>-lock.txt``, and a kernel ``ppml-<name>``
registered where JupyterLab and ``ppml run`` look. A notebook names its kernel in
its metadata (``kernelspec.name``); everything that executes notebooks asks here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "APPENDIX_KERNELS",
    "COURSE_KERNEL",
    "AppendixKernel",
    "KernelMissingError",
    "installed_kernels",
    "kernel_name",
    "require_kernel",
    "stop_processes",
]

#: The kernel of notebooks 00-09: the Python of the course's ``.venv``.
COURSE_KERNEL = "python3"


@dataclass(frozen=True)
class AppendixKernel:
    """An appendix's kernel: its name, its venv, the make target that builds it, what it holds."""

    name: str
    venv: str
    make_target: str
    notebook: str
    holds: str


APPENDIX_KERNELS = {
    k.name: k
    for k in (
        AppendixKernel("ppml-tf", ".venv-tf", "tf-kernel", "A1_tensorflow_federated",
                       "TensorFlow Federated 0.87.0 and TF Privacy 0.9.0 (TensorFlow 2.14)"),
        AppendixKernel("ppml-syft", ".venv-syft", "syft-kernel", "A2_pysyft", "PySyft 0.9.5"),
    )
}


class KernelMissingError(LookupError):
    """A notebook names a Jupyter kernel that is not installed; the message says how to build it."""


def kernel_name(nb) -> str:
    """The kernel a notebook asks for in its metadata; the course's when it names none."""
    spec = nb.get("metadata", {}).get("kernelspec") or {}
    return spec.get("name") or COURSE_KERNEL


def installed_kernels() -> dict[str, str]:
    """``{kernel name: folder of its kernel.json}`` for every kernel Jupyter finds here."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager().find_kernel_specs()


def require_kernel(name: str, notebook: str = "this notebook") -> str:
    """Return ``name`` when Jupyter finds that kernel; raise :class:`KernelMissingError` saying
    which make target builds it otherwise."""
    if name in installed_kernels():
        return name
    appendix = APPENDIX_KERNELS.get(name)
    if appendix is not None:
        raise KernelMissingError(
            f"{notebook} runs in the Jupyter kernel {name!r} ({appendix.holds}, in its own "
            f"virtual environment {appendix.venv}), which is not installed here: run "
            f"`make {appendix.make_target}` in the course folder (Linux x86-64, Python 3.11; "
            "a few minutes and some GB of disk), then run it again.")
    raise KernelMissingError(
        f"{notebook} runs in the Jupyter kernel {name!r}, which is not installed here; the "
        f"kernels found are {sorted(installed_kernels())}. The course's notebooks use "
        f"{COURSE_KERNEL!r} (`make lab` installs it), the appendices "
        + ", ".join(f"{k!r} (`make {a.make_target}`)" for k, a in APPENDIX_KERNELS.items()) + ".")


def stop_processes(procs, timeout: float = 10) -> list[int]:
    """Terminate ``procs`` (``psutil.Process`` objects), kill those still alive after ``timeout``
    seconds, and return their pids: how the runner stops what a notebook left behind, how
    A1 stops TFF's ``worker_binary`` and how ``flower_app/federation.py`` stops its processes."""
    import psutil

    procs = list(procs)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=timeout)  # reaped, so no zombie outlives the call
    return [p.pid for p in procs]
