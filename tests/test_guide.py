"""The instructor guide (docs/instructor_guide.md): its generated parts are current, its agendas
fit their days and cite sections that exist, and its error messages are the package's own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ppml_helpers import guide

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_the_guide_s_generated_parts_are_current():
    assert guide.update_guide(check=True) == [], "docs/instructor_guide.md is stale: run `ppml guide`"


def test_a_stale_guide_is_reported_and_not_written_by_check(tmp_path):
    stale = tmp_path / "guide.md"
    text = guide.GUIDE.read_text(encoding="utf-8").replace("of reading and exercises", "of reading", 1)
    stale.write_text(text, encoding="utf-8")
    assert guide.update_guide(stale, check=True) == ["notebooks"]
    assert stale.read_text(encoding="utf-8") == text
    assert guide.update_guide(stale) == ["notebooks"] and guide.update_guide(stale, check=True) == []
    stale.write_text("no markers at all")
    with pytest.raises(ValueError, match="has generated blocks \\[\\]; expected \\['agendas', 'notebooks'\\]"):
        guide.update_guide(stale, check=True)


@pytest.mark.parametrize("name", list(guide.AGENDAS))
def test_each_day_of_an_agenda_fits_and_cites_sections_that_exist(name):
    hours, blocks = guide.AGENDAS[name]
    days, day = [], []
    for block in blocks:
        if block[1].startswith("Day ") and day:
            days.append(day)
            day = []
        day.append(block)
    days.append(day)
    per_day = hours * 60 / len(days)
    for d in days:
        assert sum(m for _, _, m in d) <= per_day, f"{name}: a day of {sum(m for _, _, m in d)} min"
    for nb, what, _ in blocks:
        if nb is None:
            continue
        facts = guide.notebook_facts(ROOT / "solutions" / f"{nb}.ipynb")
        numbers = {s.split(".")[0] for s in facts.sections if s[0].isdigit()}
        cited = re.findall(r"\b(\d+)\b", re.sub(r"Exercises? [\d.–, and]+|\d+\.\d+", "", what))
        for a, b in re.findall(r"(\d+)–(\d+)", what):
            cited += [str(i) for i in range(int(a), int(b) + 1)]
        assert set(cited) <= numbers, f"{name}, {nb}: sections {sorted(set(cited) - numbers)} do not exist"
        exercises = {e[0] for e in facts.exercises}
        for ex in re.findall(r"\b(\d+\.\d+)\b", what):
            assert ex in exercises, f"{name}, {nb}: no Exercise {ex}"
        assert nb in guide.WHEN_LATE


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_notebook_states_objectives_minutes_and_exercises(path):
    facts = guide.notebook_facts(path)
    assert len(facts.objectives) >= 3 and all(len(o) > 20 for o in facts.objectives)
    assert facts.minutes >= 30 and len(facts.exercises) >= 3


def test_the_errors_shown_are_the_ones_the_package_raises_now():
    import ppml_helpers as ph

    errors = guide.learner_errors()
    assert sum(map(len, errors.values())) == sum(map(len, guide.COMMON_ERRORS.values()))
    with pytest.raises(ValueError) as info:
        ph.dp.laplace_scale(sensitivity=1.0, epsilon=0)
    assert f"ValueError: {info.value}" in [msg for _, _, msg in errors["03_differential_privacy"]]
    assert all("/tmp/" not in msg for cases in errors.values() for _, _, msg in cases)


def test_a_catalogue_call_that_stops_raising_is_reported(monkeypatch):
    monkeypatch.setattr(guide, "COMMON_ERRORS", {"03_differential_privacy": [("fine", "ph.dp.laplace_scale(sensitivity=1.0, epsilon=1.0)")]})
    with pytest.raises(AssertionError, match="no longer raises"):
        guide.learner_errors()


def test_self_check_hints_are_read_from_the_checks():
    hints = guide.check_hints()
    assert {"00", "03", "09"} <= set(hints)
    assert ("9.1", "Return one of the option strings exactly as given.") in hints["09"]


def test_record_timings_merges_by_mode_and_skips_failures(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "timings.json").write_text(json.dumps({
        "03_x": {"seconds": 12.3, "fast": True, "error": None, "date": "2026-12-06"},
        "04_y": {"seconds": 1.0, "fast": True, "error": "ZeroDivisionError", "date": "2026-12-06"},
        "05_z": {"seconds": 99.0, "fast": False, "error": None, "date": "2026-12-05"}}))
    out = tmp_path / "timings.json"
    data = guide.record_timings(run, out)
    assert data == {"full": {"05_z": {"seconds": 99.0, "date": "2026-12-05"}},
                    "fast": {"03_x": {"seconds": 12.3, "date": "2026-12-06"}}}
    with pytest.raises(FileNotFoundError, match="ppml run --save"):
        guide.record_timings(tmp_path / "nothing", out)


def test_ppml_guide_check_exits_1_when_stale(monkeypatch, tmp_path, capsys):
    from ppml_helpers.cli import main

    stale = tmp_path / "guide.md"
    stale.write_text(guide.GUIDE.read_text(encoding="utf-8").replace("| 15 |", "| 16 |", 1), encoding="utf-8")
    monkeypatch.setattr(guide, "GUIDE", stale)
    assert main(["guide", "--check"]) == 1
    assert "stale in ['agendas']" in capsys.readouterr().err
