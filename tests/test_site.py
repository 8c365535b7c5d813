"""`make site`: the course as a website, built from fast-mode outputs and opened in headless
Chromium. The home page loads, every notebook page is reachable from the course map and shows
its figures, the student notebooks download, and no internal link is broken."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import fast_runs
import nbformat
import pytest
from kernel_guard import need_kernels

from ppml_helpers.kernels import kernel_name
from ppml_helpers.runner import run_notebooks
from ppml_helpers.site import build_site

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _executed_copies():
    """The fast runs test_notebooks.py kept; a notebook missing or changed since is run here."""
    stale = [p for p in SOLUTIONS if not fast_runs.is_current(p.stem)]
    need_kernels(*(kernel_name(nbformat.read(p, as_version=4)) for p in stale))
    failed = [r for r in run_notebooks(stale, fast=True, save_dir=fast_runs.FAST_RUNS) if r.error]
    assert not failed, [(r.path.name, r.error) for r in failed]
    return fast_runs.FAST_RUNS


def _images(nb) -> int:
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if any(k.startswith("image/") for k in o.get("data", {})))


def _broken_links(out: Path) -> list[str]:
    broken = []
    pages = [p for p in out.rglob("*.html") if "_static" not in p.parts]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"]+)"', text):
            href = html.unescape(href)
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("mailto:", "//")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(out)} -> {href}")
            elif parts.fragment and target.suffix == ".html" and \
                    f'id="{parts.fragment}"' not in target.read_text(encoding="utf-8"):
                broken.append(f"{page.relative_to(out)} -> {href} (no such anchor)")
    return broken


def test_the_site_builds_and_every_notebook_page_is_reachable_with_its_figures(tmp_path, capsys):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or pytest.fail("Debian's chromium is not installed (.ci/run installs it).")
    runs = _executed_copies()
    home = build_site(runs, tmp_path / "site", work=tmp_path / "src")
    out = home.parent
    assert not _broken_links(out), _broken_links(out)[:20]
    stems = [p.stem for p in SOLUTIONS]
    shown = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(home.as_uri())
            assert "Private ML, hands-on" in page.locator("h1").first.inner_text()
            course_map = page.locator("table").first  # the course map: the README's first table
            hrefs = course_map.locator("a").evaluate_all("as => as.map(a => a.href)")
            assert sorted(Path(urlsplit(h).path).stem for h in hrefs) == sorted(stems)
            for href in hrefs:
                page.goto(href)
                stem = Path(urlsplit(href).path).stem
                assert stem.split("_")[0] in page.locator("h1").first.inner_text()
                images = page.locator("article img")
                shown[stem] = images.count()
                for i in range(images.count()):  # each figure decodes: a real image, not a broken icon
                    assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), (stem, i)
            page.goto(home.as_uri())
            student = page.locator("a.download").evaluate_all("as => as.map(a => a.getAttribute('href'))")
            assert sorted(Path(h).name for h in student) == sorted(f"{s}.ipynb" for s in stems)
        finally:
            browser.close()
    for p in SOLUTIONS:
        want = _images(nbformat.read(runs / p.name, as_version=4))
        assert shown[p.stem] >= want, f"{p.stem}: {shown[p.stem]} images shown, the run made {want}"
    assert sum(shown.values()) > 20
    with capsys.disabled():
        print(f"\nsite: {len(stems)} notebook pages, {sum(shown.values())} figures, in {out}")
