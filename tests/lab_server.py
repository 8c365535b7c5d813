"""`make lab` as a test fixture: JupyterLab started the way a learner starts it, on a free port."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab[^\s?]*\?token=([0-9a-f]+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def make_lab(tmp_path, *, lab_args: str = "", env: dict | None = None):
    """Run `make lab` (its own runtime dir under ``tmp_path``); yield ``(base URL, token)``.

    The whole process group is stopped afterwards, also when the test fails.
    """
    port = _free_port()
    log = tmp_path / "lab.log"
    full_env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), **(env or {}))
    with open(log, "w") as out:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", f"LAB_ARGS={lab_args}"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=full_env, start_new_session=True,
        )
    try:
        match, deadline = None, time.monotonic() + 120
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
            match = URL.search(log.read_text())
        assert match, f"no URL with a token printed:\n{log.read_text()[-3000:]}"
        assert int(match.group(1)) == port
        yield f"http://127.0.0.1:{port}", match.group(2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
