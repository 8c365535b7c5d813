"""The ``ppml`` command through ``ppml_helpers.cli.main``: build, doctor, data, run."""

from __future__ import annotations

import urllib.error
import urllib.request

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ppml_helpers import kernels
from ppml_helpers.build import CODE_BEGIN, CODE_END
from ppml_helpers.cli import main
from ppml_helpers.kernels import APPENDIX_KERNELS


def _solution_notebook():
    src = f"def f(x):\n    {CODE_BEGIN}\n    return x + 1\n    {CODE_END}"
    return new_notebook(cells=[new_markdown_cell("# A"), new_code_cell(src)])


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A course checkout with one solution notebook and an empty notebooks/, as cwd."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    nbformat.write(_solution_notebook(), tmp_path / "solutions" / "01_a.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- ppml build -----------------------------------------------------------------------


def test_build_writes_student_notebook(project, capsys):
    assert main(["build"]) == 0
    assert "wrote notebooks/01_a.ipynb" in capsys.readouterr().out
    assert "Exercise 1.1: complete f()" in (project / "notebooks" / "01_a.ipynb").read_text()


def test_build_check_in_sync_exits_0(project, capsys):
    main(["build"])
    capsys.readouterr()
    assert main(["build", "--check"]) == 0
    assert "in sync" in capsys.readouterr().out


def test_build_check_before_build_exits_1(project, capsys):
    assert main(["build", "--check"]) == 1
    assert "notebooks/01_a.ipynb" in capsys.readouterr().err
    assert not (project / "notebooks" / "01_a.ipynb").exists()


def test_build_check_after_source_edit_exits_1(project, capsys):
    main(["build"])
    nb = _solution_notebook()
    nb.cells[0].source = "# A, edited"
    nbformat.write(nb, project / "solutions" / "01_a.ipynb")
    capsys.readouterr()
    assert main(["build", "--check"]) == 1
    err = capsys.readouterr().err
    assert "not in sync" in err and "01_a.ipynb" in err


def test_build_check_orphan_exits_1(project, capsys):
    main(["build"])
    nbformat.write(new_notebook(), project / "notebooks" / "09_orphan.ipynb")
    capsys.readouterr()
    assert main(["build", "--check"]) == 1
    assert "no source in solutions/ for: notebooks/09_orphan.ipynb" in capsys.readouterr().err


def test_build_malformed_source_exits_1_naming_it(project, capsys):
    bad = new_notebook(cells=[new_code_cell(f"{CODE_BEGIN}\nx = 1")])
    nbformat.write(bad, project / "solutions" / "02_bad.ipynb")
    assert main(["build", "--check"]) == 1
    assert "02_bad.ipynb, cell 0" in capsys.readouterr().err


# --- ppml doctor ----------------------------------------------------------------------


def test_doctor_with_shared_data_exits_0(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("PPML_DATA_DIR", str(data_dir))
    assert main(["doctor"]) == 0
    assert "0 missing" in capsys.readouterr().out


def test_doctor_with_empty_data_dir_exits_1_naming_datasets(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PPML_DATA_DIR", str(tmp_path))
    assert main(["doctor"]) == 1
    lines = capsys.readouterr().out.splitlines()
    missing = [line for line in lines if line.startswith("MISSING")]
    assert any("dataset MNIST" in line and "train-images-idx3-ubyte" in line for line in missing)
    assert any("dataset UCI Adult" in line and "adult.data" in line for line in missing)


def test_doctor_warns_about_versions_that_differ_from_the_lock(data_dir, tmp_path, monkeypatch, capsys):
    from importlib import metadata

    (tmp_path / "solutions").mkdir()
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "lock.txt").write_text(
        f"numpy==0.0.1\n    # via x\nscipy=={metadata.version('scipy')}\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PPML_DATA_DIR", str(data_dir))
    monkeypatch.setattr(kernels, "installed_kernels", lambda: {k: "/k" for k in ("python3", *APPENDIX_KERNELS)})
    assert main(["doctor"]) == 0  # a warning, not a failure
    out = capsys.readouterr().out
    warned = [line for line in out.splitlines() if line.startswith("WARNING")]
    assert len(warned) == 1 and "version numpy" in warned[0]
    assert f"{metadata.version('numpy')}; the lock has 0.0.1" in warned[0]
    assert "1 warning(s), 0 missing." in out


def test_doctor_calls_a_missing_appendix_kernel_optional_and_names_its_make_target(
    data_dir, monkeypatch, capsys,
):
    monkeypatch.setenv("PPML_DATA_DIR", str(data_dir))
    monkeypatch.setattr(kernels, "installed_kernels", lambda: {"python3": "/k", "ppml-syft": "/s"})
    assert main(["doctor"]) == 0  # optional: a warning, never a failure
    lines = capsys.readouterr().out.splitlines()
    tf = [line for line in lines if "kernel ppml-tf (optional)" in line]
    syft = [line for line in lines if "kernel ppml-syft (optional)" in line]
    assert len(tf) == 1 and tf[0].startswith("WARNING") and "`make tf-kernel`" in tf[0]
    assert len(syft) == 1 and syft[0].startswith("ok") and "A2_pysyft" in syft[0]


# --- ppml data download ---------------------------------------------------------------


def test_data_download_offline_exits_1_with_clear_error(tmp_path, monkeypatch, capsys):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    assert main(["data", "download", "--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "PPML_DATA_DIR" in err and "ppml data download" in err


# --- ppml run -------------------------------------------------------------------------


def test_run_missing_notebook_exits_2(tmp_path, capsys):
    missing = tmp_path / "nope.ipynb"
    assert main(["run", str(missing)]) == 2
    assert "no such notebook" in capsys.readouterr().err


def _write(path, *sources):
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    return path


def test_run_fast_tiny_notebook_prints_headline(tmp_path, capsys):
    nb = _write(
        tmp_path / "tiny.ipynb",
        "import os\nassert os.environ['PPML_FAST'] == '1', 'fast mode was not passed on'",
        "import ppml_helpers.report\nppml_helpers.report.headline('tiny', answer=42)",
    )
    assert main(["run", "--fast", str(nb)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("tiny ")]
    assert len(rows) == 1 and "answer=42" in rows[0]


def test_run_failing_notebook_exits_1_and_prints_failed(tmp_path, capsys):
    nb = _write(tmp_path / "broken.ipynb", "x = 1", "raise RuntimeError('boom')")
    assert main(["run", "--fast", str(nb)]) == 1
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("broken ")]
    assert len(rows) == 1 and "FAILED" in rows[0]
    assert "1 failed" in out


def test_run_of_the_whole_course_skips_an_appendix_whose_kernel_is_missing_and_says_so(tmp_path, monkeypatch, capsys):
    (tmp_path / "solutions").mkdir()
    _write(tmp_path / "solutions" / "00_tiny.ipynb", "import ppml_helpers.report\nppml_helpers.report.headline('00_tiny', x=1)")
    appendix = _write(tmp_path / "solutions" / "A1_tiny.ipynb", "1")
    nb = nbformat.read(appendix, as_version=4)
    nb.metadata["kernelspec"] = {"name": "ppml-tf", "display_name": "tf", "language": "python"}
    nbformat.write(nb, appendix)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(kernels, "installed_kernels", lambda: {"python3": "/k"})
    assert main(["run", "--fast"]) == 0  # the course ran; the appendix was skipped, not failed
    out = capsys.readouterr().out
    assert "skipping A1_tiny.ipynb: its kernel ppml-tf is not installed (`make tf-kernel` builds it)" in out
    assert "1 notebook(s)" in out and "00_tiny" in out
    assert main(["run", "--fast", str(appendix)]) == 1  # named explicitly: a failure, with the make target
    assert "make tf-kernel" in capsys.readouterr().out


# --- argument errors ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["bogus"], ["data"], ["run", "--timeout", "soon"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
