"""``ppml quiz``: the bank in the terminal, sharing the notebook quiz's progress file."""

from __future__ import annotations

import textwrap
import time

from .bank import LEVELS, load_bank
from .progress import ProgressFileError, topic_scores
from .quiz import QuizSession, draw_mock

__all__ = ["add_arguments", "run"]

_GRADE_KEYS = {"a": "again", "h": "hard", "g": "good"}


def add_arguments(parser) -> None:
    topics = load_bank()[0]
    parser.add_argument("--topic", action="append", choices=topics, metavar="TOPIC",
                        help=f"only this topic (repeatable): {', '.join(topics)}")
    parser.add_argument("--level", choices=LEVELS, help="only this level")
    parser.add_argument("--notebook", metavar="NN", help="only questions drawing on this notebook (00 … 08, A1, A2)")
    parser.add_argument("--count", type=int, default=5, metavar="N", help="questions this session (default 5)")
    parser.add_argument("--mock", action="store_true",
                        help="a timed mock interview: a system-design question and two others, then the rubric")
    parser.add_argument("--progress", metavar="FILE", default=None,
                        help="progress file (default: the quiz's file in your data folder, as in notebook 09)")
    parser.add_argument("--seed", type=int, default=None, help="seed the draw (reproducible sessions)")
    parser.add_argument("--scores", action="store_true", help="print per-topic scores and stop")


def _wrap(write, label, text):
    write(textwrap.fill(f"{label}{text}", width=92, subsequent_indent="    "))


def _read_answer(read, write):
    write("Your answer (finish with an empty line):")
    lines = []
    while True:
        line = read("> ")
        if not line.strip():
            return "\n".join(lines)
        lines.append(line)


def run(args, read=input, write=print, clock=time.monotonic) -> int:
    """Run ``ppml quiz`` with parsed ``args``; ``read``/``write`` are the terminal (tests pass
    their own). Returns the exit code; end of input ends the session, saved."""
    if args.count < 1:
        write(f"error: --count must be at least 1, got {args.count}.")
        return 2
    try:
        if args.mock:
            return _mock(args, read, write, clock)
        session = QuizSession(topics=args.topic, level=args.level, notebook=args.notebook,
                              progress_path=args.progress, seed=args.seed)
    except (ProgressFileError, ValueError) as exc:
        write(f"error: {exc}")
        return 2
    if args.scores:
        for r in topic_scores(session.progress, load_bank()[1], load_bank()[0]):
            write(f"{r['topic']:<16} {r['seen']:>3}/{r['questions']:<3} seen, {r['good']:>3} good, "
                  f"mastery {r['mastery']:.0%}")
        return 0
    if not session.questions:
        write("No question matches these filters: widen --topic, --level or --notebook.")
        return 1
    write(f"{len(session.questions)} questions match; progress in {session.progress.path}.")
    try:
        for i in range(args.count):
            q = session.draw()
            write("")
            _wrap(write, f"[{i + 1}/{args.count}] ({q.level}; {', '.join(q.topics)}) ", q.question)
            answer = _read_answer(read, write)
            while not answer.strip():
                write("Write something first: an interview has no blank answers.")
                answer = _read_answer(read, write)
            r = session.reveal(answer)
            _wrap(write, "Strategy: ", r.strategy)
            _wrap(write, "Sample answer: ", r.sample_answer)
            if r.flawed_premise:
                _wrap(write, "The flawed premise: ", r.flawed_premise)
            for value, hit in r.numbers:
                write(f"Prove it ({r.prove_it}): {value:.4g} {'stated in your answer' if hit else 'NOT in your answer'}")
            for f in r.follow_ups:
                _wrap(write, "  follow-up: ", f)
            for wrong in r.wrong_answers:
                _wrap(write, "  wrong answer: ", wrong)
            while (key := read("Grade yourself: [a]gain, [h]ard, [g]ood, [q]uit: ").strip().lower()[:1]) not in (*_GRADE_KEYS, "q"):
                write("Type a, h, g or q.")
            if key == "q":
                break
            state = session.grade(_GRADE_KEYS[key])
            write(f"saved: box {state['box']}, due {state['due'][:16].replace('T', ' ')} UTC")
    except EOFError:
        write("")
    write(f"{len(session.graded)} graded this session, saved in {session.progress.path}.")
    return 0


def _mock(args, read, write, clock) -> int:
    mock = draw_mock(seed=args.seed)
    write(f"Mock interview: {len(mock.parts)} parts, {mock.minutes} minutes. Answer aloud or in writing; "
          "press Enter on an empty line when done with a part.")
    try:
        for i, (q, minutes) in enumerate(mock.parts, 1):
            write("")
            _wrap(write, f"Part {i} ({minutes} min; {q.level}; {', '.join(q.topics)}): ", q.question)
            start = clock()
            _read_answer(read, write)
            used = (clock() - start) / 60
            write(f"{used:.1f} of {minutes} minutes" + (": over time." if used > minutes else "."))
    except EOFError:
        write("")
    write("\nRubric: score one point for each your answers did.")
    for item in mock.rubric:
        write(f"  [ ] {item}")
    write("Then study each question's strategy: ppml quiz --notebook NN, or the quiz in notebook 09.")
    return 0
