"""A notebook's headline numbers, for ``ppml run``, ``make course`` and the README's table.

The last cell of every notebook calls :func:`headline`. When ``PPML_REPORT_DIR``
is set (``ppml run`` sets it) the values are written there as
``<notebook>.json``; either way they come back as a small table.
"""

from __future__ import annotations

import html
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path

from .config import fast_mode, report_dir

__all__ = ["Headline", "format_value", "headline", "read_headlines"]


def _plain(name: str, value):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"headline value {name}={value} is not finite.")
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return _plain(name, value.item())
    raise TypeError(
        f"headline value {name} must be a number, a string, a bool or None. "
        f"Got {type(value).__name__}."
    )


@dataclass(frozen=True)
class Headline:
    """The headline numbers of one notebook run."""

    notebook: str
    values: dict
    fast: bool

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(format_value(v))}</td></tr>" for k, v in self.values.items()
        )
        mode = "fast" if self.fast else "full"
        return f"<b>{esc(self.notebook)}</b> headline ({mode} mode)<table>{rows}</table>"

    def __repr__(self) -> str:
        mode = "fast" if self.fast else "full"
        body = ", ".join(f"{k}={format_value(v)}" for k, v in self.values.items())
        return f"{self.notebook} ({mode} mode): {body}"


def format_value(v) -> str:
    """A headline value as the course prints it: floats to 4 significant digits."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def headline(notebook: str, **values) -> Headline:
    """Record a notebook's headline numbers; write ``<PPML_REPORT_DIR>/<notebook>.json`` if set.

    Raises:
        ValueError: an empty notebook name or a non-finite number.
        TypeError: a value that is not a number, string, bool or None.
    """
    if not notebook or "/" in notebook:
        raise ValueError(f"notebook must be a bare name like '00_threat_models'. Got {notebook!r}.")
    plain = {k: _plain(k, v) for k, v in values.items()}
    result = Headline(notebook, plain, fast_mode())
    out = report_dir()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        payload = {"notebook": notebook, "fast": result.fast, "values": plain}
        (out / f"{notebook}.json").write_text(json.dumps(payload, indent=2) + "\n")
    return result


def read_headlines(folder) -> dict[str, Headline]:
    """Every headline JSON in ``folder``, keyed by notebook name (other JSON files there, such
    as ``ppml run --save``'s ``timings.json``, are not headlines and are skipped)."""
    found = {}
    for path in sorted(Path(folder).glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and {"notebook", "values", "fast"} <= set(data):
            found[data["notebook"]] = Headline(data["notebook"], data["values"], data["fast"])
    return found
