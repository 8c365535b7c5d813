"""The instructor guide's generated parts (``docs/instructor_guide.md``): agendas with their
minutes added up, and per notebook its objectives, minutes, exercises, compute times and the
exact errors learners meet, all taken from the notebooks and the package so they cannot drift.

The guide's hand-written text sits outside ``<!-- BEGIN GENERATED name -->`` …
``<!-- END GENERATED name -->`` blocks; ``ppml guide`` rewrites the blocks, ``ppml guide
--check`` fails when they are stale (a test runs it). Compute times come from
``docs/timings.json``, which ``make course`` and ``make fast-course`` refresh from the
``timings.json`` that ``ppml run --save`` writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["AGENDAS", "COMMON_ERRORS", "NotebookFacts", "check_hints", "learner_errors", "notebook_facts",
           "record_timings", "render_blocks", "update_guide"]

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "instructor_guide.md"
TIMINGS = ROOT / "docs" / "timings.json"
_BLOCK = re.compile(r"(<!-- BEGIN GENERATED ([\w-]+) -->\n).*?(<!-- END GENERATED \2 -->)", re.S)


@dataclass(frozen=True)
class NotebookFacts:
    stem: str
    title: str
    objectives: tuple[str, ...]
    minutes: int
    sections: tuple[str, ...]
    exercises: tuple[tuple[str, str, bool], ...]  # (id, title, written?)


def _minutes(text: str) -> int:
    m = re.search(r"About (\d+) (minutes|hours?)", text)
    if not m:
        raise ValueError(f"no '**Time.** About N minutes' in {text[:80]!r}")
    return int(m.group(1)) * (60 if m.group(2).startswith("hour") else 1)


def notebook_facts(path) -> NotebookFacts:
    """What a solution notebook says about itself: title, objectives, minutes, sections, exercises."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    intro = nb.cells[0].source
    title = intro.splitlines()[0].lstrip("# ").strip()
    block = intro.split("**Learning objectives.**", 1)[1].split("**Time.**", 1)[0]
    items = re.split(r"\n\d+\.\s+", "\n" + block.split("\n", 1)[1])
    objectives = tuple(" ".join(i.split()) for i in items if i.strip())
    minutes = _minutes(intro.split("**Time.**", 1)[1])
    heads = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines()]
    sections = tuple(h[3:].strip() for h in heads if h.startswith("## "))
    exercises = tuple((m.group(1), m.group(2).strip(), "(written)" in m.group(2))
                      for h in heads if (m := re.match(r"### Exercise ([\w.]+) — (.+)", h)))
    return NotebookFacts(Path(path).stem, title, objectives, minutes, sections, exercises)


# ---------------------------------------------------------------- agendas

#: name -> (hours the day(s) hold, blocks). A block: (notebook stem or None, what to cover, minutes).
#: ``None`` marks a break, set-up or wrap-up. Sections are cited by their number in the notebook.
AGENDAS = {
    "Half day: federated learning and what it leaks (3.5 h)": (3.5, [
        (None, "Welcome; `ppml doctor` on every laptop; the course map", 15),
        ("00_threat_models", "sections 1–5; Exercises 0.2 and 0.3 (checkpoint: both ✅)", 45),
        ("01_federated_averaging", "sections 1–4; Exercises 1.1 and 1.4 (checkpoint: 1.4 ✅)", 50),
        (None, "Break", 15),
        ("02_flower", "sections 1–3 and 7, then the room federation (`make room-superlink`)", 40),
        ("03_differential_privacy", "sections 1–3; Exercise 3.2 (checkpoint ✅)", 35),
        (None, "Wrap-up: three interview questions (`ppml quiz --notebook 00`), post-workshop survey", 10),
    ]),
    "One day: FL, DP and DP-SGD (6.5 h)": (6.5, [
        (None, "Welcome; `ppml doctor`; the course map", 15),
        ("00_threat_models", "all; Exercises 0.1–0.4 (checkpoint: 0.3 ✅)", 45),
        ("01_federated_averaging", "sections 1–4 and 6; Exercises 1.1, 1.2, 1.4", 55),
        (None, "Break", 15),
        ("02_flower", "sections 1–5, then the room federation", 50),
        (None, "Lunch", 60),
        ("03_differential_privacy", "sections 1–8; Exercises 3.1–3.4 (checkpoint: 3.4 ✅)", 75),
        (None, "Break", 15),
        ("04_dp_sgd", "sections 1–6; Exercises 4.1–4.3 (checkpoint: 4.3 ✅)", 50),
        (None, "Wrap-up: a mock interview question in pairs (`ppml quiz --mock`), post-workshop survey", 10),
    ]),
    "Two days: the whole course (2 × 6.5 h)": (13.0, [
        (None, "Day 1. Welcome; `ppml doctor`; the course map", 15),
        ("00_threat_models", "all (checkpoint: 0.3 ✅)", 45),
        ("01_federated_averaging", "all but section 5's full reproduction (run it in fast mode)", 55),
        (None, "Break", 15),
        ("02_flower", "all, ending with the room federation", 60),
        (None, "Lunch", 60),
        ("03_differential_privacy", "all; section 10 as a demonstration", 75),
        (None, "Break", 15),
        ("04_dp_sgd", "sections 1–7; section 8 from the README's results (checkpoint: 4.4 ✅)", 50),
        (None, "Day 2. Recap: five quiz questions in pairs", 15),
        ("05_membership_inference", "all (checkpoint: 5.4 ✅)", 70),
        (None, "Break", 15),
        ("06_secure_aggregation", "sections 1–3, 5, 6 and 10; Exercises 6.2–6.4", 70),
        (None, "Lunch", 60),
        ("07_homomorphic_encryption", "sections 1–3, 7 and 10; Exercises 7.1 and 7.5", 50),
        ("08_capstone_hospitals", "sections 1–6 and 10; Exercise 8.4 in groups", 55),
        (None, "Break", 15),
        ("09_interview_prep", "the mock interview in pairs, then the quiz", 30),
        (None, "Wrap-up and post-workshop survey", 10),
    ]),
}

#: what to drop first when a room runs late, per notebook (sections by number)
WHEN_LATE = {
    "00_threat_models": "section 6 (batch attacks): state the result",
    "01_federated_averaging": "section 5 (the paper's tables): show the README's row; section 7 (FedProx)",
    "02_flower": "section 5b (non-IID attacks); the room federation becomes a demonstration on 127.0.0.1 (`make federation`)",
    "03_differential_privacy": "sections 9–10: keep Exercise 3.5's question as discussion",
    "04_dp_sgd": "sections 7–8: BatchNorm in one sentence, MNIST from the README",
    "05_membership_inference": "section 4 (shadow models): go from the loss attack to LiRA",
    "06_secure_aggregation": "sections 4, 7–9 (garbled circuits, the server's view, costs, Flower)",
    "07_homomorphic_encryption": "sections 5, 8 and 9 (BFV, the sigmoid, aggregation)",
    "08_capstone_hospitals": "sections 7–9 and 12 (the attacks and Flower): read their conclusions aloud",
    "09_interview_prep": "the scripted session (section 4): learners use the quiz directly",
}


# ---------------------------------------------------------------- learner errors

#: stem -> (what the learner did, the call that reproduces it); the guide shows the message
#: each call raises *now*, so a reworded error updates the guide.
COMMON_ERRORS = {
    "01_federated_averaging": [
        ("averaged models whose layers differ (a changed model between clients)",
         "ph.fl.fedavg([{'w': torch.zeros(3)}, {'w': torch.zeros(4)}], [1, 1])"),
        ("passed a weight of zero or below (an empty client)",
         "ph.fl.fedavg([{'w': torch.zeros(3)}, {'w': torch.zeros(3)}], [10, 0])"),
        ("asked for a Dirichlet partition with α = 0", "ph.data.partition_dirichlet(np.zeros(100, int), 3, alpha=0, seed=0)"),
    ],
    "03_differential_privacy": [
        ("set ε = 0 for 'perfect privacy'", "ph.dp.laplace_scale(sensitivity=1.0, epsilon=0)"),
        ("took δ for a percentage", "ph.dp.gaussian_sigma(epsilon=1.0, delta=1.5, sensitivity=1.0)"),
        ("used the classic Gaussian formula at ε > 1",
         "ph.dp.gaussian_sigma(epsilon=2.0, delta=1e-5, sensitivity=1.0, method='classic')"),
    ],
    "04_dp_sgd": [
        ("gave the batch size where the sampling rate goes",
         "ph.dp.rdp_subsampled_gaussian(noise_multiplier=1.0, sample_rate=256, steps=10, orders=ph.dp.DEFAULT_ORDERS)"),
    ],
    "06_secure_aggregation": [
        ("chose a threshold above the number of clients", "ph.mpc.shamir_share(5, n=3, t=4, rng=0)"),
        ("encoded an update that was not clipped",
         "ph.mpc.FixedPoint(clip_range=1.0, num_clients=10).encode(np.array([5.0]))"),
    ],
    "07_homomorphic_encryption": [
        ("tried a smaller, faster parameter set",
         "ph.he.ckks_context(poly_modulus_degree=4096, coeff_mod_bit_sizes=[60, 40, 40, 60], global_scale_bits=40)"),
    ],
    "09_interview_prep": [
        ("edited the quiz's progress file by hand and broke it",
         "ph.interview.Progress.load(_broken_progress_file(tmp))"),
    ],
}


def _broken_progress_file(folder) -> Path:
    path = Path(folder) / "quiz_progress.json"
    path.write_text('{"version": 1, "questions": ')
    return path


def learner_errors() -> dict[str, list[tuple[str, str, str]]]:
    """``{stem: [(what the learner did, the call, "ExceptionName: message")]}``, each message
    produced by running the call now.

    Raises:
        AssertionError: a call in ``COMMON_ERRORS`` no longer raises.
    """
    import tempfile

    import numpy as np
    import torch

    import ppml_helpers as ph

    out: dict[str, list[tuple[str, str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="ppml-guide-") as tmp:
        env = {"ph": ph, "np": np, "torch": torch, "_broken_progress_file": _broken_progress_file, "tmp": tmp}
        for stem, cases in COMMON_ERRORS.items():
            for what, call in cases:
                try:
                    eval(call, env)  # the catalogue's own calls
                except Exception as exc:
                    message = str(exc).replace(str(Path(tmp) / "quiz_progress.json"), "<your progress file>")
                    out.setdefault(stem, []).append((what, call, f"{type(exc).__name__}: {message}"))
                else:
                    raise AssertionError(f"COMMON_ERRORS[{stem!r}]: {call} no longer raises; update the catalogue.")
    return out


def check_hints() -> dict[str, list[tuple[str, str]]]:
    """``{notebook prefix: [(exercise, hint)]}``: every literal hint a self-check gives on a wrong
    answer, read from the ``exercises`` modules (the words learners see next to ❌)."""
    import ast
    import importlib.resources as res

    found: dict[str, list[tuple[str, str]]] = {}
    for name in ("nb00", "nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08", "nb09"):
        tree = ast.parse(res.files("ppml_helpers.exercises").joinpath(f"{name}.py").read_text(encoding="utf-8"))
        for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("check_")):
            ex = next((a.value.value for a in ast.walk(fn) if isinstance(a, ast.Assign)
                       and getattr(a.targets[0], "id", None) == "ex" and isinstance(a.value, ast.Constant)), None)
            for call in (c for c in ast.walk(fn) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "failed"):
                if len(call.args) >= 3 and isinstance(call.args[2], ast.Constant) and call.args[2].value:
                    pair = (ex or fn.name, call.args[2].value)
                    if pair not in found.setdefault(name[2:], []):
                        found[name[2:]].append(pair)
    return found


# ---------------------------------------------------------------- compute times


def record_timings(run_dir, out: Path = TIMINGS) -> dict:
    """Merge ``run_dir/timings.json`` (``ppml run --save``) into ``out``, under "full" or "fast"
    by each run's mode; notebooks that failed are not recorded.

    Raises:
        FileNotFoundError: the run wrote no timings.json.
    """
    source = Path(run_dir) / "timings.json"
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist: `ppml run --save {run_dir}` writes it.")
    data = json.loads(out.read_text()) if out.exists() else {"full": {}, "fast": {}}
    for stem, t in json.loads(source.read_text()).items():
        if t.get("error") is None:
            data["fast" if t["fast"] else "full"][stem] = {"seconds": t["seconds"], "date": t["date"]}
    data = {mode: dict(sorted(data[mode].items())) for mode in ("full", "fast")}
    out.write_text(json.dumps(data, indent=1) + "\n")
    return data


def _timings() -> dict:
    return json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {"full": {}, "fast": {}}


def _fmt_seconds(entry) -> str:
    if entry is None:
        return "not measured yet"
    s = entry["seconds"]
    return (f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min") + f" ({entry['date']})"


# ---------------------------------------------------------------- rendering


def _solutions() -> list[Path]:
    return sorted((ROOT / "solutions").glob("*.ipynb"))


def render_blocks() -> dict[str, str]:
    """The generated blocks of the guide, by name."""
    facts = {p.stem: notebook_facts(p) for p in _solutions()}
    blocks = {"agendas": _render_agendas(facts), "notebooks": _render_notebooks(facts)}
    return blocks


def _render_agendas(facts) -> str:
    out = []
    for name, (hours, blocks) in AGENDAS.items():
        total = sum(m for _, _, m in blocks)
        teaching = sum(m for nb, _, m in blocks if nb)
        out.append(f"### {name}\n\n| block | what | minutes |\n| --- | --- | --- |")
        clock = 0
        for nb, what, minutes in blocks:
            clock = 0 if what.startswith("Day ") else clock  # each day's clock starts at 0:00
            label = f"`{nb}` (the notebook: {facts[nb].minutes} min)" if nb else "—"
            out.append(f"| {clock // 60}:{clock % 60:02d} {label} | {what} | {minutes} |")
            clock += minutes
        out.append(f"\n{total} minutes in all ({total / 60:.1f} h of the {hours:g} h), {teaching} of them "
                   "on notebooks. When late, drop first: "
                   + "; ".join(f"`{nb}`: {WHEN_LATE[nb]}" for nb in dict.fromkeys(b[0] for b in blocks if b[0]))
                   + ".\n")
    return "\n".join(out)


def _render_notebooks(facts) -> str:
    timings, errors, hints = _timings(), learner_errors(), check_hints()
    out = []
    for stem, f in facts.items():
        written = sum(1 for e in f.exercises if e[2])
        out.append(f"### `{stem}`: {f.title.split('·', 1)[-1].strip()}\n")
        out.append(f"- **Minutes:** {f.minutes} of reading and exercises; {len(f.exercises)} exercises "
                   f"({len(f.exercises) - written} with a self-check, {written} written).")
        out.append(f"- **Compute:** full mode {_fmt_seconds(timings['full'].get(stem))}, fast mode "
                   f"{_fmt_seconds(timings['fast'].get(stem))}.")
        out.append("- **Objectives** (the notebook's own):")
        out += [f"  {i}. {o}" for i, o in enumerate(f.objectives, 1)]
        out.append("- **Exercises:** " + "; ".join(f"{e[0]} {e[1]}" for e in f.exercises) + ".")
        if stem in errors:
            out.append("- **Errors learners meet** (the package's exact words):")
            out += [f"  - *{what}* (`{call}`):\n    `{msg}`" for what, call, msg in errors[stem]]
        prefix = stem[:2]
        if prefix in hints:
            out.append("- **Self-check hints** (shown next to ❌; the answer itself is never shown):")
            out += [f"  - {ex}: {hint}" for ex, hint in hints[prefix]]
        out.append("")
    return "\n".join(out)


def update_guide(path: Path | None = None, *, check: bool = False) -> list[str]:
    """Rewrite the guide's generated blocks; return the names of the blocks that changed.
    With ``check``, write nothing (a non-empty result means the guide is stale).

    Raises:
        ValueError: the guide lacks a block the generator writes, or has one it does not know.
    """
    path = Path(path) if path is not None else GUIDE
    text = path.read_text(encoding="utf-8")
    blocks = render_blocks()
    present = [m.group(2) for m in _BLOCK.finditer(text)]
    if sorted(present) != sorted(blocks):
        raise ValueError(f"{path} has generated blocks {sorted(present)}; expected {sorted(blocks)}.")
    changed = []

    def fill(m):
        new = blocks[m.group(2)].rstrip("\n") + "\n"
        if text[m.start(1) + len(m.group(1)):m.start(3)] != new:
            changed.append(m.group(2))
        return m.group(1) + new + m.group(3)

    updated = _BLOCK.sub(fill, text)
    if changed and not check:
        path.write_text(updated, encoding="utf-8")
    return changed
