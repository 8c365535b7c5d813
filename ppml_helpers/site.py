"""The course as a static website (``make site``): Sphinx with MyST-NB and the book theme.

Pages: the README as the home page (its course map and results table linking every notebook),
every solution notebook with the outputs of a run (fast mode by default; ``FULL=1`` uses
``make course``'s full-mode copies), the instructor guide and the other ``docs/`` pages, and
the student notebooks as downloads. Nothing is executed while building: the outputs are the
ones ``ppml run --save`` kept, so the site shows what the code printed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["build_site", "stage"]

ROOT = Path(__file__).resolve().parent.parent

CONF = '''\
project = "Privacy-preserving machine learning, hands on"
author = "the course's authors"
extensions = ["myst_nb"]
html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {"show_toc_level": 2, "use_download_button": False, "use_fullscreen_button": False}
nb_execution_mode = "off"          # the outputs are a run's, kept by ppml run --save
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["myst.header", "misc.highlighting_failure", "mystnb.unknown_mime_type"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_copy_source = False
'''


def _stem_link(stem: str) -> str:
    return f"[`{stem}`](notebooks/{stem}.ipynb)"


def _home(readme: str, stems: list[str]) -> str:
    """The README as the home page: notebook names become links to their pages, links into
    docs/ point at the site's pages, and the student notebooks are offered for download."""
    text = readme
    for stem in stems:
        text = text.replace(f"| `{stem}` |", f"| {_stem_link(stem)} |")
    text = re.sub(r"\]\(docs/([\w-]+)\.md\)", r"](\1.md)", text)
    downloads = "\n".join(f"- {{download}}`{stem}.ipynb <student/{stem}.ipynb>`" for stem in stems)
    toctree = "\n".join(["```{toctree}", ":hidden:", ":caption: Notebooks", "",
                         *[f"notebooks/{s}" for s in stems], "```", "",
                         "```{toctree}", ":hidden:", ":caption: Teaching", "",
                         *[p.stem for p in sorted((ROOT / "docs").glob("*.md"))], "```"])
    return (f"{text.rstrip()}\n\n## Student notebooks\n\nThe notebooks to work in, exercises open, "
            f"without outputs:\n\n{downloads}\n\n{toctree}\n")


def stage(runs, dest) -> list[str]:
    """Lay out the site's sources in ``dest`` from the executed notebooks in ``runs``; return
    the notebook stems.

    Raises:
        FileNotFoundError: a solution notebook has no executed copy in ``runs``.
    """
    runs, dest = Path(runs), Path(dest)
    stems = [p.stem for p in sorted((ROOT / "solutions").glob("*.ipynb"))]
    missing = [s for s in stems if not (runs / f"{s}.ipynb").exists()]
    if missing:
        raise FileNotFoundError(f"{runs} has no executed copy of {missing}: `make fast-course` (or `make course` "
                                "for FULL=1) writes them.")
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "notebooks").mkdir(parents=True)
    (dest / "student").mkdir()
    (dest / "conf.py").write_text(CONF, encoding="utf-8")
    for s in stems:
        shutil.copy(runs / f"{s}.ipynb", dest / "notebooks" / f"{s}.ipynb")
        shutil.copy(ROOT / "notebooks" / f"{s}.ipynb", dest / "student" / f"{s}.ipynb")
    for page in sorted((ROOT / "docs").glob("*.md")):
        shutil.copy(page, dest / page.name)
    (dest / "index.md").write_text(_home((ROOT / "README.md").read_text(encoding="utf-8"), stems), encoding="utf-8")
    return stems


def build_site(runs, out, *, work=None, timeout: int = 1800) -> Path:
    """Stage and build the website into ``out``; return the home page's path.

    Raises:
        FileNotFoundError: a notebook's executed copy is missing from ``runs``.
        RuntimeError: Sphinx failed (its last lines are in the message).
    """
    work = Path(work) if work is not None else ROOT / "build" / "site-src"
    stage(runs, work)
    out = Path(out)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "2", str(work), str(out)],
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError("sphinx-build failed:\n" + "\n".join((done.stdout + done.stderr).splitlines()[-15:]))
    return out / "index.html"
