"""Execute notebooks with nbclient, time them and collect their headline numbers.

Used by ``ppml run`` / ``make course`` and by the notebook tests, so both run
notebooks the same way.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import NotebookExecutionTimeout
from .kernels import kernel_name, require_kernel, stop_processes
from .report import Headline, read_headlines

__all__ = [
    "FAST_CELL_TIMEOUT",
    "FULL_CELL_TIMEOUT",
    "RunResult",
    "cell_errors",
    "cell_timeout",
    "execute_notebook",
    "run_notebooks",
]

#: Seconds one cell may run before the notebook fails (fast mode: every notebook takes
#: minutes in all, so a cell past this is a hung or dead kernel, not a slow one).
FAST_CELL_TIMEOUT = 300
#: Full mode's longest cells (notebook 01's runs) take minutes, never half an hour.
FULL_CELL_TIMEOUT = 1800
#: A kernel that used less CPU than this share of a timed-out cell's wall time sat idle.
IDLE_CPU_SHARE = 0.1


def cell_timeout(fast: bool) -> int:
    """The per-cell timeout that fits the mode: 300 s in fast mode, 1,800 s in full mode."""
    return FAST_CELL_TIMEOUT if fast else FULL_CELL_TIMEOUT


@dataclass(frozen=True)
class RunResult:
    """One executed notebook: wall time, the executed copy, its headline, or the error."""

    path: Path
    seconds: float
    notebook: object
    headline: Headline | None
    error: str | None


def execute_notebook(
    path,
    *,
    fast: bool,
    allow_errors: bool = False,
    timeout: int | None = None,
    report_dir=None,
    extra_env: dict | None = None,
):
    """Execute ``path`` in a fresh kernel from its own folder; return the executed notebook.

    ``PPML_FAST`` is set from ``fast``; ``PPML_REPORT_DIR`` from ``report_dir``.
    Cells tagged ``raises-exception`` may raise. Other errors raise
    ``nbclient.exceptions.CellExecutionError`` unless ``allow_errors``. The kernel is the
    one the notebook's metadata names (an appendix's own, or the course's ``python3``);
    processes its cells started and left behind (TFF's ``worker_binary``) are stopped.

    Args:
        timeout: seconds one cell may take; ``None`` takes :func:`cell_timeout` of the mode.

    Raises:
        KernelMissingError: the notebook's kernel is not installed (the message names the
            make target that builds it).
        NotebookExecutionTimeout: a cell ran past ``timeout`` (a hung kernel included) or
            the kernel died; the message names the notebook, the cell index and its first line.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    if timeout is None:
        timeout = cell_timeout(fast)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    kernel = require_kernel(kernel_name(nb), path.name)
    env = dict(os.environ)
    env["PPML_FAST"] = "1" if fast else "0"
    if report_dir is not None:
        env["PPML_REPORT_DIR"] = str(report_dir)
    else:
        env.pop("PPML_REPORT_DIR", None)
    env.update(extra_env or {})
    watch = {"index": None, "start": None, "cpu": None, "timeout_at": None}
    spawned: dict[int, float] = {}  # pid -> create time of every process the kernel started

    def _started(cell, cell_index, **_):
        watch.update(index=cell_index, start=time.monotonic(), cpu=_kernel_cpu(client.km))

    def _executed(cell, cell_index, **_):
        spawned.update(_descendants(client.km))

    class _Client(NotebookClient):
        async def _async_handle_timeout(self, timeout, cell=None):
            # Read the kernel's CPU before nbclient shuts it down: idle means hung, busy means slow.
            watch["timeout_at"] = (time.monotonic(), _kernel_cpu(self.km))
            return await super()._async_handle_timeout(timeout, cell)

    client = _Client(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        on_cell_start=_started,
        on_cell_executed=_executed,
    )
    try:
        client.execute(env=env)
    except DeadKernelError as exc:
        raise NotebookExecutionTimeout(_describe(path, nb, watch["index"], "the kernel died")) from exc
    except TimeoutError as exc:  # nbclient's CellTimeoutError among them
        raise NotebookExecutionTimeout(_describe(path, nb, watch["index"], _verdict(watch, timeout))) from exc
    finally:
        _stop_leftovers(spawned)
    return nb


def _descendants(km) -> dict[int, float]:
    """``{pid: create time}`` of every process below the kernel, now."""
    import psutil

    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if not isinstance(pid, int):
        return {}
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return {}
    found = {}
    for child in children:
        try:
            found[child.pid] = child.create_time()
        except psutil.Error:
            continue
    return found


def _stop_leftovers(spawned: dict[int, float]) -> list[int]:
    """Kill the processes a notebook's cells started that outlived its kernel (TFF leaves its
    ``worker_binary`` behind, holding the kernel's stdout open); return their pids."""
    import psutil

    alive = []
    for pid, created in spawned.items():
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == created:  # not a new process that reused the pid
                alive.append(proc)
        except psutil.Error:
            continue
    return stop_processes(alive)


def _kernel_cpu(km) -> float | None:
    """CPU seconds the kernel process has used so far; ``None`` when it is unknown or gone."""
    import psutil

    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if not isinstance(pid, int):
        return None
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


def _verdict(watch: dict, timeout: int) -> str:
    """What a timeout was: a kernel that sat idle (hung) or one busy with a slow cell."""
    said = f"no reply within the {timeout} s per-cell timeout"
    if watch["timeout_at"] is None or watch["cpu"] is None or watch["timeout_at"][1] is None:
        return f"{said} (a hung or dead kernel, or a cell far slower than the mode allows)"
    wall, used = watch["timeout_at"][0] - watch["start"], watch["timeout_at"][1] - watch["cpu"]
    if used < IDLE_CPU_SHARE * wall:
        return (f"{said}, and the kernel sat idle meanwhile ({used:.1f} s of CPU in {wall:.0f} s): "
                "a hung kernel, or a cell waiting on something outside it")
    return f"{said}; the kernel was busy ({used:.0f} s of CPU in {wall:.0f} s): a cell slower than the mode allows"


def _describe(path: Path, nb, index: int | None, what: str) -> str:
    """``notebook, cell i ('its first line'): what happened``."""
    if index is None:
        return f"{path.name}, before its first cell: {what}."
    lines = [ln.strip() for ln in nb.cells[index].source.splitlines() if ln.strip()]
    return f"{path.name}, cell {index} ({lines[0] if lines else ''!r}): {what}."


def cell_errors(nb) -> list[tuple[int, str, str]]:
    """``(cell index, exception name, message)`` for every error output in an executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, out.get("ename", ""), out.get("evalue", "")))
    return found


def run_notebooks(
    paths, *, fast: bool, timeout: int | None = None, progress=None, save_dir=None,
) -> list[RunResult]:
    """Execute each notebook in turn; never stop at a failure, report it instead.

    ``timeout`` is per cell; ``None`` takes :func:`cell_timeout` of the mode.
    ``save_dir``, if given, receives each executed copy (``<stem>.ipynb``, with its
    outputs), its headline at full precision (``<stem>.json``), any other file the
    notebook wrote to its report dir (``PPML_REPORT_DIR``), and ``timings.json``: each
    notebook's wall time, mode and error, merged into what earlier runs wrote there (the
    instructor guide's compute times come from it).
    """
    if save_dir is not None:
        save_dir = Path(save_dir)
        save_dir.mkdir(parents=True, exist_ok=True)
    from nbclient.exceptions import CellExecutionError

    results = []
    for path in map(Path, paths):
        if progress:
            progress(path)
        with tempfile.TemporaryDirectory(prefix="ppml-report-") as tmp:
            start = time.perf_counter()
            nb, error = None, None
            try:
                nb = execute_notebook(path, fast=fast, timeout=timeout, report_dir=tmp)
            except CellExecutionError as exc:
                error = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            except Exception as exc:  # a dead kernel or a timeout: report, go on
                error = f"{type(exc).__name__}: {exc}"
            seconds = time.perf_counter() - start
            headline = read_headlines(tmp).get(path.stem)
            if save_dir is not None:
                _save(save_dir, path.stem, nb, Path(tmp))
                _record_timing(save_dir, path.stem, seconds=seconds, fast=fast, error=error)
        results.append(RunResult(path, seconds, nb, headline, error))
    return results


def _record_timing(folder: Path, stem: str, *, seconds: float, fast: bool, error) -> None:
    """Merge one notebook's wall time into ``folder/timings.json`` (written whole, then renamed)."""
    import datetime
    import json

    path = folder / "timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[stem] = {"seconds": round(seconds, 1), "fast": fast, "error": error,
                  "date": datetime.date.today().isoformat()}
    tmp = path.with_name("timings.json.tmp")
    tmp.write_text(json.dumps(dict(sorted(data.items())), indent=1) + "\n")
    tmp.replace(path)


def _save(folder: Path, stem: str, nb, report_dir: Path) -> None:
    """Keep one run's executed notebook and what it wrote to its report dir (its headline JSON,
    and e.g. notebook 08's privacy report) in ``folder``."""
    if nb is not None:
        nbformat.write(nb, folder / f"{stem}.ipynb")
    for written in sorted(report_dir.iterdir()):
        if written.is_file():
            (folder / written.name).write_bytes(written.read_bytes())
