"""One practice session over the bank, whatever shows it (the notebook's widget or
``ppml quiz``): draw, write an answer, reveal, self-grade, save; and the mock interview.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .bank import Question, check_numbers, filter_questions, load_bank, render
from .progress import Progress

__all__ = ["MOCK_MINUTES", "RUBRIC", "MockInterview", "QuizSession", "Reveal", "draw_mock"]

#: Minutes a mock interview gives each part: the system-design question, then two others.
MOCK_MINUTES = (20, 5, 5)

#: What interviewers in this field listen for, in the order a strong answer gives it.
RUBRIC = (
    "Clarified the setting first: who holds which data, who trains, what is released, to whom.",
    "Stated the threat model: which parties, honest-but-curious or malicious, how many collude.",
    "Named the privacy unit (example, patient, user, institution) and the guarantee's scope.",
    "Chose mechanisms per threat (FL, DP, secure aggregation, HE, MPC) and said what each does not cover.",
    "Put numbers on it: ε and δ with an accountant, rounds, bytes, latency, accuracy cost.",
    "Named the failure modes: dropouts, stragglers, non-IID data, poisoning, collusion, tuning that spends budget.",
    "Said how it would be verified: an audit, membership inference, tests, a written specification.",
    "Closed the triangle: what was traded between privacy, utility and efficiency, and why.",
)


@dataclass(frozen=True)
class Reveal:
    """What the quiz shows once the learner has written an answer: the question's strategy,
    follow-ups and wrong answers, its sample answer with the measured numbers filled in, and
    for a "prove it" question the live values and whether the answer stated them."""

    question: Question
    sample_answer: str
    #: (live value, stated in the answer?) for a question with a "prove it" computation
    numbers: tuple[tuple[float, bool], ...] = ()

    @property
    def strategy(self) -> str:
        return self.question.strategy

    @property
    def follow_ups(self) -> tuple[str, ...]:
        return self.question.follow_ups

    @property
    def wrong_answers(self) -> tuple[str, ...]:
        return self.question.wrong_answers

    @property
    def flawed_premise(self) -> str | None:
        return self.question.flawed_premise

    @property
    def prove_it(self) -> str | None:
        return self.question.prove_it.explain if self.question.prove_it else None


class QuizSession:
    """Draw questions matching the filters, due ones first; reveal; grade; save after each grade.

    Raises (on creation):
        ValueError: a filter names a topic, level or notebook the bank does not have.
        ProgressFileError: the progress file is corrupt (it is not overwritten).
    """

    def __init__(self, *, topics=None, level=None, notebook=None, progress_path=None,
                 seed=None, questions=None, measured=None, clock=None):
        bank = load_bank()[1] if questions is None else tuple(questions)
        self.questions = filter_questions(bank, topics=topics, level=level, notebook=notebook)
        self.progress = Progress.load(progress_path)
        self.rng = random.Random(seed)
        self.measured = measured
        self.clock = clock  # a function returning "now" (tests); None: the real time
        self.current: Question | None = None
        self.revealed = False
        self.graded: list[tuple[str, str]] = []

    def _now(self):
        return self.clock() if self.clock else None

    def draw(self) -> Question | None:
        """The next question (``None`` when no question matches the filters)."""
        recent = [qid for qid, _ in self.graded[-1:]]
        self.current = self.progress.draw(self.questions, now=self._now(), rng=self.rng, exclude=recent)
        self.revealed = False
        return self.current

    def reveal(self, answer: str) -> Reveal:
        """Show the strategy, sample answer and follow-ups; ``answer`` is what the learner wrote.

        Raises:
            RuntimeError: no question drawn yet.
            ValueError: ``answer`` is empty (write an answer before looking).
        """
        q = self._need_question()
        if not isinstance(answer, str) or not answer.strip():
            raise ValueError("answer must be what you would say, written before revealing: got an empty answer.")
        self.revealed = True
        numbers = tuple(check_numbers(q, answer)) if q.prove_it else ()
        return Reveal(q, render(q.sample_answer, self.measured), numbers)

    def grade(self, grade: str) -> dict:
        """Self-grade the revealed question (again / hard / good), schedule it and save.

        Raises:
            RuntimeError: no question drawn, or not revealed yet.
            ValueError: an unknown grade.
        """
        q = self._need_question()
        if not self.revealed:
            raise RuntimeError("reveal the answer (after writing yours) before grading it.")
        state = self.progress.grade(q.id, grade, now=self._now())
        self.progress.save()
        self.graded.append((q.id, grade))
        self.current, self.revealed = None, False
        return state

    def _need_question(self) -> Question:
        if self.current is None:
            raise RuntimeError("draw a question first.")
        return self.current


@dataclass(frozen=True)
class MockInterview:
    """A system-design question and two others, each with its minutes, and the rubric."""

    parts: tuple[tuple[Question, int], ...]
    rubric: tuple[str, ...] = RUBRIC

    @property
    def minutes(self) -> int:
        return sum(m for _, m in self.parts)


def draw_mock(questions=None, *, seed=None, minutes=MOCK_MINUTES) -> MockInterview:
    """One system-design question, then two others from other topics, drawn with ``seed``.

    Raises:
        ValueError: the questions hold no system-design question or fewer than two others.
    """
    pool = load_bank()[1] if questions is None else tuple(questions)
    rng = random.Random(seed)
    designs = [q for q in pool if q.system_design]
    if not designs:
        raise ValueError("a mock interview needs a system-design question; the questions given have none.")
    design = rng.choice(designs)
    others = [q for q in pool if not q.system_design and not set(q.topics) & set(design.topics) - {"hybrid"}]
    others = others if len(others) >= 2 else [q for q in pool if not q.system_design]
    if len(others) < 2:
        raise ValueError("a mock interview needs two questions besides the system-design one.")
    first = rng.choice(others)
    second = rng.choice([q for q in others if q.topics[0] != first.topics[0]] or
                        [q for q in others if q.id != first.id])
    return MockInterview(tuple(zip((design, first, second), minutes, strict=True)))
