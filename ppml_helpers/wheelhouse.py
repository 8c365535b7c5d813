"""An install that works without network: every wheel of the locked environment in one
folder (``make wheelhouse``, with ``requirements.txt``: the pins it holds), then ``make lab
OFFLINE=1`` installs from it with the index off (the Makefile's pip calls; no code of ours runs
before the course's venv exists).

The lock is universal, so one lock serves every laptop in the room; a wheelhouse is per
platform. ``TARGETS`` names the platforms ``--platform`` accepts; ``check_platforms`` asks the
package index, for each locked pin, whether a wheel exists for each target, which is how the
README's list of platforms that work was made.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .lockfile import LOCK_PATH, read_lock

__all__ = ["BUILD_REQUIREMENTS", "TARGETS", "Target", "check_platforms", "download", "pins_for"]

#: What installing the course itself needs besides the lock (pyproject's build-system, and pip).
BUILD_REQUIREMENTS = ("setuptools>=77", "pip")


@dataclass(frozen=True)
class Target:
    """A platform of the room's laptops: pip's platform tags and the lock's marker variables."""

    platforms: tuple[str, ...]
    markers: dict


def _linux(arch: str, glibc_minor: int = 35) -> tuple[str, ...]:
    """Linux tags down from glibc 2.``glibc_minor`` (2.35: Ubuntu 22.04 and Debian 12's 2.36 and up)."""
    many = [f"manylinux_2_{m}_{arch}" for m in range(glibc_minor, 16, -1)]
    return (*many, f"manylinux2014_{arch}", *([f"manylinux2010_{arch}", f"manylinux1_{arch}"] if arch == "x86_64"
                                                else []), f"linux_{arch}")


def _macos(arch: str, major: int = 15) -> tuple[str, ...]:
    """macOS tags down from ``major`` (15: Sequoia, which python-dp 1.1.5's wheels need) for ``arch``."""
    from packaging.tags import mac_platforms

    return tuple(mac_platforms((major, 0), arch))


TARGETS = {
    "linux-x86_64": Target(_linux("x86_64"),
                           {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux"}),
    "linux-aarch64": Target(_linux("aarch64"),
                            {"sys_platform": "linux", "platform_machine": "aarch64", "platform_system": "Linux"}),
    "macos-arm64": Target(_macos("arm64"),
                          {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"}),
    "macos-x86_64": Target(_macos("x86_64"),
                           {"sys_platform": "darwin", "platform_machine": "x86_64", "platform_system": "Darwin"}),
    "windows-amd64": Target(("win_amd64",),
                            {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows"}),
}


def _target(name):
    if name is not None and name not in TARGETS:
        raise ValueError(f"platform must be one of {sorted(TARGETS)} (or none for this machine), got {name!r}.")
    return None if name is None else TARGETS[name]


def _environment(target: Target | None, python_version: str) -> dict | None:
    if target is None:
        return None
    return {**target.markers, "python_version": python_version, "python_full_version": f"{python_version}.0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "os_name":
            "nt" if target.markers["sys_platform"] == "win32" else "posix"}


def pins_for(lock=LOCK_PATH, platform: str | None = None, python_version: str = "3.11") -> dict[str, str]:
    """The lock's pins that apply on ``platform`` (None: this machine) under ``python_version``."""
    return read_lock(lock, _environment(_target(platform), python_version))


def download(dest, *, lock=LOCK_PATH, platform: str | None = None, python_version: str = "3.11",
             timeout: int = 3600) -> list[Path]:
    """Download the wheels of every applicable pin, and of what building the course needs, into
    ``dest``; return the wheel files there.

    Raises:
        ValueError: an unknown platform.
        RuntimeError: pip could not get a wheel (its last lines name the package).
    """
    target = _target(platform)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    pins = pins_for(lock, platform, python_version)
    reqs = dest / "requirements.txt"  # exactly what the wheelhouse holds, for the offline install
    reqs.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    where = [] if target is None else [
        *(a for p in target.platforms for a in ("--platform", p)), "--python-version", python_version,
        "--implementation", "cp", "--abi", f"cp{python_version.replace('.', '')}", "--abi", "abi3", "--abi", "none"]
    for args in (["--no-deps", "-r", str(reqs)], ["--only-binary=:all:", *BUILD_REQUIREMENTS]):
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "-d", str(dest), *where, *args]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError("pip download failed:\n" + "\n".join((done.stdout + done.stderr).splitlines()[-8:]))
    return sorted(dest.glob("*.whl"))


def _index_files(name: str, version: str) -> list[str]:
    """A release's file names, from the index's simple API (PEP 691 JSON)."""
    from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
    from packaging.version import Version

    req = urllib.request.Request(f"https://pypi.org/simple/{canonicalize_name(name)}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        listing = [f["filename"] for f in json.load(r)["files"]]
    out = []
    for f in listing:
        try:
            v = parse_wheel_filename(f)[1] if f.endswith(".whl") else parse_sdist_filename(f)[1]
        except ValueError:
            continue
        if v == Version(version):
            out.append(f)
    return out


def check_platforms(lock=LOCK_PATH, platforms=None, python_version: str = "3.11", files=_index_files) -> dict:
    """``{platform: [pins with no wheel for it]}``; ``files(name, version)`` lists a release's
    files (the package index's JSON API by default)."""
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import parse_wheel_filename

    py = tuple(int(x) for x in python_version.split("."))
    out, cache = {}, {}
    for name in platforms or TARGETS:
        target = TARGETS[name]
        tags = {*cpython_tags(py, abis=[f"cp{py[0]}{py[1]}", "abi3", "none"], platforms=target.platforms),
                *compatible_tags(py, interpreter=f"cp{py[0]}{py[1]}", platforms=target.platforms)}
        missing = []
        for pkg, version in sorted(pins_for(lock, name, python_version).items()):
            listing = cache.setdefault((pkg, version), files(pkg, version))
            wheels = [parse_wheel_filename(f)[3] for f in listing if f.endswith(".whl")]
            if not any(tags & set(t) for t in wheels):
                missing.append(f"{pkg}=={version}")
        out[name] = missing
    return out
