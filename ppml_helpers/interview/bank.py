"""The interview question bank: ``bank.yaml``, its schema, filters, and answers with the
course's measured numbers filled in.

A question quotes a measurement only as ``{notebook_stem.headline_key}``; the value
comes from :mod:`.measured` (the last full-mode ``make course`` run), so an answer
says what the code printed, never a copied number.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "LEVELS",
    "BankError",
    "ProveIt",
    "Question",
    "Section",
    "check_numbers",
    "filter_questions",
    "load_bank",
    "numbers_in",
    "parse_bank",
    "placeholders",
    "render",
    "section",
]

#: The seed's three stages, in the order a study plan takes them.
LEVELS = ("foundations", "practice", "architecture")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_NOTEBOOK = re.compile(r"^(0\d|A\d)_[a-z0-9_]+$")
#: ``{03_differential_privacy.eps_opacus_rdp}``: a notebook's headline key.
PLACEHOLDER = re.compile(r"\{((?:0\d|A\d)_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_]*)\}")
_TEXT_FIELDS = ("question", "tests", "strategy", "sample_answer")


class BankError(ValueError):
    """The bank (or a question handed in) breaks the schema; the message names the question
    and the field."""


@dataclass(frozen=True)
class ProveIt:
    """A computation the package does live: ``code`` is an expression over ``ph``."""

    code: str
    explain: str
    #: relative tolerance when a learner's number is checked against the live value
    tolerance: float = 0.02

    def compute(self) -> tuple:
        """Evaluate the expression with the package as ``ph``: a flat tuple of its values
        (numbers as floats; text and truth values as they are)."""
        import ppml_helpers as ph

        value = eval(self.code, {"__builtins__": __builtins__, "ph": ph, "math": math})  # the bank's own expressions
        return tuple(_flat(value))


def _flat(value):
    if isinstance(value, tuple | list):
        for v in value:
            yield from _flat(v)
    elif isinstance(value, bool | str):
        yield value
    elif isinstance(value, range):  # e.g. the thresholds a plan allows: its first and last
        yield from (float(value[0]), float(value[-1])) if value else ()
    else:
        yield float(value)


@dataclass(frozen=True)
class Question:
    """One interview question; see ``bank.yaml`` for what each field holds."""

    id: str
    topics: tuple[str, ...]
    level: str
    notebook: str
    heading: str
    question: str
    tests: str
    strategy: str
    sample_answer: str
    follow_ups: tuple[str, ...]
    wrong_answers: tuple[str, ...]
    flawed_premise: str | None = None
    prove_it: ProveIt | None = None

    @property
    def system_design(self) -> bool:
        return "system-design" in self.topics


def _fail(qid, field, problem):
    raise BankError(f"question {qid!r}: {field} {problem}")


def _text(raw, qid, field, *, required=True):
    value = raw.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        _fail(qid, field, f"must be non-empty text, got {value!r}.")
    return " ".join(value.split()) if field != "code" else value.strip()


def _strings(raw, qid, field, low, high):
    value = raw.get(field)
    if not isinstance(value, list) or not low <= len(value) <= high or not all(
            isinstance(v, str) and v.strip() for v in value):
        _fail(qid, field, f"must be a list of {low} to {high} non-empty strings, got {value!r}.")
    return tuple(" ".join(v.split()) for v in value)


def _question(raw, topics) -> Question:
    if not isinstance(raw, dict):
        raise BankError(f"every entry of questions must be a mapping, got {raw!r:.80}.")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise BankError(f"question id must be lowercase words joined by '-', got {qid!r}.")
    known = {"id", "topics", "level", "section", "question", "tests", "strategy", "sample_answer",
             "follow_ups", "wrong_answers", "flawed_premise", "prove_it"}
    if unknown := sorted(set(raw) - known):
        _fail(qid, "fields", f"{unknown} are not in the schema (allowed: {sorted(known)}).")
    qtopics = raw.get("topics")
    if not isinstance(qtopics, list) or not qtopics or not set(qtopics) <= set(topics):
        _fail(qid, "topics", f"must be a non-empty list drawn from {list(topics)}, got {qtopics!r}.")
    if raw.get("level") not in LEVELS:
        _fail(qid, "level", f"must be one of {list(LEVELS)}, got {raw.get('level')!r}.")
    sec = raw.get("section")
    if not isinstance(sec, dict) or not _NOTEBOOK.match(str(sec.get("notebook", ""))) or not (
            isinstance(sec.get("heading"), str) and sec["heading"].strip()):
        _fail(qid, "section", f"must map notebook (like 03_differential_privacy) and heading, got {sec!r}.")
    prove = raw.get("prove_it")
    if prove is not None:
        if not isinstance(prove, dict) or set(prove) - {"code", "explain", "tolerance"}:
            _fail(qid, "prove_it", f"must map code, explain and optionally tolerance, got {prove!r}.")
        tol = prove.get("tolerance", 0.02)
        if not isinstance(tol, int | float) or not 0 < tol < 1:
            _fail(qid, "prove_it.tolerance", f"must be a relative tolerance in (0, 1), got {tol!r}.")
        prove = ProveIt(_text(prove, qid, "code"), _text(prove, qid, "explain"), float(tol))
    return Question(
        id=qid, topics=tuple(qtopics), level=raw["level"], notebook=sec["notebook"],
        heading=sec["heading"].strip(),
        **{f: _text(raw, qid, f) for f in _TEXT_FIELDS},
        follow_ups=_strings(raw, qid, "follow_ups", 2, 3),
        wrong_answers=_strings(raw, qid, "wrong_answers", 1, 4),
        flawed_premise=_text(raw, qid, "flawed_premise", required=False),
        prove_it=prove,
    )


def parse_bank(data) -> tuple[tuple[str, ...], tuple[Question, ...]]:
    """Validate a loaded bank (``{version, topics, questions}``); return its topics and questions."""
    if not isinstance(data, dict) or data.get("version") != 1:
        raise BankError(f"the bank must be a mapping with version: 1, got {str(data)[:80]!r}.")
    topics = data.get("topics")
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        raise BankError(f"topics must be a non-empty list of names, got {topics!r}.")
    if not isinstance(data.get("questions"), list):
        raise BankError("questions must be a list.")
    questions = tuple(_question(q, topics) for q in data["questions"])
    seen = set()
    for q in questions:
        if q.id in seen:
            raise BankError(f"question id {q.id!r} appears twice.")
        seen.add(q.id)
    return tuple(topics), questions


@functools.cache
def load_bank() -> tuple[tuple[str, ...], tuple[Question, ...]]:
    """The course's bank, validated: ``(topics, questions)``.

    Raises:
        BankError: the file breaks the schema (the message names the question and field).
    """
    import yaml

    text = resources.files(__package__).joinpath("bank.yaml").read_text(encoding="utf-8")
    return parse_bank(yaml.safe_load(text))


def filter_questions(questions, *, topics=None, level=None, notebook=None) -> list[Question]:
    """The questions matching every filter given (``topics``: any of them; ``level``;
    ``notebook``: its stem, or its two-character prefix like ``"03"``).

    Raises:
        ValueError: a level, topic or notebook no question could ever match.
    """
    all_topics = {t for q in questions for t in q.topics}
    if isinstance(topics, str):
        topics = [topics]
    if topics:
        if unknown := sorted(set(topics) - all_topics):
            raise ValueError(f"topics {unknown} are not in the bank; the topics are {sorted(all_topics)}.")
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {list(LEVELS)}, got {level!r}.")
    if notebook is not None:
        stems = {q.notebook for q in questions}
        matches = {s for s in stems if s == notebook or s.split("_")[0] == notebook}
        if not matches:
            raise ValueError(f"notebook must be one of {sorted(stems)} (or its number), got {notebook!r}.")
    return [q for q in questions
            if (not topics or set(topics) & set(q.topics))
            and (level is None or q.level == level)
            and (notebook is None or q.notebook in matches)]


def placeholders(text: str) -> list[tuple[str, str]]:
    """Every ``(notebook, key)`` a text quotes."""
    return PLACEHOLDER.findall(text)


def render(text: str, measured: dict | None = None) -> str:
    """Fill ``{notebook.key}`` from ``measured`` (``{notebook: {key: value}}``; the course's
    snapshot when ``None``). A value not measured yet reads ``[notebook.key: not measured]``."""
    from ..report import format_value
    from .measured import load_measured

    values = load_measured() if measured is None else measured

    def fill(m):
        nb, key = m.groups()
        if key in values.get(nb, {}):
            return format_value(values[nb][key])
        return f"[{nb}.{key}: not measured]"

    return PLACEHOLDER.sub(fill, text)


@dataclass(frozen=True)
class Section:
    """A notebook's "Interview questions", drawn from the bank; displays as Markdown."""

    notebook: str
    questions: tuple[Question, ...]
    measured: dict

    def _repr_markdown_(self) -> str:
        parts = [f"*{len(self.questions)} questions from the course's bank "
                 f"(`ppml_helpers/interview/bank.yaml`); practise them with the quiz of "
                 f"`09_interview_prep` or `ppml quiz --notebook {self.notebook[:2]}`.*"]
        for i, q in enumerate(self.questions, 1):
            flawed = " · *flawed premise: correct it*" if q.flawed_premise else ""
            follow = "\n".join(f"  - {f}" for f in q.follow_ups)
            wrong = "\n".join(f"  - {w}" for w in q.wrong_answers)
            parts.append(
                f"**{i}. {q.question}**  \n`{q.level}` · {', '.join(q.topics)} · "
                f"draws on *{q.heading}*{flawed}\n\n"
                f"*What it tests.* {q.tests}\n\n*Strategy.* {q.strategy}\n\n"
                f"<details><summary>Sample answer (numbers from the course's last full run)</summary>\n\n"
                f"{render(q.sample_answer, self.measured)}\n\n</details>\n\n"
                f"- *Follow-ups:*\n{follow}\n- *Common wrong answers:*\n{wrong}")
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        lines = [f"{self.notebook}: {len(self.questions)} interview questions"]
        lines += [f"  {i}. [{q.level}] {q.question}" for i, q in enumerate(self.questions, 1)]
        return "\n".join(lines)


def section(notebook: str, measured: dict | None = None) -> Section:
    """The bank's questions on ``notebook`` (its stem), for its "Interview questions" section.

    Raises:
        ValueError: no question of the bank draws on that notebook.
    """
    from .measured import load_measured

    _, questions = load_bank()
    mine = tuple(q for q in questions if q.notebook == notebook)
    if not mine:
        raise ValueError(f"no question of the bank draws on notebook {notebook!r}; the notebooks "
                         f"with questions are {sorted({q.notebook for q in questions})}.")
    return Section(notebook, mine, load_measured() if measured is None else measured)


_NUMBER = re.compile(r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+−]?\d+)?|[-+−]?\.\d+")


def numbers_in(text: str) -> list[float]:
    """The numbers a written answer states (``1,414``, ``2.59``, ``1e-5``, ``−3``)."""
    return [float(m.replace(",", "").replace("−", "-")) for m in _NUMBER.findall(text)]


def check_numbers(question: Question, answer: str) -> list[tuple[float, bool]]:
    """For a question with a "prove it" computation: each numeric value the package computes
    live, and whether the answer states it within the question's relative tolerance.

    Raises:
        ValueError: the question has no "prove it" computation.
    """
    if question.prove_it is None:
        raise ValueError(f"question {question.id!r} has no prove-it computation to check a number against.")
    stated = numbers_in(answer)
    tol = question.prove_it.tolerance
    out = []
    for value in question.prove_it.compute():
        if isinstance(value, bool | str):
            continue
        hit = any(math.isclose(s, value, rel_tol=tol, abs_tol=1e-12) for s in stated)
        out.append((value, hit))
    return out
