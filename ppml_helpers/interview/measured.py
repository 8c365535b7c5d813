"""The numbers the bank's sample answers quote: the headline values of the course's last
full-mode run, kept in ``measured.json`` beside the bank.

``make course`` refreshes it (``python -m ppml_helpers.interview.measured runs/full``): only
the keys the bank quotes are kept, only from full-mode headlines, so the answers carry the
numbers the notebooks printed, at the precision ``report.format_value`` shows.
"""

from __future__ import annotations

import datetime
import functools
import json
import sys
from importlib import resources
from pathlib import Path

__all__ = ["MEASURED_FILE", "load_measured", "quoted_keys", "record_measured"]

MEASURED_FILE = Path(__file__).with_name("measured.json")


@functools.cache
def _snapshot() -> dict:
    text = resources.files(__package__).joinpath("measured.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_measured() -> dict:
    """``{notebook: {key: value}}`` of the snapshot (a fresh copy)."""
    return {nb: dict(entry["values"]) for nb, entry in _snapshot()["notebooks"].items()}


def quoted_keys() -> dict[str, set[str]]:
    """``{notebook: {keys}}`` every sample answer of the bank quotes."""
    from .bank import load_bank, placeholders

    keys: dict[str, set[str]] = {}
    for q in load_bank()[1]:
        for nb, key in placeholders(q.sample_answer):
            keys.setdefault(nb, set()).add(key)
    return keys


def record_measured(run_dir, out: Path = MEASURED_FILE, *, today: str | None = None) -> dict:
    """Merge the quoted keys of every full-mode headline JSON in ``run_dir`` (what ``ppml run
    --save`` writes) into ``out``; notebooks the run did not cover keep their old values.

    Raises:
        FileNotFoundError: ``run_dir`` holds no headline JSON.
        ValueError: a headline came from fast mode, or lacks a key the bank quotes.
    """
    from ..report import read_headlines

    found = read_headlines(run_dir)
    if not found:
        raise FileNotFoundError(f"run_dir {str(run_dir)!r} holds no headline JSON (ppml run --save DIR writes them).")
    wanted = quoted_keys()
    data = json.loads(Path(out).read_text(encoding="utf-8")) if Path(out).exists() else {"notebooks": {}}
    day = today or datetime.date.today().isoformat()
    for nb, head in sorted(found.items()):
        if nb not in wanted:
            continue
        if head.fast:
            raise ValueError(f"{nb}'s headline in {run_dir} is from fast mode; the bank quotes full-mode runs only.")
        if missing := sorted(wanted[nb] - set(head.values)):
            raise ValueError(f"{nb}'s headline lacks {missing}, which the bank quotes.")
        data["notebooks"][nb] = {"recorded": day, "values": {k: head.values[k] for k in sorted(wanted[nb])}}
    data = {"about": "Headline values of full-mode runs (ppml run --save), the keys bank.yaml quotes. "
                     "Written by `python -m ppml_helpers.interview.measured DIR`; do not edit by hand.",
            "notebooks": dict(sorted(data["notebooks"].items()))}
    Path(out).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _snapshot.cache_clear()
    return data


if __name__ == "__main__":  # python -m ppml_helpers.interview.measured runs/full
    if len(sys.argv) != 2:
        sys.exit("usage: python -m ppml_helpers.interview.measured RUN_DIR")
    result = record_measured(sys.argv[1])
    print(f"{MEASURED_FILE}: {', '.join(result['notebooks'])}")
