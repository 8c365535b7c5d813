"""The self-check mechanism: a result that shows itself as a pass or as what is wrong.

A check never reveals the reference answer; its hint points at the idea.
``NotImplementedError`` from an unsolved exercise is re-raised unchanged so
the check cell fails the same way as the exercise cell.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass

__all__ = ["FAIL_MARK", "PASS_MARK", "CheckResult", "call_learner", "check", "failed", "passed"]

PASS_MARK = "✅"
FAIL_MARK = "❌"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one self-check; truthy when it passed.

    Attributes:
        exercise: the exercise id, e.g. ``"0.3"``.
        passed: whether the learner's answer matches the reference.
        message: what was checked (on a pass) or what is wrong (on a fail).
        hint: a nudge towards the idea, never the answer.
    """

    exercise: str
    passed: bool
    message: str
    hint: str = ""

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return f"{PASS_MARK} Exercise {self.exercise} passed: {self.message}"
        text = f"{FAIL_MARK} Exercise {self.exercise} not yet: {self.message}"
        return f"{text}\n   Hint: {self.hint}" if self.hint else text

    def _repr_html_(self) -> str:
        colour, word = ("#1a7f37", "passed") if self.passed else ("#cf222e", "not yet")
        mark = PASS_MARK if self.passed else FAIL_MARK
        hint = "" if self.passed or not self.hint else (
            f"<div><i>Hint:</i> {html.escape(self.hint)}</div>"
        )
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px">'
            f"<b>{mark} Exercise {html.escape(self.exercise)} {word}</b>: "
            f"{html.escape(self.message)}{hint}</div>"
        )


def passed(exercise: str, message: str) -> CheckResult:
    return CheckResult(exercise, True, message)


def failed(exercise: str, message: str, hint: str = "") -> CheckResult:
    return CheckResult(exercise, False, message, hint)


class LearnerError(Exception):
    """Internal: the learner's function raised; carries a ready-made failed result."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message)
        self.result = result


def call_learner(exercise: str, fn, *args, **kwargs):
    """Call the learner's function; let ``NotImplementedError`` through, turn other errors into a fail."""
    if not callable(fn):
        raise LearnerError(
            failed(exercise, f"expected your function, got {type(fn).__name__}.",
                   "Pass the function itself, without calling it (no parentheses).")
        )
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as exc:  # a learner's bug becomes a readable fail, not a traceback
        raise LearnerError(
            failed(exercise, f"your function raised {type(exc).__name__}: {exc}",
                   "Run it on the example in the exercise cell and read the traceback.")
        ) from exc


def check(fn):
    """Decorator for a self-check: a learner error raised inside becomes its failed result."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> CheckResult:
        try:
            return fn(*args, **kwargs)
        except LearnerError as err:
            return err.result

    return wrapper
