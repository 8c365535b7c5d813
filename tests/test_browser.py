"""A learner's first session, in a real browser: `make lab`, then notebook 03 in headless Chromium.

Run All from JupyterLab's Run menu reaches the last cell with every exercise unsolved, no
cell shows an error (the self-checks say "not attempted yet"), and moving the noise
explorer's ε slider changes its readout, its summary and its figure. Chromium is Debian's
(`apt-get install chromium`; `.ci/run` installs it), driven by Playwright's Python API:
nothing downloads a browser. Screenshots go to .ppml-screenshots/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
import time

import pytest
from lab_server import ROOT, make_lab

from ppml_helpers.exercises import NOT_ATTEMPTED

NOTEBOOK = "notebooks/03_differential_privacy.ipynb"
SHOTS = ROOT / ".ppml-screenshots"
RUN_ALL_DEADLINE = 600  # seconds; notebook 03 takes well under a minute in fast mode
# Chromium on a machine with no outside network: no background traffic, no first-run UI.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# The notebook's state from JupyterLab's own model (app exposed with --expose-app-in-browser).
STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model) return null;
  const cells = panel.content.model.cells, found = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    found.push({index: i, count: c.executionCount, tags: c.getMetadata('tags') || [],
                source: c.sharedModel.getSource().split('\\n')[0], outputs: c.outputs.toJSON()});
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {kernel: kernel ? kernel.status : 'none', cells: found};
}"""


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is not installed: `apt-get install chromium` (.ci/run does it).")
    return path


@pytest.fixture
def lab(tmp_path):
    """`make lab` with the app exposed to scripts and fast mode for its kernels."""
    # A fresh user-settings folder, with autosave off: the run's outputs must never be saved
    # into notebooks/, which holds no outputs.
    docmanager = tmp_path / "settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    env = {"PPML_FAST": "1", "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
           "PPML_QUIZ_PROGRESS": str(tmp_path / "quiz_progress.json")}  # never the tester's own progress
    with make_lab(tmp_path, lab_args="--expose-app-in-browser", env=env) as (base, token):
        yield base, token, tmp_path / "quiz_progress.json"


def _wait_for_run_all(page) -> dict:
    """Poll the model until every code cell has run and the kernel is idle; fail fast on a stop."""
    deadline, idle_since = time.monotonic() + RUN_ALL_DEADLINE, None
    while time.monotonic() < deadline:
        state = page.evaluate(STATE_JS)
        if state and state["cells"]:
            done = all(c["count"] is not None for c in state["cells"])
            idle = state["kernel"] == "idle"
            if done and idle:
                return state
            idle_since = (idle_since or time.monotonic()) if idle else None
            if idle_since and time.monotonic() - idle_since > 20:  # Run All stopped early
                stopped = next(c for c in state["cells"] if c["count"] is None)
                pytest.fail(f"Run All stopped before cell {stopped['index']} ({stopped['source']!r}): "
                            f"{_errors(state)}")
        time.sleep(1)
    pytest.fail(f"Run All did not finish in {RUN_ALL_DEADLINE} s")


def _open_and_run_all(browser, base, token, notebook):
    """Open ``notebook`` in JupyterLab, wait for its kernel, Run All from the Run menu as a
    learner does, and wait until every code cell has run."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/{notebook}?token={token}", timeout=120_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=120_000,
    )
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    return page, _wait_for_run_all(page)


def _errors(state) -> list[tuple[int, str]]:
    return [(c["index"], f"{o.get('ename')}: {o.get('evalue')}") for c in state["cells"]
            for o in c["outputs"] if o.get("output_type") == "error"
            and "raises-exception" not in c["tags"]]


def _readout(locator) -> float:
    """A slider's readout (an editable box: its text is not inner text)."""
    return float(locator.evaluate("e => e.value !== undefined ? e.value : e.textContent"))


def _text(cell) -> str:
    parts = []
    for o in cell["outputs"]:
        parts.append(o.get("text", ""))
        parts.extend(o.get("data", {}).get(k, "") for k in ("text/plain", "text/html"))
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def test_run_all_reaches_the_end_and_the_noise_explorer_redraws(lab, capsys):
    from playwright.sync_api import sync_playwright

    base, token, _ = lab
    original = (ROOT / NOTEBOOK).read_bytes()
    SHOTS.mkdir(exist_ok=True)
    shots = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            page, state = _open_and_run_all(browser, base, token, NOTEBOOK)

            codes = state["cells"]
            assert codes[-1]["source"].startswith("ph.report.headline(") and codes[-1]["count"] is not None
            assert not _errors(state), f"cells with an error: {_errors(state)}"
            checks = [c for c in codes if c["source"].startswith("# Self-check")]
            assert len(checks) >= 3, "notebook 03's self-checks were not found"
            for c in checks:
                assert NOT_ATTEMPTED in _text(c), f"cell {c['index']}: {_text(c)[:300]}"
            assert page.get_by_text("Would you like to get notified about official Jupyter news?").count() == 0

            # The noise explorer: drag the ε slider's handle to the right.
            eps = page.locator(".widget-slider", has=page.locator(".widget-label", has_text="ε")).first
            eps.scroll_into_view_if_needed()
            explorer = eps.locator("xpath=..")
            readout, summary = eps.locator(".widget-readout"), explorer.locator(".widget-html-content")
            figure = explorer.locator(".widget-output img").first
            figure.wait_for(timeout=30_000)
            before = (_readout(readout), summary.inner_text(), figure.get_attribute("src"))
            shots.append(SHOTS / "03_noise_explorer_before.png")
            explorer.screenshot(path=str(shots[-1]))
            handle = eps.locator(".noUi-handle").first.bounding_box()
            page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
            page.mouse.down()
            page.mouse.move(handle["x"] + 25, handle["y"] + handle["height"] / 2, steps=5)
            page.mouse.up()
            page.wait_for_function(
                "([el, src]) => { const img = el.querySelector('.widget-output img');"
                " return img && img.getAttribute('src') !== src; }",
                arg=[explorer.element_handle(), before[2]], timeout=30_000,
            )
            after = (_readout(readout), summary.inner_text(), figure.get_attribute("src"))
            shots.append(SHOTS / "03_noise_explorer_after.png")
            explorer.screenshot(path=str(shots[-1]))
            shots.append(SHOTS / "03_run_all.png")
            page.screenshot(path=str(shots[-1]))
        finally:
            browser.close()
    with capsys.disabled():
        print("\nscreenshots: " + ", ".join(str(p.relative_to(ROOT)) for p in shots))
    assert after[0] > before[0], f"the ε readout did not grow: {before[0]} -> {after[0]}"
    summary_eps = [float(re.search(r"ε = ([0-9.e+-]+)", text).group(1)) for text in (before[1], after[1])]
    assert summary_eps == pytest.approx([before[0], after[0]], rel=0.01), (before[1], after[1])
    assert after[2] != before[2], "the figure did not change"
    assert (ROOT / NOTEBOOK).read_bytes() == original, "the browser saved outputs into notebooks/"


QUIZ_NOTEBOOK = "notebooks/09_interview_prep.ipynb"


def test_the_quiz_and_the_mock_interview_work_in_jupyterlab(lab, capsys):
    """Notebook 09 in the browser: draw, write, reveal, grade (saved to the progress file), and
    the mock interview's countdown ticking in the page (ipywidgets' Play, no kernel thread)."""
    import json

    from playwright.sync_api import sync_playwright

    base, token, progress = lab
    original = (ROOT / QUIZ_NOTEBOOK).read_bytes()
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS)
        try:
            page, state = _open_and_run_all(browser, base, token, QUIZ_NOTEBOOK)
            assert not _errors(state), f"cells with an error: {_errors(state)}"
            draw = page.get_by_role("button", name="Draw a question")
            draw.scroll_into_view_if_needed()
            draw.click()
            quiz = draw.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")
            quiz.locator("textarea").first.fill("Secure aggregation hides each update; DP bounds the rest.")
            quiz.get_by_role("button", name="Reveal", exact=True).click()
            quiz.get_by_text("Sample answer.").wait_for(timeout=30_000)
            quiz.get_by_role("button", name="good", exact=True).click()
            quiz.get_by_text("Saved to").wait_for(timeout=30_000)
            page.screenshot(path=str(SHOTS / "09_quiz.png"))
            start = page.get_by_role("button", name="Start", exact=True)
            start.scroll_into_view_if_needed()
            start.click()
            mock = page.locator(".widget-vbox", has=page.get_by_text("Mock interview: 30 minutes")).last
            mock.get_by_text("Part 1 of 3").wait_for(timeout=30_000)
            page.wait_for_function(  # the countdown ticks in the browser: 20:00, 19:59, ...
                "el => /19:5\\d left/.test(el.innerText)", arg=mock.element_handle(), timeout=30_000)
            mock.screenshot(path=str(SHOTS / "09_mock_interview.png"))
        finally:
            browser.close()
    saved = json.loads(progress.read_text())["questions"]
    assert [s["grades"] for s in saved.values()] == [["good"]]
    assert (ROOT / QUIZ_NOTEBOOK).read_bytes() == original, "the browser saved outputs into notebooks/"
