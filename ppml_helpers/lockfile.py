"""The course's lock file (``requirements/lock.txt``): the exact versions the tests pass with.

``make lock`` writes it with ``uv pip compile --universal`` from ``pyproject.toml``;
``make lab`` and ``make test`` install from it. This module reads it for
``ppml doctor`` (which warns about installed versions that differ) and for the
tests that keep ``pyproject.toml`` and ``environment.yml`` in step with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["LOCK_PATH", "Drift", "drift", "read_lock"]

#: Where the lock lives in a course checkout, relative to its root.
LOCK_PATH = Path("requirements") / "lock.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)\s*(?:;\s*(.+))?$")


def read_lock(path, environment: dict | None = None) -> dict[str, str]:
    """``{canonical name: version}`` of the pins that apply to this interpreter and platform,
    or to ``environment`` (marker variables such as ``sys_platform``, overriding this one's).

    A universal lock may pin a package twice under exclusive markers (one version below
    Python 3.12, another from it); only the pin whose marker holds here is kept.

    Raises:
        FileNotFoundError: no lock at ``path``.
        ValueError: a line that is neither a comment, an option nor ``name==version``.
    """
    pins = {}
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        m = _PIN.match(line)
        if not m:
            raise ValueError(f"{path}, line {number}: {raw!r} is not a 'name==version' pin.")
        name, version, marker = m.groups()
        if marker is None or Marker(marker).evaluate(environment):
            pins[canonicalize_name(name)] = version
    return pins


@dataclass(frozen=True)
class Drift:
    """An installed distribution whose version is not the lock's (``installed`` None: missing)."""

    name: str
    locked: str
    installed: str | None


def drift(pins: dict[str, str]) -> list[Drift]:
    """Every locked distribution that is missing here or installed at another version."""
    found = []
    for name, locked in sorted(pins.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or not _same(installed, locked):
            found.append(Drift(name, locked, installed))
    return found


def _same(a: str, b: str) -> bool:
    """Equal as versions ("1.0" is "1.0.0"; a local build label such as "+cpu" differs)."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b
