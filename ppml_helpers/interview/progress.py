"""A learner's quiz progress: a JSON file in the user's data folder, a simple
spaced-repetition rule, and per-topic scores. Shared by the notebook's widget and ``ppml quiz``.

The rule (Leitner boxes): *again* puts a question in box 0, due in ten minutes;
*hard* keeps its box (at least 1); *good* moves it up one. Box b is due
``INTERVAL_DAYS[b]`` days after the grade. Drawing takes questions that are due first
(the longest overdue first), then unseen ones, then, when nothing is left, the one due soonest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "GRADES",
    "INTERVAL_DAYS",
    "Progress",
    "ProgressFileError",
    "default_progress_path",
    "topic_scores",
]

GRADES = ("again", "hard", "good")
#: days until a question in box b is due again (box 0: minutes, see AGAIN_DELAY)
INTERVAL_DAYS = (0, 1, 3, 7, 16, 35)
AGAIN_DELAY = dt.timedelta(minutes=10)
_VERSION = 1


class ProgressFileError(ValueError):
    """The progress file cannot be read as the quiz's progress; it is left as it is."""


def default_progress_path() -> Path:
    """``$PPML_QUIZ_PROGRESS`` if set, else ``quiz_progress.json`` in the user's data folder."""
    if env := os.environ.get("PPML_QUIZ_PROGRESS"):
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("ppml-course", appauthor=False)) / "quiz_progress.json"


def _now(now):
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


@dataclass
class Progress:
    """Per-question state ``{id: {box, due, grades}}``, read from and saved to ``path``."""

    path: Path
    questions: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path=None) -> Progress:
        """Read ``path`` (the default file when ``None``); a missing file is a fresh start.

        Raises:
            ProgressFileError: the file is not the quiz's JSON (the message names the path and
                what is wrong; the file is not touched, so nothing the learner did is lost).
        """
        path = Path(path) if path is not None else default_progress_path()
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProgressFileError(f"the quiz progress file {path} is not valid JSON ({exc}); it was left "
                                    "as it is: repair it, move it away, or pass another path.") from exc
        if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("questions"), dict):
            raise ProgressFileError(f"the quiz progress file {path} is not a version-{_VERSION} progress file "
                                    "(expected {\"version\": 1, \"questions\": {...}}); it was left as it is.")
        for qid, state in data["questions"].items():
            ok = (isinstance(state, dict) and isinstance(state.get("box"), int)
                  and 0 <= state["box"] < len(INTERVAL_DAYS) and isinstance(state.get("grades"), list))
            try:
                ok = ok and dt.datetime.fromisoformat(state["due"]).tzinfo is not None
            except (KeyError, TypeError, ValueError):
                ok = False
            if not ok:
                raise ProgressFileError(f"the quiz progress file {path} has a broken entry for {qid!r}: "
                                        f"{state!r:.120}; it was left as it is.")
        return cls(path, data["questions"])

    def save(self) -> None:
        """Write atomically (a temporary file, then a rename): a crash never leaves half a file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"version": _VERSION, "questions": self.questions}, indent=1) + "\n",
                       encoding="utf-8")
        os.replace(tmp, self.path)

    def grade(self, qid: str, grade: str, now=None) -> dict:
        """Record a self-grade for question ``qid`` and schedule it; return its new state.

        Raises:
            ValueError: ``grade`` is not one of ``GRADES``.
        """
        if grade not in GRADES:
            raise ValueError(f"grade must be one of {list(GRADES)}, got {grade!r}.")
        now = _now(now)
        state = self.questions.get(qid, {"box": 0, "grades": []})
        box = state["box"]
        if grade == "again":
            box, due = 0, now + AGAIN_DELAY
        else:
            box = max(box, 1) if grade == "hard" else min(box + 1, len(INTERVAL_DAYS) - 1)
            due = now + dt.timedelta(days=INTERVAL_DAYS[box])
        state = {"box": box, "due": due.isoformat(), "grades": [*state["grades"], grade]}
        self.questions[qid] = state
        return state

    def due(self, qid: str) -> dt.datetime | None:
        state = self.questions.get(qid)
        return None if state is None else dt.datetime.fromisoformat(state["due"])

    def order(self, questions, now=None, rng=None) -> list:
        """``questions`` in drawing order: due (longest overdue first), unseen (shuffled by
        ``rng``), then the rest, soonest due first."""
        now = _now(now)
        rng = rng or random.Random()
        due = sorted((q for q in questions if q.id in self.questions and self.due(q.id) <= now),
                     key=lambda q: self.due(q.id))
        unseen = [q for q in questions if q.id not in self.questions]
        rng.shuffle(unseen)
        later = sorted((q for q in questions if q.id in self.questions and self.due(q.id) > now),
                       key=lambda q: self.due(q.id))
        return [*due, *unseen, *later]

    def draw(self, questions, now=None, rng=None, exclude=()):
        """The next question to practise (``None`` when ``questions`` is empty)."""
        pool = [q for q in questions if q.id not in set(exclude)] or list(questions)
        ordered = self.order(pool, now, rng)
        return ordered[0] if ordered else None


def topic_scores(progress: Progress, questions, topics) -> list[dict]:
    """Per topic: questions, seen, last grade *good*, and mastery (mean box / top box, unseen = 0)."""
    rows = []
    top = len(INTERVAL_DAYS) - 1
    for topic in topics:
        mine = [q for q in questions if topic in q.topics]
        if not mine:
            continue
        states = [progress.questions.get(q.id) for q in mine]
        seen = [s for s in states if s]
        rows.append({
            "topic": topic, "questions": len(mine), "seen": len(seen),
            "good": sum(s["grades"][-1] == "good" for s in seen),
            "mastery": sum(s["box"] for s in seen) / (top * len(mine)),
        })
    return rows
