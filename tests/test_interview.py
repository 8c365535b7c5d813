"""ppml_helpers.interview: the bank against its schema and the notebooks it links to, the
measured numbers its answers quote, progress and spaced repetition, the quiz widget, the mock
interview and ``ppml quiz``."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import nbformat
import pytest

from ppml_helpers.interview import bank as bank_mod
from ppml_helpers.interview import measured as measured_mod
from ppml_helpers.interview import terminal
from ppml_helpers.interview.bank import (
    LEVELS,
    BankError,
    check_numbers,
    filter_questions,
    load_bank,
    numbers_in,
    parse_bank,
    placeholders,
    render,
    section,
)
from ppml_helpers.interview.progress import (
    AGAIN_DELAY,
    INTERVAL_DAYS,
    Progress,
    ProgressFileError,
    topic_scores,
)
from ppml_helpers.interview.quiz import RUBRIC, QuizSession, draw_mock

ROOT = Path(__file__).resolve().parent.parent
TOPICS, QUESTIONS = load_bank()
T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


# --- the bank: schema, coverage, links ----------------------------------------------------


def test_the_bank_has_at_least_80_questions_at_every_level():
    assert len(QUESTIONS) >= 80
    assert {q.level for q in QUESTIONS} == set(LEVELS)
    assert len({q.id for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("topic", ["threat-models", "fedavg", "dp", "dp-sgd", "mpc", "mia-audit", "secagg",
                                   "he", "hybrid", "edge", "legal-spec", "tradeoffs", "tools"])
def test_every_concept_of_the_seed_has_questions(topic):
    assert len(filter_questions(QUESTIONS, topics=[topic])) >= 3


def test_at_least_ten_system_design_questions_including_the_issue_s_scenarios():
    designs = {q.id for q in QUESTIONS if q.system_design}
    assert len(designs) >= 10
    for scenario in ("hospital-consortium", "keyboard-next-word", "cross-bank-fraud", "ad-measurement-api"):
        assert f"system-design-{scenario}" in designs


def test_both_of_the_seed_s_questions_are_in_the_bank():
    ids = {q.id for q in QUESTIONS}
    assert {"threat-models-audit-vendor-claim", "tradeoffs-launch-configuration"} <= ids


def test_some_questions_rest_on_a_flawed_premise_and_some_prove_it_live():
    assert sum(q.flawed_premise is not None for q in QUESTIONS) >= 10
    assert sum(q.prove_it is not None for q in QUESTIONS) >= 10


def _headings(stem: str) -> set[str]:
    nb = nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)
    return {line.lstrip("#").strip() for c in nb.cells if c.cell_type == "markdown"
            for line in c.source.splitlines() if line.startswith("#")}


@pytest.mark.parametrize("stem", sorted({q.notebook for q in QUESTIONS}))
def test_every_section_link_points_to_a_heading_that_exists(stem):
    headings = _headings(stem)
    missing = sorted({q.heading for q in QUESTIONS if q.notebook == stem} - headings)
    assert not missing, f"{stem} has no heading {missing}"


@pytest.mark.parametrize("stem", sorted(measured_mod.quoted_keys()))
def test_every_quoted_key_was_measured_in_that_notebook_s_headline(stem):
    """record_measured takes values only from a notebook's headline and refuses one lacking a
    quoted key; tests/test_notebooks.py checks the keys in each fast run's headline too."""
    quoted = measured_mod.quoted_keys()[stem]
    values = measured_mod.load_measured().get(stem, {})
    assert not quoted - set(values), f"not measured for {stem}: {sorted(quoted - set(values))}"


def test_the_snapshot_holds_only_quoted_keys():
    quoted = measured_mod.quoted_keys()
    for stem, values in measured_mod.load_measured().items():
        assert set(values) <= quoted.get(stem, set())


@pytest.mark.parametrize("question", [q for q in QUESTIONS if q.prove_it], ids=lambda q: q.id)
def test_every_prove_it_computation_runs_and_checks_a_stated_number(question):
    values = question.prove_it.compute()
    assert values
    numeric = [v for v in values if not isinstance(v, bool | str)]
    if numeric:
        right = " and ".join(f"{v:.6g}" for v in numeric)
        assert all(hit for _, hit in check_numbers(question, f"I get {right}."))
        assert not any(hit for _, hit in check_numbers(question, "I get 123456789."))


def _raw(**changes):
    q = {"id": "x-one", "topics": ["dp"], "level": "practice",
         "section": {"notebook": "03_differential_privacy", "heading": "h"},
         "question": "q?", "tests": "t", "strategy": "s", "sample_answer": "a",
         "follow_ups": ["f1", "f2"], "wrong_answers": ["w"]}
    q.update(changes)
    return {k: v for k, v in q.items() if v is not None}


@pytest.mark.parametrize(("changes", "message"), [
    ({"level": "expert"}, r"'x-one': level must be one of \['foundations', 'practice', 'architecture'\], got 'expert'"),
    ({"topics": ["dp", "astrology"]}, r"'x-one': topics must be a non-empty list drawn from"),
    ({"strategy": None}, r"'x-one': strategy must be non-empty text, got None"),
    ({"follow_ups": ["only one"]}, r"'x-one': follow_ups must be a list of 2 to 3"),
    ({"section": {"notebook": "3_dp", "heading": "h"}}, r"'x-one': section must map notebook"),
    ({"id": "Not A Slug"}, r"question id must be lowercase words joined by '-', got 'Not A Slug'"),
    ({"prove_it": {"code": "1", "explain": "e", "tolerance": 2}}, r"prove_it.tolerance must be a relative tolerance"),
    ({"answer": "typo'd field"}, r"'x-one': fields \['answer'\] are not in the schema"),
])
def test_a_broken_entry_is_refused_naming_question_and_field(changes, message):
    with pytest.raises(BankError, match=message):
        parse_bank({"version": 1, "topics": ["dp"], "questions": [_raw(**changes)]})


def test_a_duplicate_id_and_a_wrong_version_are_refused():
    with pytest.raises(BankError, match="'x-one' appears twice"):
        parse_bank({"version": 1, "topics": ["dp"], "questions": [_raw(), _raw()]})
    with pytest.raises(BankError, match="version: 1"):
        parse_bank({"version": 2, "topics": ["dp"], "questions": []})


def test_render_fills_measured_values_as_printed_and_names_a_missing_one():
    text = "MSE {00_threat_models.dlg_mse}, labels {00_threat_models.idlg_labels_recovered}, {04_dp_sgd.nope}"
    out = render(text, {"00_threat_models": {"dlg_mse": 2.3781e-08, "idlg_labels_recovered": 20}})
    assert out == "MSE 2.378e-08, labels 20, [04_dp_sgd.nope: not measured]"
    assert placeholders(text) == [("00_threat_models", "dlg_mse"), ("00_threat_models", "idlg_labels_recovered"),
                                  ("04_dp_sgd", "nope")]


def test_every_notebook_section_renders_its_own_questions_with_no_placeholder_left():
    for stem in sorted({q.notebook for q in QUESTIONS}):
        md = section(stem)._repr_markdown_()
        mine = [q for q in QUESTIONS if q.notebook == stem]
        assert all(q.question in md for q in mine)
        assert not bank_mod.PLACEHOLDER.search(md) and "not measured" not in md
    with pytest.raises(ValueError, match="no question of the bank draws on notebook '99_none'"):
        section("99_none")


def test_numbers_in_reads_the_ways_people_write_numbers():
    assert numbers_in("σ 1,414.2, then 117.97; δ 1e-5, −3 and .5") == [1414.2, 117.97, 1e-5, -3.0, 0.5]


def test_filters_combine_and_refuse_what_no_question_could_match():
    practice_dp = filter_questions(QUESTIONS, topics="dp", level="practice")
    assert practice_dp and all("dp" in q.topics and q.level == "practice" for q in practice_dp)
    assert {q.notebook for q in filter_questions(QUESTIONS, notebook="05")} == {"05_membership_inference"}
    with pytest.raises(ValueError, match=r"topics \['quantum'\] are not in the bank"):
        filter_questions(QUESTIONS, topics=["quantum"])
    with pytest.raises(ValueError, match="level must be one of"):
        filter_questions(QUESTIONS, level="senior")
    with pytest.raises(ValueError, match="notebook must be one of"):
        filter_questions(QUESTIONS, notebook="42")


def test_record_measured_keeps_quoted_full_mode_keys_and_refuses_fast_runs(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    values = {k: 0.5 for k in measured_mod.quoted_keys()["00_threat_models"]}
    (run / "00_threat_models.json").write_text(json.dumps(
        {"notebook": "00_threat_models", "fast": False, "values": {**values, "unquoted": 1}}))
    out = tmp_path / "measured.json"
    data = measured_mod.record_measured(run, out, today="2026-12-06")
    assert data["notebooks"]["00_threat_models"] == {"recorded": "2026-12-06", "values": values}
    (run / "00_threat_models.json").write_text(json.dumps(
        {"notebook": "00_threat_models", "fast": True, "values": values}))
    with pytest.raises(ValueError, match="from fast mode"):
        measured_mod.record_measured(run, out)
    with pytest.raises(FileNotFoundError, match="holds no headline JSON"):
        measured_mod.record_measured(tmp_path / "empty", out)


# --- progress and spaced repetition -------------------------------------------------------


def test_grades_schedule_again_soon_hard_in_the_same_box_good_one_box_up(tmp_path):
    p = Progress(tmp_path / "p.json")
    assert p.grade("a", "good", now=T0) == {"box": 1, "due": (T0 + dt.timedelta(days=INTERVAL_DAYS[1])).isoformat(),
                                             "grades": ["good"]}
    assert p.grade("a", "good", now=T0)["box"] == 2
    assert p.grade("a", "hard", now=T0)["box"] == 2
    again = p.grade("a", "again", now=T0)
    assert again["box"] == 0 and again["due"] == (T0 + AGAIN_DELAY).isoformat()
    assert p.grade("b", "hard", now=T0)["box"] == 1
    with pytest.raises(ValueError, match=r"grade must be one of \['again', 'hard', 'good'\], got 'easy'"):
        p.grade("a", "easy")


def test_due_questions_come_first_then_unseen_then_the_rest(tmp_path):
    qs = QUESTIONS[:6]
    p = Progress(tmp_path / "p.json")
    p.grade(qs[0].id, "good", now=T0)                      # due in 1 day
    p.grade(qs[1].id, "again", now=T0)                     # due in 10 minutes
    p.grade(qs[2].id, "good", now=T0 - dt.timedelta(days=3))  # overdue since 2 days
    order = [q.id for q in p.order(qs, now=T0 + dt.timedelta(hours=1))]
    assert order[:2] == [qs[2].id, qs[1].id]               # the longest overdue first
    assert set(order[2:5]) == {q.id for q in qs[3:]}       # then the unseen
    assert order[5] == qs[0].id                            # then what is not due yet


def test_progress_survives_a_save_and_a_load(tmp_path):
    p = Progress(tmp_path / "sub" / "p.json")
    p.grade("a", "good", now=T0)
    p.save()
    assert Progress.load(tmp_path / "sub" / "p.json").questions == p.questions
    assert not list((tmp_path / "sub").glob("*.tmp"))


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid JSON"),
    ('{"version": 7, "questions": {}}', "is not a version-1 progress file"),
    ('{"version": 1, "questions": {"a": {"box": 9, "due": "2026-01-01T00:00:00+00:00", "grades": []}}}',
     "has a broken entry for 'a'"),
    ('{"version": 1, "questions": {"a": {"box": 1, "due": "tomorrow", "grades": []}}}', "has a broken entry for 'a'"),
])
def test_a_corrupt_progress_file_is_refused_and_left_as_it_is(tmp_path, content, message):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ProgressFileError, match=rf"{re.escape(str(path))} {message}.*left as it is"):
        Progress.load(path)
    assert path.read_text() == content


def test_topic_scores_count_seen_good_and_mastery(tmp_path):
    p = Progress(tmp_path / "p.json")
    he = filter_questions(QUESTIONS, topics="he")
    for _ in range(5):
        p.grade(he[0].id, "good", now=T0)
    p.grade(he[1].id, "again", now=T0)
    [row] = [r for r in topic_scores(p, QUESTIONS, TOPICS) if r["topic"] == "he"]
    assert row == {"topic": "he", "questions": len(he), "seen": 2, "good": 1, "mastery": 5 / (5 * len(he))}


# --- a quiz session, the widget, the mock interview ----------------------------------------


def test_a_session_draws_reveals_grades_saves_and_the_next_one_resumes(tmp_path):
    path = tmp_path / "p.json"
    s = QuizSession(topics=["he"], level="practice", progress_path=path, seed=0, clock=lambda: T0)
    with pytest.raises(RuntimeError, match="draw a question first"):
        s.reveal("x")
    q = s.draw()
    assert "he" in q.topics and q.level == "practice"
    with pytest.raises(RuntimeError, match="reveal the answer"):
        s.grade("good")
    with pytest.raises(ValueError, match="got an empty answer"):
        s.reveal("   ")
    r = s.reveal("CKKS is approximate.")
    assert r.sample_answer and not bank_mod.PLACEHOLDER.search(r.sample_answer)
    s.grade("again")
    assert s.draw().id != q.id                             # not the one just graded
    later = QuizSession(topics=["he"], level="practice", progress_path=path, seed=0,
                        clock=lambda: T0 + dt.timedelta(minutes=30))
    assert later.progress.questions[q.id]["grades"] == ["again"]
    assert later.draw().id == q.id                         # due again: it comes back first


def test_numeric_questions_are_checked_against_the_live_computation(tmp_path):
    q = next(q for q in QUESTIONS if q.id == "dp-laplace-or-gaussian")
    s = QuizSession(progress_path=tmp_path / "p.json", questions=[q])
    s.draw()
    r = s.reveal("Laplace's sd would be about 1414 against 118 for the Gaussian.")
    assert [hit for _, hit in r.numbers] == [True, True]


def test_the_mock_interview_is_a_design_question_and_two_others():
    mock = draw_mock(seed=1)
    (design, m0), (a, m1), (b, m2) = mock.parts
    assert design.system_design and not a.system_design and not b.system_design and a.id != b.id
    assert (m0, m1, m2) == (20, 5, 5) and mock.minutes == 30 and mock.rubric == RUBRIC
    assert [q.id for q, _ in draw_mock(seed=1).parts] == [design.id, a.id, b.id]
    with pytest.raises(ValueError, match="needs a system-design question"):
        draw_mock([q for q in QUESTIONS if not q.system_design])


@pytest.fixture
def agg(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")


def test_the_widget_draws_reveals_grades_and_saves(tmp_path, agg):
    from ppml_helpers.interview.widget import QuizWidget

    path = tmp_path / "p.json"
    w = QuizWidget(progress_path=path, seed=0, topic="secagg", level="foundations")
    assert w.reveal_button.disabled and all(b.disabled for b in w.grade_buttons.values())
    w.draw_button.click()
    q = w.session.current
    assert q.question[:30] in w.question.value.replace("&#x27;", "'")
    w.reveal_button.click()                                # nothing written yet: refused, said
    assert "empty answer" in w.status.value and not w.revealed.value
    w.answer.value = "Pairwise masks cancel in the sum."
    w.reveal_button.click()
    assert "Strategy." in w.revealed.value and "Sample answer." in w.revealed.value
    w.grade_buttons["good"].click()
    assert json.loads(path.read_text())["questions"][q.id]["grades"] == ["good"]
    assert "Saved to" in w.status.value
    assert QuizWidget(progress_path=path).session.progress.questions[q.id]["box"] == 1  # resumed


def test_the_widget_says_when_no_question_matches_and_refuses_a_corrupt_file(tmp_path, agg):
    from ppml_helpers.interview.widget import QuizWidget

    w = QuizWidget(progress_path=tmp_path / "p.json")
    empty = next((t, lv) for t in TOPICS for lv in LEVELS if not filter_questions(QUESTIONS, topics=t, level=lv))
    w.topic.value, w.level.value = empty
    assert w.draw_button.disabled and "No question matches" in w.status.value
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    w = QuizWidget(progress_path=bad)
    assert w.draw_button.disabled and "not a version-1 progress file" in w.status.value
    assert bad.read_text() == "[]"


def test_the_mock_widget_counts_down_and_ends_on_the_rubric():
    from ppml_helpers.interview.widget import MockWidget

    w = MockWidget(seed=2)
    assert w.next().system_design and w.clock.max == 20 * 60
    assert "20:00" in w.left.value
    w.clock.value = 20 * 60
    assert "time" in w.left.value
    w.next()
    w.next()
    assert w.next() is None and w.rubric_box.layout.display == "flex" and w.next_button.disabled
    w.rubric[0].value = w.rubric[3].value = True
    assert w.score.value.startswith("2 of 8")


# --- ppml quiz ------------------------------------------------------------------------------


def _quiz(argv, lines, monkeypatch=None):
    import argparse

    parser = argparse.ArgumentParser()
    terminal.add_arguments(parser)
    feed = iter(lines)
    out = []

    def read(prompt=""):
        out.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    code = terminal.run(parser.parse_args(argv), read=read, write=out.append, clock=iter(range(0, 10_000, 90)).__next__)
    return code, "\n".join(map(str, out))


def test_ppml_quiz_draws_grades_saves_and_resumes(tmp_path):
    path = str(tmp_path / "p.json")
    code, out = _quiz(["--topic", "dp", "--level", "practice", "--count", "2", "--progress", path, "--seed", "0"],
                      ["my answer", "", "x", "g", "", "second answer", "", "a"])
    assert code == 0 and "Strategy:" in out and "Type a, h, g or q." in out and "Write something first" in out
    graded = json.loads(Path(path).read_text())["questions"]
    assert sorted(s["grades"][0] for s in graded.values()) == ["again", "good"]
    code, out = _quiz(["--progress", path, "--scores"], [])
    assert code == 0 and re.search(r"dp +2/\d+ +seen, +1 good", out)


def test_ppml_quiz_ends_cleanly_at_end_of_input_and_on_quit(tmp_path):
    path = tmp_path / "p.json"
    code, out = _quiz(["--progress", str(path)], ["half an answer"])
    assert code == 0 and "0 graded this session" in out
    code, out = _quiz(["--progress", str(path)], ["answer", "", "q"])
    assert code == 0 and not path.exists()


def test_ppml_quiz_refuses_a_corrupt_file_and_an_empty_filter(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text("{")
    code, out = _quiz(["--progress", str(bad)], [])
    assert code == 2 and "is not valid JSON" in out and bad.read_text() == "{"
    empty = next((t, lv) for t in TOPICS for lv in LEVELS if not filter_questions(QUESTIONS, topics=t, level=lv))
    code, out = _quiz(["--topic", empty[0], "--level", empty[1], "--progress", str(tmp_path / "q.json")], [])
    assert code == 1 and "No question matches" in out
    code, out = _quiz(["--notebook", "42", "--progress", str(tmp_path / "q.json")], [])
    assert code == 2 and "notebook must be one of" in out


def test_ppml_quiz_mock_times_each_part_and_prints_the_rubric():
    code, out = _quiz(["--mock", "--seed", "1"], ["design", "", "two", "", "three", ""])
    assert code == 0 and out.count("of 20 minutes") == 1 and out.count("of 5 minutes") == 2
    assert all(item in out for item in RUBRIC)


def test_ppml_quiz_is_a_subcommand_of_ppml(tmp_path, monkeypatch, capsys):
    from ppml_helpers.cli import main

    monkeypatch.setenv("PPML_QUIZ_PROGRESS", str(tmp_path / "p.json"))
    assert main(["quiz", "--scores"]) == 0
    assert "threat-models" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["quiz", "--level", "guru"])


def test_the_bank_and_its_numbers_ship_in_the_wheel(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, timeout=300)
    [wheel] = tmp_path.glob("ppml_helpers-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"ppml_helpers/interview/bank.yaml", "ppml_helpers/interview/measured.json"} <= names


def test_the_readme_counts_are_the_bank_s():
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    m = re.search(r"\((\d+) questions: (\d+) foundations, (\d+) practice, (\d+) architecture, (\d+) of them system "
                  r"design\).*?; (\d+) rest on a flawed premise to correct first, and (\d+) end with a \"prove it\"", text)
    assert m, "the README's interview section no longer states the bank's counts"
    levels = [sum(q.level == lv for q in QUESTIONS) for lv in LEVELS]
    assert [int(g) for g in m.groups()] == [
        len(QUESTIONS), *levels, sum(q.system_design for q in QUESTIONS),
        sum(q.flawed_premise is not None for q in QUESTIONS), sum(q.prove_it is not None for q in QUESTIONS)]
