"""ppml_helpers.runner: per-cell timeouts that fit the mode, and a hung or dead kernel that
fails fast with the notebook, the cell index and its first line."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from kernel_guard import need_kernels
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ppml_helpers import kernels
from ppml_helpers.errors import NotebookExecutionTimeout
from ppml_helpers.kernels import KernelMissingError
from ppml_helpers.runner import (
    FAST_CELL_TIMEOUT,
    FULL_CELL_TIMEOUT,
    cell_timeout,
    execute_notebook,
    run_notebooks,
)


def _write(tmp_path, *cells, name="01_slow.ipynb"):
    path = tmp_path / name
    nbformat.write(new_notebook(cells=list(cells)), path)
    return path


def test_fast_mode_timeout_is_at_most_300_s():
    assert cell_timeout(True) == FAST_CELL_TIMEOUT <= 300
    assert cell_timeout(False) == FULL_CELL_TIMEOUT > FAST_CELL_TIMEOUT


def test_a_cell_past_its_timeout_names_notebook_cell_and_first_line(tmp_path):
    path = _write(tmp_path, new_markdown_cell("# slow"), new_code_cell("x = 1"),
                  new_code_cell("\n# wait for a reply that never comes\nimport time\ntime.sleep(60)"))
    with pytest.raises(NotebookExecutionTimeout) as info:
        execute_notebook(path, fast=True, timeout=3)
    message = str(info.value)
    assert "01_slow.ipynb, cell 2 ('# wait for a reply that never comes')" in message
    assert "3 s per-cell timeout" in message
    assert "the kernel sat idle meanwhile" in message  # sleeping uses no CPU: it looks like a hang


def test_a_busy_cell_past_its_timeout_is_called_slow_not_hung(tmp_path):
    path = _write(tmp_path, new_code_cell("while True:\n    pass"))
    with pytest.raises(NotebookExecutionTimeout, match=r"cell 0 \('while True:'\): .*the kernel was busy"):
        execute_notebook(path, fast=True, timeout=3)


def test_a_dead_kernel_is_named_too(tmp_path):
    path = _write(tmp_path, new_code_cell("import os\nos._exit(1)"), name="02_dies.ipynb")
    with pytest.raises(NotebookExecutionTimeout, match=r"02_dies.ipynb, cell 0 \('import os'\): the kernel died"):
        execute_notebook(path, fast=True, timeout=60)


def test_run_notebooks_reports_a_timeout_and_goes_on(tmp_path):
    slow = _write(tmp_path, new_code_cell("import time\ntime.sleep(60)"))
    quick = _write(tmp_path, new_code_cell("1 + 1"), name="02_quick.ipynb")
    results = run_notebooks([slow, quick], fast=True, timeout=3)
    assert "01_slow.ipynb, cell 0 ('import time')" in results[0].error
    assert results[1].error is None and results[1].notebook.cells[0].outputs


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "300"])
def test_bad_timeout_is_refused_naming_it(tmp_path, bad):
    path = _write(tmp_path, new_code_cell("1"))
    with pytest.raises(ValueError, match=r"timeout must be a positive number of seconds, got"):
        execute_notebook(path, fast=True, timeout=bad)


def test_run_notebooks_saves_the_executed_copy_and_the_full_headline(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    path = _write(src, new_code_cell(
        "from ppml_helpers.report import headline\nprint('hello')\n"
        "headline('03_saved', value=1 / 3)"), name="03_saved.ipynb")
    [result] = run_notebooks([path], fast=True, timeout=60, save_dir=tmp_path / "out")
    assert result.error is None
    saved = nbformat.read(tmp_path / "out" / "03_saved.ipynb", as_version=4)
    assert "hello" in saved.cells[0].outputs[0]["text"]
    assert json.loads((tmp_path / "out" / "03_saved.json").read_text())["values"]["value"] == 1 / 3
    timings = json.loads((tmp_path / "out" / "timings.json").read_text())
    assert timings["03_saved"]["fast"] is True and timings["03_saved"]["error"] is None
    assert timings["03_saved"]["seconds"] == round(result.seconds, 1)
    other = _write(tmp_path, new_code_cell("1 / 0"), name="04_fails.ipynb")
    run_notebooks([other], fast=False, timeout=60, save_dir=tmp_path / "out")  # merged, not replaced
    timings = json.loads((tmp_path / "out" / "timings.json").read_text())
    assert sorted(timings) == ["03_saved", "04_fails"] and "ZeroDivisionError" in timings["04_fails"]["error"]
    assert timings["04_fails"]["fast"] is False


# --- the notebook's own kernel, and what its cells leave behind -----------------------


def _with_kernel(path, name):
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": name, "display_name": name, "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(("kernel", "target"), [("ppml-tf", "make tf-kernel"), ("ppml-syft", "make syft-kernel")])
def test_a_missing_appendix_kernel_names_the_make_target_that_builds_it(tmp_path, monkeypatch, kernel, target):
    monkeypatch.setattr(kernels, "installed_kernels", lambda: {"python3": "/k"})
    path = _with_kernel(_write(tmp_path, new_code_cell("1"), name="A9_appendix.ipynb"), kernel)
    with pytest.raises(KernelMissingError, match=rf"A9_appendix.ipynb runs in the Jupyter kernel '{kernel}'.*`{target}`"):
        execute_notebook(path, fast=True, timeout=60)
    [result] = run_notebooks([path], fast=True, timeout=60)  # reported, not raised, by run_notebooks
    assert "KernelMissingError" in result.error and target in result.error


def test_an_unknown_kernel_lists_the_ones_found(tmp_path, monkeypatch):
    monkeypatch.setattr(kernels, "installed_kernels", lambda: {"python3": "/k"})
    path = _with_kernel(_write(tmp_path, new_code_cell("1")), "julia-1.10")
    with pytest.raises(KernelMissingError, match=r"'julia-1.10'.*the kernels found are \['python3'\]"):
        execute_notebook(path, fast=True, timeout=60)


def test_a_notebook_runs_in_the_kernel_its_metadata_names(tmp_path):
    path = _with_kernel(_write(tmp_path, new_code_cell("import sys\nprint(sys.executable)")), "python3")
    nb = execute_notebook(path, fast=True, timeout=60)
    import sys
    from pathlib import Path

    # python3 is the course's own kernel: the Python of this venv, not another one on the machine
    assert Path(nb.cells[0].outputs[0]["text"].strip()).parent == Path(sys.executable).parent


def test_a_process_a_cell_leaves_behind_is_stopped_when_the_notebook_ends(tmp_path):
    """TFF's worker_binary outlives the kernel that started it; the runner stops such leftovers."""
    import psutil

    pid_file = tmp_path / "pid"
    path = _write(tmp_path, new_code_cell(
        "import subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))"))
    execute_notebook(path, fast=True, timeout=60)
    pid = int(pid_file.read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("kernel", sorted(kernels.APPENDIX_KERNELS))
def test_an_appendix_kernel_ignores_a_pythonpath_into_the_course_venv(tmp_path, monkeypatch, kernel):
    """Ray (Flower's simulation) writes the whole sys.path of the course's Python into
    PYTHONPATH and never restores it; a kernel started afterwards from the same process then
    imported numpy 2 from .venv over its own numpy 1 (CI, 2026-12-06). The kernel spec blanks it."""
    import sys

    need_kernels(kernel)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    path = _with_kernel(_write(tmp_path, new_code_cell(
        "import sys, numpy\nprint(numpy.__version__, numpy.__file__, sys.executable)")), kernel)
    version, where, executable = execute_notebook(path, fast=True, timeout=120).cells[0].outputs[0]["text"].split()
    venv = kernels.APPENDIX_KERNELS[kernel].venv
    assert version.startswith("1."), f"{kernel} imported numpy {version} from {where}"
    assert f"/{venv}/" in where and f"/{venv}/" in executable
