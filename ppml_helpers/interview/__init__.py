"""Interview preparation: the question bank (``bank.yaml``), the measured numbers its answers
quote, progress with spaced repetition, the quiz and mock interview (widgets and ``ppml quiz``).
"""

from __future__ import annotations

from .bank import (
    LEVELS,
    BankError,
    Question,
    check_numbers,
    filter_questions,
    load_bank,
    render,
    section,
)
from .measured import load_measured
from .progress import GRADES, Progress, ProgressFileError, default_progress_path, topic_scores
from .quiz import RUBRIC, QuizSession, draw_mock

__all__ = [
    "GRADES",
    "LEVELS",
    "RUBRIC",
    "BankError",
    "Progress",
    "ProgressFileError",
    "Question",
    "QuizSession",
    "check_numbers",
    "default_progress_path",
    "draw_mock",
    "filter_questions",
    "load_bank",
    "load_measured",
    "render",
    "section",
    "topic_scores",
]
