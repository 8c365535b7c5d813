"""`make lab` serves JupyterLab on 127.0.0.1: its /lab page, with the printed token, answers 200,
with Jupyter's news (and its pop-up asking to fetch them) switched off."""

from __future__ import annotations

import json
import urllib.request

from lab_server import make_lab


def test_make_lab_serves_jupyterlab(tmp_path):
    with make_lab(tmp_path) as (base, token):
        with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=30) as resp:
            assert resp.status == 200
            page = resp.read().decode("utf-8", "replace")
        with urllib.request.urlopen(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}",
            timeout=30,
        ) as resp:
            settings = json.loads(resp.read())
    assert "JupyterLab" in page
    assert '"news": {"disabled": true}' in page, "the server would fetch Jupyter's news"
    # "none" (not yet asked) is what makes JupyterLab pop up its question about news.
    assert settings["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert settings["schema"]["properties"]["checkForUpdates"]["default"] is False
