"""The self-check mechanism: a result that shows itself as a pass, as what is wrong, or as
an exercise not attempted yet.

A check never reveals the reference answer; its hint points at the idea. An
unsolved exercise (its function still raises the ``NotImplementedError`` that
``ppml build`` put there) is neither a pass nor a fail: the check returns a
"not attempted yet" result instead of raising, so "Run All" on a student
notebook goes on to the last cell.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

__all__ = [
    "FAIL_MARK",
    "NOT_ATTEMPTED",
    "NOT_ATTEMPTED_MARK",
    "PASS_MARK",
    "CheckResult",
    "call_learner",
    "check",
    "failed",
    "not_attempted",
    "passed",
]

PASS_MARK = "✅"
FAIL_MARK = "❌"
NOT_ATTEMPTED_MARK = "⏳"
#: The words a check shows while its exercise is unsolved.
NOT_ATTEMPTED = "not attempted yet"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one self-check; truthy when it passed.

    Attributes:
        exercise: the exercise id, e.g. ``"0.3"``.
        passed: whether the learner's answer matches the reference.
        message: what was checked (on a pass), what is wrong (on a fail), or what is
            left to do (not attempted).
        hint: a nudge towards the idea, never the answer.
        attempted: ``False`` while the exercise is unsolved (neither pass nor fail).
    """

    exercise: str
    passed: bool
    message: str
    hint: str = ""
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def _head(self) -> tuple[str, str, str]:
        """(mark, words, colour) of the three states."""
        if not self.attempted:
            return NOT_ATTEMPTED_MARK, NOT_ATTEMPTED, "#9a6700"
        if self.passed:
            return PASS_MARK, "passed", "#1a7f37"
        return FAIL_MARK, "not yet", "#cf222e"

    def __repr__(self) -> str:
        mark, word, _ = self._head()
        text = f"{mark} Exercise {self.exercise} {word}: {self.message}"
        return f"{text}\n   Hint: {self.hint}" if self.hint and not self.passed else text

    def _repr_html_(self) -> str:
        mark, word, colour = self._head()
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


def not_attempted(exercise: str, what: str = "") -> CheckResult:
    """The result of a check on an exercise still unsolved; ``what`` is its task, if known."""
    task = what or "fill in the exercise above"
    return CheckResult(exercise, False, f"{task}, run its cell, then run this check again.",
                       attempted=False)


class LearnerError(Exception):
    """Internal: the learner's function raised; carries a ready-made failed result."""

    def __init__(self, result: CheckResult):
        super().__init__(result.message)
        self.result = result


_TASK = re.compile(r"^Exercise [\w.]+: (.+)$")


def call_learner(exercise: str, fn, *args, **kwargs):
    """Call the learner's function; an unsolved one becomes "not attempted", another error a fail."""
    if not callable(fn):
        raise LearnerError(
            failed(exercise, f"expected your function, got {type(fn).__name__}.",
                   "Pass the function itself, without calling it (no parentheses).")
        )
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:  # the stub `ppml build` wrote: "Exercise N.M: complete f()"
        task = _TASK.match(str(exc))
        raise LearnerError(not_attempted(exercise, task.group(1) if task else "")) from exc
    except Exception as exc:  # a learner's bug becomes a readable fail, not a traceback
        raise LearnerError(
            failed(exercise, f"your function raised {type(exc).__name__}: {exc}",
                   "Call it on the 'Try it' example in its cell and read the traceback.")
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
