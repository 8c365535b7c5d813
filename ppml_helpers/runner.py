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

from .report import Headline, read_headlines

__all__ = ["RunResult", "cell_errors", "execute_notebook", "run_notebooks"]

DEFAULT_TIMEOUT = 1800


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
    timeout: int = DEFAULT_TIMEOUT,
    report_dir=None,
    extra_env: dict | None = None,
):
    """Execute ``path`` in a fresh kernel from its own folder; return the executed notebook.

    ``PPML_FAST`` is set from ``fast``; ``PPML_REPORT_DIR`` from ``report_dir``.
    Cells tagged ``raises-exception`` may raise. Other errors raise
    ``nbclient.exceptions.CellExecutionError`` unless ``allow_errors``.
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ)
    env["PPML_FAST"] = "1" if fast else "0"
    if report_dir is not None:
        env["PPML_REPORT_DIR"] = str(report_dir)
    else:
        env.pop("PPML_REPORT_DIR", None)
    env.update(extra_env or {})
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute(env=env)
    return nb


def cell_errors(nb) -> list[tuple[int, str, str]]:
    """``(cell index, exception name, message)`` for every error output in an executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, out.get("ename", ""), out.get("evalue", "")))
    return found


def run_notebooks(paths, *, fast: bool, timeout: int = DEFAULT_TIMEOUT, progress=None) -> list[RunResult]:
    """Execute each notebook in turn; never stop at a failure, report it instead."""
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
        results.append(RunResult(path, seconds, nb, headline, error))
    return results
