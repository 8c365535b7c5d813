"""ppml_helpers.build: student notebooks generated from solution notebooks."""

from __future__ import annotations

import re

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ppml_helpers.build import (
    CODE_BEGIN,
    CODE_END,
    MD_BEGIN,
    MD_END,
    build_all,
    build_notebook,
    render,
    strip_outputs,
)
from ppml_helpers.errors import NotebookBuildError

RAISE = re.compile(r'^(\s*)raise NotImplementedError\("Exercise (A?\d+)\.(\d+): (.*)"\)$')


def _exercise_cell(func: str = "f", indent: str = "    ", body: str = "return 42") -> str:
    return "\n".join([
        f"def {func}(x):",
        f'{indent}"""Docstring stays."""',
        f"{indent}{CODE_BEGIN}",
        f"{indent}{body}",
        f"{indent}{CODE_END}",
    ])  # fmt: skip


def _answer_cell(text: str = "Because the server sees updates.") -> str:
    return f"**Question.** Why?\n\n{MD_BEGIN}\n{text}\n{MD_END}\n\nNext paragraph."


def _nb(*cells):
    return new_notebook(cells=list(cells))


# --- code regions ---------------------------------------------------------------------


def test_code_region_becomes_raise_keeping_def_and_indent():
    student = build_notebook(_nb(new_code_cell(_exercise_cell("f"))), "03_x.ipynb")
    assert student.cells[0].source == "\n".join([
        "def f(x):",
        '    """Docstring stays."""',
        '    raise NotImplementedError("Exercise 3.1: complete f()")',
    ])  # fmt: skip


@pytest.mark.parametrize("indent", ["", "  ", "    ", "        ", "\t"])
def test_raise_takes_the_begin_lines_indentation(indent):
    src = f"x = 1\n{indent}{CODE_BEGIN}\n{indent}y = 2\n{indent}{CODE_END}\nz = 3"
    out = build_notebook(_nb(new_code_cell(src)), "01_a.ipynb").cells[0].source
    line = out.split("\n")[1]
    m = RAISE.match(line)
    assert m and m.group(1) == indent
    assert out.split("\n")[0] == "x = 1" and out.split("\n")[-1] == "z = 3"


def test_region_outside_a_function_asks_for_a_solution():
    src = f"{CODE_BEGIN}\nanswer = 42\n{CODE_END}"
    out = build_notebook(_nb(new_code_cell(src)), "02_b.ipynb").cells[0].source
    assert out == 'raise NotImplementedError("Exercise 2.1: write your solution here")'


def test_solution_lines_are_removed():
    src = _exercise_cell(body="return secret_formula(x)")
    out = build_notebook(_nb(new_code_cell(src)), "03_x.ipynb").cells[0].source
    assert "secret_formula" not in out and CODE_BEGIN not in out and CODE_END not in out


def test_names_the_function_the_region_is_in():
    src = (
        _exercise_cell("first")
        + "\n\n\n"
        + _exercise_cell("second")
        .replace(CODE_BEGIN, "pass  # no region here")
        .replace(CODE_END, "")
    )
    cells = [new_code_cell(_exercise_cell("alpha")), new_code_cell(src)]
    out = build_notebook(_nb(*cells), "05_c.ipynb")
    assert "complete alpha()" in out.cells[0].source
    assert "complete first()" in out.cells[1].source


# --- numbering ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "chapter"),
    [
        ("03_x.ipynb", "3"),
        ("00_threat_models.ipynb", "0"),
        ("12_y.ipynb", "12"),
        ("solutions/07_z.ipynb", "7"),
        ("intro.ipynb", "0"),
        ("A2_pysyft.ipynb", "A2"),  # the appendices
        ("solutions/A1_tensorflow_federated.ipynb", "A1"),
    ],
)
def test_chapter_from_file_name_prefix(name, chapter):
    out = build_notebook(_nb(new_code_cell(_exercise_cell())), name)
    assert RAISE.match(out.cells[0].source.split("\n")[-1]).group(2) == chapter


def test_exercises_numbered_in_order_across_code_and_markdown():
    cells = [
        new_markdown_cell("# Title"),
        new_code_cell(_exercise_cell("f")),
        new_code_cell("print('no exercise')"),
        new_markdown_cell(_answer_cell()),
        new_code_cell(_exercise_cell("g")),
    ]
    out = build_notebook(_nb(*cells), "03_x.ipynb")
    labels = re.findall(r"Exercise (\d+\.\d+)", "\n".join(c.source for c in out.cells))
    assert labels == ["3.1", "3.2", "3.3"]


# --- markdown regions -----------------------------------------------------------------


def test_markdown_region_becomes_prompt():
    out = build_notebook(_nb(new_markdown_cell(_answer_cell("The secret."))), "04_m.ipynb")
    assert out.cells[0].source == (
        "**Question.** Why?\n\n*Exercise 4.1: write your answer here.*\n\nNext paragraph."
    )


def test_markdown_region_spanning_lines_removed():
    text = "line one\n\n- bullet secret\n"
    out = build_notebook(_nb(new_markdown_cell(_answer_cell(text))), "04_m.ipynb")
    assert "secret" not in out.cells[0].source and MD_BEGIN not in out.cells[0].source


# --- cleaning -------------------------------------------------------------------------


def _dirty_notebook():
    cell = new_code_cell(
        "print(1)", execution_count=5, outputs=[new_output("stream", name="stdout", text="1\n")]
    )
    cell.metadata.update(
        {
            "tags": ["parameters"],
            "execution": {"iopub.status.busy": "x"},
            "collapsed": True,
            "scrolled": True,
            "ExecuteTime": {"start": "x"},
        }
    )
    md = new_markdown_cell("text")
    md.metadata["tags"] = ["keep-me"]
    nb = _nb(cell, md)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_outputs_and_execution_counts_stripped():
    out = build_notebook(_dirty_notebook(), "01_a.ipynb")
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None


def test_widget_state_and_volatile_metadata_stripped():
    out = build_notebook(_dirty_notebook(), "01_a.ipynb")
    assert "widgets" not in out.metadata
    assert set(out.cells[0].metadata) == {"tags"}


def test_tags_and_kernelspec_kept():
    out = build_notebook(_dirty_notebook(), "01_a.ipynb")
    assert out.cells[0].metadata["tags"] == ["parameters"]
    assert out.cells[1].metadata["tags"] == ["keep-me"]
    assert out.metadata["kernelspec"]["name"] == "python3"


def test_build_notebook_does_not_modify_its_input():
    nb = _dirty_notebook()
    nb.cells.append(new_code_cell(_exercise_cell()))
    before = nbformat.writes(nb)
    build_notebook(nb, "01_a.ipynb")
    assert nbformat.writes(nb) == before


def test_strip_outputs_in_place_returns_same_object():
    nb = _dirty_notebook()
    assert strip_outputs(nb) is nb and nb.cells[0].outputs == []


def test_built_notebook_is_valid():
    nbformat.validate(build_notebook(_dirty_notebook(), "01_a.ipynb"))


# --- malformed markers ----------------------------------------------------------------

BAD_CELLS = {
    "begin_without_end": new_code_cell(f"def f():\n    {CODE_BEGIN}\n    return 1"),
    "end_without_begin": new_code_cell(f"def f():\n    return 1\n    {CODE_END}"),
    "nested_begin": new_code_cell(f"{CODE_BEGIN}\n{CODE_BEGIN}\nx = 1\n{CODE_END}\n{CODE_END}"),
    "code_markers_in_markdown": new_markdown_cell(f"{CODE_BEGIN}\nanswer\n{CODE_END}"),
    "markdown_markers_in_code": new_code_cell(f"# {MD_BEGIN}\nx = 1\n# {MD_END}"),
    "markdown_begin_without_end": new_markdown_cell(f"{MD_BEGIN}\nanswer"),
    "markdown_end_without_begin": new_markdown_cell(f"answer\n{MD_END}"),
}


@pytest.mark.parametrize("case", sorted(BAD_CELLS))
def test_malformed_markers_raise_naming_notebook_and_cell(case):
    nb = _nb(new_markdown_cell("# Title"), new_code_cell("x = 1"), BAD_CELLS[case])
    with pytest.raises(NotebookBuildError, match=r"06_bad\.ipynb, cell 2"):
        build_notebook(nb, "06_bad.ipynb")


def test_error_message_includes_cell_id():
    cell = BAD_CELLS["begin_without_end"]
    with pytest.raises(NotebookBuildError, match=re.escape(f"(id {cell.id})")):
        build_notebook(_nb(cell), "06_bad.ipynb")


def test_notebook_build_error_is_a_value_error():
    with pytest.raises(ValueError):
        build_notebook(_nb(BAD_CELLS["nested_begin"]), "06_bad.ipynb")


def test_marker_lines_with_extra_text_do_not_leak_the_solution():
    # Both marker lines carry trailing text, so neither is an exact marker line. The
    # cell still counts as an exercise (the markers' text is present), so the build
    # must either replace the region or reject the cell; it must never hand the
    # solution to students.
    src = f"def f(x):\n    {CODE_BEGIN} ###\n    return secret_formula(x)\n    {CODE_END} ###"
    try:
        source = build_notebook(_nb(new_code_cell(src)), "03_x.ipynb").cells[0].source
    except NotebookBuildError:
        source = ""  # rejecting the cell is a correct outcome too
    assert "secret_formula" not in source


# --- property: build round-trips -------------------------------------------------------

_line = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\n\r#<>\x00"), max_size=30
).filter(lambda s: s.strip() == s)  # no marker text, no stray whitespace at the ends


@st.composite
def code_cells(draw):
    before = draw(st.lists(_line, max_size=3))
    indent = draw(st.sampled_from(["", "    ", "        "]))
    solution = draw(st.lists(_line, min_size=1, max_size=3))
    after = draw(st.lists(_line, max_size=3))
    src = "\n".join(
        [*before, indent + CODE_BEGIN, *(indent + s for s in solution), indent + CODE_END, *after]
    )
    expected_prefix, expected_suffix = before, after
    return "code", src, (expected_prefix, indent, expected_suffix)


@st.composite
def markdown_cells(draw):
    before, answer, after = draw(_line), draw(_line), draw(_line)
    return "markdown", f"{before}{MD_BEGIN}{answer}{MD_END}{after}", (before, after)


@st.composite
def plain_cells(draw):
    kind = draw(st.sampled_from(["code", "markdown"]))
    return kind, "\n".join(draw(st.lists(_line, max_size=3))), None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(st.one_of(code_cells(), markdown_cells(), plain_cells()), max_size=8),
    chapter=st.integers(0, 99),
)
def test_build_round_trips(cells, chapter):
    name = f"{chapter:02d}_prop.ipynb"
    nb = _nb(*[new_code_cell(s) if k == "code" else new_markdown_cell(s) for k, s, _ in cells])
    student = build_notebook(nb, name)

    number = 0
    for (kind, src, info), out in zip(cells, student.cells, strict=True):
        if info is None:
            assert out.source == src
            continue
        number += 1
        label = f"{chapter}.{number}"
        if kind == "code":
            before, indent, after = info
            assert out.source.split("\n") == [
                *before, f'{indent}raise NotImplementedError("Exercise {label}: write your solution here")',
                *after,
            ]  # fmt: skip
        else:
            before, after = info
            assert out.source == f"{before}*Exercise {label}: write your answer here.*{after}"

    # Rebuilding a student notebook changes nothing, and the written text reads back the same.
    assert render(build_notebook(student, name)) == render(student)
    assert render(nbformat.reads(render(student), as_version=4)) == render(student)


# --- build_all ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path):
    solutions, notebooks = tmp_path / "solutions", tmp_path / "notebooks"
    solutions.mkdir()
    nbformat.write(_nb(new_code_cell(_exercise_cell("f"))), solutions / "01_a.ipynb")
    nbformat.write(
        _nb(new_markdown_cell(_answer_cell()), new_code_cell("x = 1")), solutions / "02_b.ipynb"
    )
    return solutions, notebooks


def test_build_all_writes_every_notebook(project):
    solutions, notebooks = project
    report = build_all(solutions, notebooks)
    assert sorted(p.name for p in report.written) == ["01_a.ipynb", "02_b.ipynb"]
    assert all(p.is_file() for p in report.written)
    assert report.ok


def test_build_all_output_equals_build_notebook(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    src = nbformat.read(solutions / "01_a.ipynb", as_version=4)
    expected = render(build_notebook(src, "01_a.ipynb"))
    assert (notebooks / "01_a.ipynb").read_text(encoding="utf-8") == expected


def test_check_after_build_reports_nothing_stale(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    report = build_all(solutions, notebooks, check=True)
    assert (report.stale, report.orphans, report.written, report.ok) == ((), (), (), True)


def test_second_build_writes_nothing(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    assert build_all(solutions, notebooks).written == ()


def test_check_mode_writes_nothing(project):
    solutions, notebooks = project
    report = build_all(solutions, notebooks, check=True)
    assert not notebooks.exists()
    assert sorted(p.name for p in report.stale) == ["01_a.ipynb", "02_b.ipynb"]


def test_editing_a_source_makes_it_stale(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    nb = nbformat.read(solutions / "02_b.ipynb", as_version=4)
    nb.cells[1].source = "x = 2"
    nbformat.write(nb, solutions / "02_b.ipynb")
    report = build_all(solutions, notebooks, check=True)
    assert [p.name for p in report.stale] == ["02_b.ipynb"] and not report.ok


def test_running_a_solution_does_not_make_it_stale(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    nb = nbformat.read(solutions / "02_b.ipynb", as_version=4)
    nb.cells[1].outputs = [
        new_output("execute_result", data={"text/plain": "1"}, execution_count=1)
    ]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, solutions / "02_b.ipynb")
    assert build_all(solutions, notebooks, check=True).ok


def test_hand_edited_student_notebook_is_stale(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    target = notebooks / "01_a.ipynb"
    target.write_text(
        target.read_text(encoding="utf-8").replace("complete f()", "do it"), encoding="utf-8"
    )
    assert [p.name for p in build_all(solutions, notebooks, check=True).stale] == ["01_a.ipynb"]


def test_orphan_student_notebook_reported(project):
    solutions, notebooks = project
    build_all(solutions, notebooks)
    (solutions / "02_b.ipynb").rename(solutions / "02_renamed.ipynb")
    report = build_all(solutions, notebooks, check=True)
    assert [p.name for p in report.orphans] == ["02_b.ipynb"]
    assert [p.name for p in report.stale] == ["02_renamed.ipynb"]
    assert not report.ok


def test_no_sources_raises(tmp_path):
    (tmp_path / "solutions").mkdir()
    with pytest.raises(NotebookBuildError, match="solutions"):
        build_all(tmp_path / "solutions", tmp_path / "notebooks")


def test_build_all_malformed_source_names_the_file(project):
    solutions, notebooks = project
    nbformat.write(_nb(BAD_CELLS["begin_without_end"]), solutions / "03_bad.ipynb")
    with pytest.raises(NotebookBuildError, match=r"03_bad\.ipynb, cell 0"):
        build_all(solutions, notebooks)


# --- near-miss markers and numbering per region ---------------------------------------


@pytest.mark.parametrize(
    "line",
    ["###BEGIN SOLUTION", "### begin solution", "# BEGIN SOLUTION", "### BEGIN  SOLUTION", "### END SOLUTION!"],
)
def test_near_miss_code_markers_are_refused(line):
    src = f"def f():\n    {line}\n    return 42\n    ### END SOLUTION"
    if "END" in line:
        src = "def f():\n    ### BEGIN SOLUTION\n    return 42\n    " + line
    with pytest.raises(NotebookBuildError, match="looks like a solution marker"):
        build_notebook(_nb(new_code_cell(src)), "00_x.ipynb")


@pytest.mark.parametrize(
    "text",
    ["<!--BEGIN SOLUTION-->secret<!-- END SOLUTION -->", "<!-- begin solution -->secret<!-- END SOLUTION -->",
     "<!-- BEGIN SOLUTION -->secret<!-- END  SOLUTION -->"],
)
def test_near_miss_markdown_markers_are_refused(text):
    with pytest.raises(NotebookBuildError, match="looks like a solution marker"):
        build_notebook(_nb(new_markdown_cell(text)), "00_x.ipynb")


def test_nested_markdown_markers_are_refused():
    text = "<!-- BEGIN SOLUTION -->a<!-- BEGIN SOLUTION -->b<!-- END SOLUTION -->"
    with pytest.raises(NotebookBuildError, match="inside an open solution region"):
        build_notebook(_nb(new_markdown_cell(text)), "00_x.ipynb")


def test_two_regions_in_one_cell_get_two_numbers():
    code = (
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n\n"
        "def g():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION\n"
    )
    text = "<!-- BEGIN SOLUTION -->a<!-- END SOLUTION --> and <!-- BEGIN SOLUTION -->b<!-- END SOLUTION -->"
    out = build_notebook(_nb(new_code_cell(code), new_markdown_cell(text)), "04_x.ipynb")
    assert "Exercise 4.1: complete f()" in out.cells[0].source
    assert "Exercise 4.2: complete g()" in out.cells[0].source
    assert "Exercise 4.3" in out.cells[1].source and "Exercise 4.4" in out.cells[1].source
    assert "return 1" not in out.cells[0].source and "return 2" not in out.cells[0].source
    assert out.cells[1].source.count("write your answer here") == 2
