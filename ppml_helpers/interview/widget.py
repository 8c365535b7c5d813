"""The quiz and the mock interview as ipywidgets (offline, JupyterLab 4; plain HTML, no
LaTeX to render): filter, draw, write, reveal, self-grade, scores; a countdown per part."""

from __future__ import annotations

import html
import re

from .bank import LEVELS, load_bank
from .progress import GRADES, ProgressFileError, topic_scores
from .quiz import MockInterview, QuizSession, Reveal, draw_mock

__all__ = ["MockWidget", "QuizWidget", "to_html"]

_ALL = "all"


def to_html(text: str) -> str:
    """The bank's light Markdown (``**bold**``, ``*italic*``, ``code``) as safe HTML."""
    out = html.escape(text, quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", out)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", out)


def _list(title, items):
    return f"<p><b>{title}</b></p><ul>" + "".join(f"<li>{to_html(i)}</li>" for i in items) + "</ul>"


def reveal_html(r: Reveal) -> str:
    parts = [f"<p><b>Strategy.</b> {to_html(r.strategy)}</p>",
             f"<p><b>Sample answer.</b> {to_html(r.sample_answer)}</p>"]
    if r.flawed_premise:
        parts.append(f"<p><b>The flawed premise.</b> {to_html(r.flawed_premise)}</p>")
    if r.numbers:
        marks = ", ".join(f"{v:.4g} {'✅' if hit else '❌ not in your answer'}" for v, hit in r.numbers)
        parts.append(f"<p><b>Prove it</b> ({to_html(r.prove_it)}): computed live {marks}</p>")
    parts += [_list("Follow-ups", r.follow_ups), _list("Common wrong answers", r.wrong_answers)]
    return "".join(parts)


class QuizWidget:
    """The quiz: ``display(QuizWidget())`` in a notebook. ``progress_path`` defaults to the
    user's data folder (``PPML_QUIZ_PROGRESS`` overrides it)."""

    def __init__(self, *, progress_path=None, seed=None, topic=_ALL, level=_ALL, measured=None, clock=None):
        import ipywidgets as w

        self._args = {"progress_path": progress_path, "seed": seed, "measured": measured, "clock": clock}
        topics = load_bank()[0]
        self.topic = w.Dropdown(options=[_ALL, *topics], value=topic, description="topic")
        self.level = w.Dropdown(options=[_ALL, *LEVELS], value=level, description="level")
        self.draw_button = w.Button(description="Draw a question", button_style="primary")
        self.question = w.HTML()
        self.answer = w.Textarea(placeholder="Write your answer first, as you would say it.",
                                 layout=w.Layout(width="100%", height="8em"))
        self.reveal_button = w.Button(description="Reveal", disabled=True)
        self.revealed = w.HTML()
        self.grade_buttons = {g: w.Button(description=g, disabled=True) for g in GRADES}
        self.status = w.HTML()
        self.scores = w.Output()
        self.draw_button.on_click(lambda _: self.draw())
        self.reveal_button.on_click(lambda _: self.reveal())
        for g, b in self.grade_buttons.items():
            b.on_click(lambda _, g=g: self.grade(g))
        self.topic.observe(lambda _: self._new_session(), "value")
        self.level.observe(lambda _: self._new_session(), "value")
        self.box = w.VBox([w.HBox([self.topic, self.level, self.draw_button]), self.question, self.answer,
                           self.reveal_button, self.revealed, w.HBox(list(self.grade_buttons.values())),
                           self.status, self.scores])
        self.session = None
        self._new_session()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)

    def _new_session(self):
        self.session = None
        self.question.value = self.revealed.value = ""
        try:
            self.session = QuizSession(
                topics=None if self.topic.value == _ALL else [self.topic.value],
                level=None if self.level.value == _ALL else self.level.value, **self._args)
        except ProgressFileError as exc:
            self.status.value = f"<b>❌ {html.escape(str(exc))}</b>"
            self.draw_button.disabled = True
            return
        n = len(self.session.questions)
        self.draw_button.disabled = n == 0
        self.status.value = (f"{n} questions match." if n else
                             "No question matches this topic and level: widen the filters.")
        self._buttons(reveal=False, grade=False)

    def _buttons(self, *, reveal, grade):
        self.reveal_button.disabled = not reveal
        for b in self.grade_buttons.values():
            b.disabled = not grade

    def draw(self):
        q = self.session.draw()
        if q is None:
            return None
        due = self.session.progress.due(q.id)
        when = "new" if due is None else f"due {due:%Y-%m-%d %H:%M} UTC"
        flawed = " · check the premise" if q.flawed_premise else ""
        self.question.value = (f"<h4>{to_html(q.question)}</h4><p><code>{q.level}</code> · "
                               f"{', '.join(q.topics)} · {when}{flawed} · draws on "
                               f"<i>{to_html(q.notebook)}</i>, {to_html(q.heading)}</p>")
        self.answer.value, self.revealed.value = "", ""
        self._buttons(reveal=True, grade=False)
        return q

    def reveal(self):
        try:
            r = self.session.reveal(self.answer.value)
        except ValueError as exc:
            self.status.value = html.escape(str(exc))
            return None
        self.revealed.value = reveal_html(r)
        self._buttons(reveal=False, grade=True)
        return r

    def grade(self, grade):
        state = self.session.grade(grade)
        self.status.value = (f"Saved to {html.escape(str(self.session.progress.path))}: box {state['box']}, "
                             f"due {state['due'][:16].replace('T', ' ')} UTC. Draw the next one.")
        self._buttons(reveal=False, grade=False)
        self.plot_scores()
        return state

    def plot_scores(self):
        """Per-topic mastery (bars) over the bank, from the progress file."""
        import matplotlib.pyplot as plt

        rows = topic_scores(self.session.progress, load_bank()[1], load_bank()[0])
        self.scores.clear_output(wait=True)
        with self.scores:
            fig, ax = plt.subplots(figsize=(8, 2.8))
            ax.bar([r["topic"] for r in rows], [r["mastery"] for r in rows], color="tab:green")
            ax.set_ylim(0, 1)
            ax.set_ylabel("mastery")
            ax.tick_params(axis="x", rotation=60)
            ax.set_title("Mastery by topic (mean Leitner box / top box; unseen questions count 0)")
            fig.tight_layout()
            plt.show()
        return rows


class MockWidget:
    """A timed mock interview: a system-design question and two others, a countdown for each
    (ipywidgets' ``Play`` ticks in the browser, no thread), then the rubric to score yourself."""

    def __init__(self, *, seed=None, mock: MockInterview | None = None):
        import ipywidgets as w

        self.mock = mock or draw_mock(seed=seed)
        self.part = -1
        self.question = w.HTML()
        self.clock = w.Play(value=0, min=0, max=1, step=1, interval=1000, show_repeat=False)
        self.left = w.HTML()
        self.next_button = w.Button(description="Start", button_style="primary")
        self.notes = w.Textarea(placeholder="Notes as you answer (aloud, ideally).",
                                layout=w.Layout(width="100%", height="6em"))
        self.rubric = [w.Checkbox(description=item, indent=False, layout=w.Layout(width="100%"))
                       for item in self.mock.rubric]
        self.score = w.HTML()
        for c in self.rubric:
            c.observe(lambda _: self._score(), "value")
        self.clock.observe(lambda _: self._tick(), "value")
        self.next_button.on_click(lambda _: self.next())
        self.rubric_box = w.VBox([w.HTML("<b>Rubric: tick what your answers did.</b>"), *self.rubric, self.score],
                                 layout=w.Layout(display="none"))
        self.box = w.VBox([w.HTML(f"<b>Mock interview: {self.mock.minutes} minutes in "
                                  f"{len(self.mock.parts)} parts.</b>"),
                           self.question, w.HBox([self.clock, self.left]), self.notes, self.next_button,
                           self.rubric_box])

    def _ipython_display_(self):
        from IPython.display import display

        display(self.box)

    def next(self):
        """Go to the next part (the first, from the start); after the last, show the rubric."""
        self.part += 1
        if self.part >= len(self.mock.parts):
            self.clock.playing = False
            self.question.value = "<b>Time. Now score yourself against the rubric, then read the strategies in the quiz.</b>"
            self.next_button.disabled = True
            self.rubric_box.layout.display = "flex"
            return None
        q, minutes = self.mock.parts[self.part]
        self.clock.playing = False
        self.clock.max = minutes * 60
        self.clock.value = 0
        self.question.value = (f"<p>Part {self.part + 1} of {len(self.mock.parts)} ({minutes} min): "
                               f"<code>{q.level}</code> · {', '.join(q.topics)}</p><h4>{to_html(q.question)}</h4>")
        self.next_button.description = "Next part" if self.part + 1 < len(self.mock.parts) else "Finish"
        self._tick()
        self.clock.playing = True
        return q

    def _tick(self):
        if self.part < 0 or self.part >= len(self.mock.parts):
            return
        left = self.clock.max - self.clock.value
        self.left.value = f"<b>{left // 60}:{left % 60:02d}</b> left" if left > 0 else "<b>⏰ time: wrap up in one sentence.</b>"

    def _score(self):
        got = sum(c.value for c in self.rubric)
        self.score.value = f"{got} of {len(self.rubric)} rubric points."
        return got
