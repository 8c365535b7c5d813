"""`make lab` serves JupyterLab on 127.0.0.1: its /lab page, with the printed token, answers 200,
with Jupyter's news (and its pop-up asking to fetch them) switched off."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab[^\s?]*\?token=([0-9a-f]+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_jupyterlab(tmp_path):
    port = _free_port()
    log = tmp_path / "lab.log"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_PORT={port}"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
    try:
        match, deadline = None, time.monotonic() + 120
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            match = URL.search(log.read_text())
        assert match, f"no URL with a token printed:\n{log.read_text()[-3000:]}"
        assert int(match.group(1)) == port
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/lab?token={match.group(2)}", timeout=30
        ) as resp:
            assert resp.status == 200
            page = resp.read().decode("utf-8", "replace")
        assert "JupyterLab" in page
        assert '"news": {"disabled": true}' in page, "the server would fetch Jupyter's news"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification"
            f"?token={match.group(2)}", timeout=30,
        ) as resp:
            settings = json.loads(resp.read())
        # "none" (not yet asked) is what makes JupyterLab pop up its question about news.
        assert settings["schema"]["properties"]["fetchNews"]["default"] == "false"
        assert settings["schema"]["properties"]["checkForUpdates"]["default"] is False
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
