"""`make slides`: slide metadata set by rule on executed notebooks, decks written by nbconvert,
and a deck with its scripts from the npm registry opening in headless Chromium with no CDN."""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ppml_helpers import slides
from ppml_helpers.runner import execute_notebook

INTRO = ("# 99 · A small deck\n\nSome framing.\n\n**Learning objectives.** After this you can\n\n"
         "1. draw a line;\n2. read it.\n\n**Time.** About 30 minutes of reading and exercises.\n")


def _executed(tmp_path):
    nb = new_notebook(cells=[
        new_markdown_cell(INTRO),
        new_code_cell("import matplotlib.pyplot as plt"),
        new_markdown_cell("## 1. A line\n\nThe first paragraph leads.\n\nThe second one goes to the notes."),
        new_code_cell("fig, ax = plt.subplots()\nax.plot([0, 1], [0, 1])\nplt.show()"),
        new_markdown_cell("### Exercise 9.9 — draw it yourself\n\nWrite `line()`."),
        new_code_cell("print('a self-check')"),
        new_code_cell("import ppml_helpers as ph\nph.report.headline('99_small', value=1)"),
    ])
    path = tmp_path / "99_small.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "run"
    out.mkdir(exist_ok=True)
    nbformat.write(execute_notebook(path, fast=True, timeout=120), out / path.name)
    return out / path.name


def test_the_cells_an_instructor_presents_get_slide_metadata(tmp_path):
    nb = nbformat.read(_executed(tmp_path), as_version=4)
    marked = slides.mark_slides(nb)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in marked.cells]
    assert kinds == ["slide", "skip", "slide", "fragment", "slide", "skip", "skip"]
    assert "Learning objectives" in marked.cells[0].source and "Time." not in marked.cells[0].source
    assert "first paragraph" in marked.cells[2].source and "second one" not in marked.cells[2].source
    assert "remove_input" in marked.cells[3].metadata["tags"]
    assert "slideshow" not in nb.cells[0].metadata  # the notebook itself is not changed


def test_a_deck_holds_the_slides_and_the_figure(tmp_path):
    deck = slides.write_deck(_executed(tmp_path), tmp_path / "decks")
    html = deck.read_text()
    assert deck.name == "99_small.slides.html" and "<title>99 · A small deck slides</title>" in html
    assert len(re.findall(r'<img [^>]*src="data:image/png', html)) == 1 and "ax.plot" not in html  # the figure, not its code
    with pytest.raises(ValueError, match="has no outputs"):
        plain = tmp_path / "plain.ipynb"
        nbformat.write(new_notebook(cells=[new_code_cell("1")]), plain)
        slides.write_deck(plain, tmp_path / "decks")
    with pytest.raises(FileNotFoundError, match="npm install --prefix"):
        slides.write_deck(_executed(tmp_path), tmp_path / "decks", vendor=tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="holds no executed notebook"):
        slides.write_decks(tmp_path / "nothing", tmp_path / "decks")


def test_ppml_slides_with_npm_scripts_opens_offline_in_chromium(tmp_path):
    """The deck loads reveal.js, RequireJS and jQuery from the vendor folder, not a CDN."""
    from playwright.sync_api import sync_playwright

    from ppml_helpers.cli import main

    for tool in ("npm", "chromium"):
        if shutil.which(tool) is None:
            pytest.fail(f"Debian's {tool} is not installed (`apt-get install {tool}`; .ci/run does it).")
    executed = _executed(tmp_path)
    assert main(["slides", "--source", str(executed.parent), "--out", str(tmp_path / "decks"),
                 "--vendor", str(tmp_path / "vendor")]) == 0
    deck = tmp_path / "decks" / "99_small.slides.html"
    assert "unpkg.com" not in deck.read_text() and "cdnjs.cloudflare.com/ajax/libs/require.js" not in deck.read_text()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(deck.as_uri())
            page.wait_for_selector(".reveal.ready", timeout=30_000)
            sections = page.evaluate("() => document.querySelectorAll('.reveal .slides > section').length")
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => document.querySelector('section.present h2, section.present h1')"
                                   " && document.querySelector('section.present').innerText.includes('A line')",
                                   timeout=10_000)
        finally:
            browser.close()
    assert sections == 3  # the title, "1. A line", the exercise
