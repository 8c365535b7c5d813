"""Executed fast-mode copies of the solution notebooks that tests/test_notebooks.py keeps (each
after its checks passed) for tests/test_site.py, which builds the website from them instead of
running every notebook a second time. A copy counts only if its cells are the solution's now."""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
FAST_RUNS = ROOT / ".ppml-report" / "fast-runs"


def keep(nb, stem: str) -> None:
    FAST_RUNS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, FAST_RUNS / f"{stem}.ipynb")


def is_current(stem: str) -> bool:
    kept = FAST_RUNS / f"{stem}.ipynb"
    if not kept.exists():
        return False
    source = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
    executed = nbformat.read(kept, as_version=4)
    return [c.source for c in source.cells] == [c.source for c in executed.cells]
