"""Reveal.js decks of the executed notebooks, for an instructor to present (``make slides``).

The slide metadata is set by rule on a copy, so the notebooks' sources stay free of it: the
title cell opens the deck, then the learning objectives; every section (``##``) and every
exercise (``### Exercise``) starts a slide; a code cell whose output holds a figure or a table
follows as a fragment (its code hidden, the output shown); the rest (long explanations, set-up,
self-checks) stays in the notebook and out of the deck, with the explanation in the speaker
notes. nbconvert's ``--to slides`` renders it. The deck's scripts (reveal.js 4.0.2, RequireJS,
jQuery, MathJax 2) come from a ``vendor`` folder when given (``make slides`` installs them there
from the npm registry, so the decks work in a room without internet), else from their CDNs.
Widgets are live-only, so their saved state is left out of the decks. (The theme's web fonts
and nbconvert's mermaid loader, which no notebook uses, still point at their CDNs; offline the
deck falls back to local fonts.)
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

__all__ = ["VENDOR_PACKAGES", "install_vendor", "mark_slides", "vendor_urls", "write_deck", "write_decks"]

#: npm packages a deck loads, and the file of each the exporter points at.
VENDOR_PACKAGES = {
    "reveal.js@4.0.2": ("reveal_url_prefix", "reveal.js"),
    "requirejs@2.3.7": ("require_js_url", "requirejs/require.js"),
    "jquery@3.7.1": ("jquery_url", "jquery/dist/jquery.min.js"),
    "mathjax@2.7.9": ("mathjax_url", "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"),
}
_FIGURE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "text/html")


def _slide(cell, kind):
    cell.metadata["slideshow"] = {"slide_type": kind}


def _shows_a_figure(cell) -> bool:
    return any(o.get("output_type") in ("display_data", "execute_result")
               and any(t in o.get("data", {}) for t in _FIGURE_TYPES) for o in cell.get("outputs", []))


def mark_slides(nb):
    """A copy of executed notebook ``nb`` with slide metadata on the cells an instructor presents."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)  # live-only: a deck shows saved outputs
    nb.metadata["title"] = nb.cells[0].source.partition("\n")[0].lstrip("# ").strip() if nb.cells else "slides"
    for i, cell in enumerate(nb.cells):
        text = cell.source.lstrip()
        if i == 0 and cell.cell_type == "markdown":
            # the intro: title slide, then the objectives on their own slide
            title, _, rest = cell.source.partition("\n")
            objectives = re.search(r"\*\*Learning objectives\.\*\*.*?(?=\n\*\*Time\.\*\*|\Z)", rest, re.S)
            cell.source = title + ("\n\n" + objectives.group(0).strip() if objectives else "")
            _slide(cell, "slide")
        elif cell.cell_type == "markdown" and (text.startswith("## ") or text.startswith("### Exercise")):
            heading, _, body = cell.source.partition("\n")
            lead = body.strip().split("\n\n")[0] if body.strip() else ""
            cell.source = heading + ("\n\n" + lead if lead else "")
            _slide(cell, "slide")
        elif cell.cell_type == "code" and _shows_a_figure(cell) and "ph.report.headline" not in cell.source:
            cell.metadata.setdefault("tags", [])
            cell.metadata["tags"] = [*cell.metadata["tags"], "remove_input"]
            _slide(cell, "fragment")
        elif cell.cell_type == "markdown":
            _slide(cell, "notes")
        else:
            _slide(cell, "skip")
    return nb


def install_vendor(vendor, *, timeout: int = 300) -> Path:
    """Install the decks' scripts from the npm registry into ``vendor`` unless they are there.

    Raises:
        FileNotFoundError: npm is not installed (the message says what to install).
        RuntimeError: npm failed (its last lines are in the message).
    """
    import shutil
    import subprocess

    vendor = Path(vendor)
    try:
        vendor_urls(vendor, vendor)
        return vendor
    except FileNotFoundError:
        pass
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not installed: the decks' scripts come from the npm registry "
                                "(Debian: `apt-get install npm`), or pass no vendor folder to use their CDNs.")
    vendor.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(vendor), *VENDOR_PACKAGES],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError("npm install failed:\n" + "\n".join((done.stdout + done.stderr).splitlines()[-10:]))
    vendor_urls(vendor, vendor)
    return vendor


def vendor_urls(vendor, out_dir) -> dict[str, str]:
    """The exporter's URL settings pointing, relative to ``out_dir``, at the npm packages in
    ``vendor/node_modules``.

    Raises:
        FileNotFoundError: a package is missing there (the message names the npm command).
    """
    import os

    modules = Path(vendor) / "node_modules"
    urls = {}
    for _package, (trait, file) in VENDOR_PACKAGES.items():
        target = modules / file.split("?")[0]
        if not target.exists():
            raise FileNotFoundError(f"{target} is missing: `npm install --prefix {vendor} {' '.join(VENDOR_PACKAGES)}` "
                                    "installs the decks' scripts (make slides does).")
        rel = Path(os.path.relpath(modules, out_dir)) / file
        urls[trait] = rel.as_posix()
    return urls


def write_deck(executed_path, out_dir, *, vendor=None) -> Path:
    """Write ``<stem>.slides.html`` for one executed notebook into ``out_dir``; return its path.
    ``vendor``: the folder ``npm install --prefix`` filled (None: the scripts' CDNs).

    Raises:
        ValueError: the notebook has no outputs (execute it first: ``make fast-course``).
        FileNotFoundError: ``vendor`` lacks one of ``VENDOR_PACKAGES``.
    """
    import nbformat
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    executed_path, out_dir = Path(executed_path), Path(out_dir)
    nb = nbformat.read(executed_path, as_version=4)
    if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        raise ValueError(f"{executed_path} has no outputs: decks are made from executed notebooks "
                         "(`make fast-course` writes them to runs/fast).")
    out_dir.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.TagRemovePreprocessor.remove_input_tags = ["remove_input"]
    config.TagRemovePreprocessor.enabled = True
    urls = vendor_urls(vendor, out_dir) if vendor is not None else {}
    exporter = SlidesExporter(config=config, exclude_input_prompt=True, exclude_output_prompt=True, **urls)
    body, _ = exporter.from_notebook_node(mark_slides(nb))
    out = out_dir / f"{executed_path.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    return out


def write_decks(source, out_dir, *, vendor=None) -> list[Path]:
    """A deck for every executed notebook in ``source`` (``ppml run --save`` writes them).

    Raises:
        FileNotFoundError: ``source`` holds no executed notebook.
    """
    paths = sorted(Path(source).glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"{source} holds no executed notebook: `make fast-course` (or `make course`) "
                                "writes them to runs/fast (runs/full).")
    return [write_deck(p, out_dir, vendor=vendor) for p in paths]
