"""`make wheelhouse` and `make lab OFFLINE=1`: a small wheelhouse downloaded from the index, then
the Makefile's own install from it into a fresh venv with the index switched off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ppml_helpers
from ppml_helpers import wheelhouse
from ppml_helpers.lockfile import read_lock

ROOT = Path(__file__).resolve().parent.parent
PINS = read_lock(ROOT / "requirements" / "lock.txt")


def _small_lock(tmp_path, *names):
    lock = tmp_path / "small-lock.txt"
    lock.write_text("".join(f"{n}=={PINS[n]}\n" for n in names) + "nvidia-nccl-cu13==2.30.7 ; sys_platform == 'linux'"
                    " and python_version < '3'\n")  # a pin whose marker never holds: left out
    return lock


def test_a_small_wheelhouse_installs_the_course_with_the_index_off(tmp_path):
    lock = _small_lock(tmp_path, "tomli-w", "packaging")
    dest = tmp_path / "wheelhouse"
    wheels = {w.name.split("-")[0] for w in wheelhouse.download(dest, lock=lock)}
    assert {"tomli_w", "packaging", "setuptools", "pip"} <= wheels and not any("nvidia" in w for w in wheels)
    assert (dest / "requirements.txt").read_text() == f"packaging=={PINS['packaging']}\ntomli-w=={PINS['tomli-w']}\n"
    venv = tmp_path / "venv"
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0"}  # no index to reach
    make = ["make", "-C", str(ROOT), f"VENV={venv}", f"LOCK={lock}", "OFFLINE=1", f"WHEELHOUSE={dest}",
            f"PYTHON={sys.executable}", f"{venv}/.installed"]
    done = subprocess.run(make, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "--no-index --find-links" in done.stdout
    check = subprocess.run([str(venv / "bin" / "python"), "-c", "import tomli_w, packaging\n"
                            "from importlib.metadata import version\nprint(version('ppml-helpers'))"],
                           capture_output=True, text=True, timeout=60)  # the course, installed (no deps: a small lock)
    assert check.returncode == 0 and check.stdout.strip() == ppml_helpers.__version__, check.stderr


def test_offline_without_a_wheelhouse_says_what_to_run(tmp_path):
    done = subprocess.run(["make", "-C", str(ROOT), f"VENV={tmp_path / 'venv'}", "OFFLINE=1",
                           f"WHEELHOUSE={tmp_path / 'none'}", f"PYTHON={sys.executable}", f"{tmp_path}/venv/.installed"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "OFFLINE=1 needs a wheelhouse: run make wheelhouse" in done.stderr


def test_a_wheelhouse_for_another_platform_holds_that_platform_s_wheels(tmp_path):
    lock = _small_lock(tmp_path, "pyyaml")
    wheels = [w.name for w in wheelhouse.download(tmp_path / "mac", lock=lock, platform="macos-arm64")]
    [yaml] = [w for w in wheels if w.lower().startswith("pyyaml")]
    assert "macosx" in yaml and "cp311" in yaml
    with pytest.raises(ValueError, match=r"platform must be one of \['linux-aarch64'.*got 'amiga'"):
        wheelhouse.download(tmp_path / "x", lock=lock, platform="amiga")


def test_the_platform_check_finds_the_pins_without_a_wheel(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text("a==1\nb==2\nc==3 ; sys_platform == 'win32'\n")
    files = {("a", "1"): ["a-1-py3-none-any.whl"],
             ("b", "2"): ["b-2-cp311-cp311-manylinux_2_28_x86_64.whl", "b-2.tar.gz"],
             ("c", "3"): ["c-3-cp311-cp311-win_amd64.whl"]}
    found = wheelhouse.check_platforms(lock, files=lambda n, v: files[(n, v)])
    assert found["linux-x86_64"] == [] and found["macos-arm64"] == ["b==2"]
    assert found["windows-amd64"] == ["b==2"]  # c has its wheel there; only Windows needs it
