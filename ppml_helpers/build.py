"""Generate the student notebooks in ``notebooks/`` from the sources in ``solutions/``.

Solution code sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines
in a code cell and becomes ``raise NotImplementedError("Exercise N.M: ...")``;
a written answer sits between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->`` in a markdown cell and becomes a prompt. Exercises
are numbered N.M in notebook order (N from the file name's ``NN_`` prefix; an
appendix's ``A1_``/``A2_`` prefix numbers them A1.M/A2.M).
Outputs and execution counts are stripped. Malformed markers raise
:class:`NotebookBuildError` naming the notebook and the cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import NotebookBuildError

__all__ = ["BuildReport", "build_all", "build_notebook", "render", "strip_outputs"]

CODE_BEGIN, CODE_END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
_DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(")
_NN = re.compile(r"^(A?)(\d+)_")  # 07_topic -> "7", A2_topic -> "A2"
_VOLATILE_CELL_META = ("execution", "collapsed", "scrolled", "ExecuteTime")


def _where(name: str, index: int, cell) -> str:
    cid = cell.get("id")
    return f"{name}, cell {index}" + (f" (id {cid})" if cid else "")


def strip_outputs(nb):
    """Remove outputs, execution counts, volatile metadata and widget state in place."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_META:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


_NEAR = re.compile(r"(BEGIN|END)\s*SOLUTION", re.IGNORECASE)


def _replace_code(src: str, where: str, chapter: str, number: int) -> tuple[str, int]:
    out, inside, indent, func = [], False, "", None
    for line in src.split("\n"):
        stripped = line.strip()
        if stripped in (MD_BEGIN, MD_END):
            raise NotebookBuildError(f"{where}: markdown solution markers in a code cell.")
        if _NEAR.search(line) and stripped not in (CODE_BEGIN, CODE_END):
            raise NotebookBuildError(
                f"{where}: {stripped!r} looks like a solution marker but is not exactly "
                f"'{CODE_BEGIN}' or '{CODE_END}' alone on its line."
            )
        m = _DEF.match(line)
        if m and not inside:
            func = m.group(1)
        if stripped == CODE_BEGIN:
            if inside:
                raise NotebookBuildError(f"{where}: '{CODE_BEGIN}' inside an open solution region.")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            number += 1
            what = f"complete {func}()" if func else "write your solution here"
            out.append(f'{indent}raise NotImplementedError("Exercise {chapter}.{number}: {what}")')
        elif stripped == CODE_END:
            if not inside:
                raise NotebookBuildError(f"{where}: '{CODE_END}' without a matching '{CODE_BEGIN}'.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookBuildError(f"{where}: '{CODE_BEGIN}' is never closed by '{CODE_END}'.")
    return "\n".join(out), number


def _replace_markdown(src: str, where: str, chapter: str, number: int) -> tuple[str, int]:
    for line in src.split("\n"):
        if line.strip() in (CODE_BEGIN, CODE_END):
            raise NotebookBuildError(f"{where}: code solution markers in a markdown cell.")
    out, pos, open_at = [], 0, None
    for m in _NEAR.finditer(src):
        begin = m.group(1).upper() == "BEGIN"
        marker = MD_BEGIN if begin else MD_END
        at = m.start() - len("<!-- ")
        if at < 0 or not src.startswith(marker, at) or m.group(0) != marker[5:-4]:
            raise NotebookBuildError(
                f"{where}: {src[max(at, 0): m.end() + 4]!r} looks like a solution marker but is "
                f"not exactly '{MD_BEGIN}' or '{MD_END}'."
            )
        if begin:
            if open_at is not None:
                raise NotebookBuildError(f"{where}: '{MD_BEGIN}' inside an open solution region.")
            out.append(src[pos:at])
            open_at = at
        else:
            if open_at is None:
                raise NotebookBuildError(f"{where}: '{MD_END}' without a matching '{MD_BEGIN}'.")
            number += 1
            out.append(f"*Exercise {chapter}.{number}: write your answer here.*")
            pos, open_at = at + len(MD_END), None
    if open_at is not None:
        raise NotebookBuildError(f"{where}: '{MD_BEGIN}' is never closed by '{MD_END}'.")
    out.append(src[pos:])
    return "".join(out), number


def build_notebook(nb, name: str = "notebook"):
    """Return the student version of a solution notebook (a new object).

    Raises:
        NotebookBuildError: unmatched or nested markers, near-miss markers (a typo
            would otherwise ship the solution), or markers in the wrong cell type.
    """
    m = _NN.match(Path(name).name)
    chapter = m.group(1) + str(int(m.group(2))) if m else "0"
    student = nbformat.from_dict(nb)
    strip_outputs(student)
    number = 0
    for i, cell in enumerate(student.cells):
        where = _where(name, i, cell)
        if not _NEAR.search(cell.source):
            continue
        if cell.cell_type == "code":
            cell.source, number = _replace_code(cell.source, where, chapter, number)
        elif cell.cell_type == "markdown":
            cell.source, number = _replace_markdown(cell.source, where, chapter, number)
        else:
            raise NotebookBuildError(f"{where}: solution markers in a {cell.cell_type} cell.")
    return student


def render(nb) -> str:
    """The notebook as the exact text written to disk (stable across runs)."""
    return nbformat.writes(nb) + "\n"


@dataclass(frozen=True)
class BuildReport:
    """What :func:`build_all` found: written, stale (check mode), and orphaned notebooks."""

    written: tuple[Path, ...]
    stale: tuple[Path, ...]
    orphans: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return not self.stale and not self.orphans


def build_all(solutions_dir, notebooks_dir, *, check: bool = False) -> BuildReport:
    """Build every ``solutions/*.ipynb`` into ``notebooks/``; with ``check``, only compare.

    Returns:
        A :class:`BuildReport`; in check mode ``stale`` lists notebooks whose file
        differs from (or is missing for) what the source generates, and ``orphans``
        student notebooks that have no source.
    """
    src_dir, out_dir = Path(solutions_dir), Path(notebooks_dir)
    sources = sorted(src_dir.glob("*.ipynb"))
    if not sources:
        raise NotebookBuildError(f"no solution notebooks found in {src_dir}.")
    written, stale = [], []
    for src in sources:
        nb = nbformat.read(src, as_version=4)
        text = render(build_notebook(nb, src.name))
        target = out_dir / src.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            stale.append(target)
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            written.append(target)
    names = {s.name for s in sources}
    orphans = [p for p in sorted(out_dir.glob("*.ipynb")) if p.name not in names]
    return BuildReport(tuple(written), tuple(stale), tuple(orphans))
