"""The package as pip builds it contains every subpackage, not only the top level."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set(find_packages(where=str(ROOT), **config["packages"]["find"]))
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "ppml_helpers").rglob("__init__.py")
    }
    assert on_disk <= found, f"not packaged: {sorted(on_disk - found)}"
    assert {"ppml_helpers", "ppml_helpers.data", "ppml_helpers.exercises", "ppml_helpers.fl"} <= on_disk


def test_console_script_points_at_the_cli():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["ppml"] == "ppml_helpers.cli:main"


def test_every_public_module_loads_lazily_as_an_attribute():
    import ppml_helpers as ph

    public = {p.stem for p in (ROOT / "ppml_helpers").glob("*.py") if not p.stem.startswith("_")}
    public |= {p.parent.name for p in (ROOT / "ppml_helpers").glob("*/__init__.py")}
    missing = sorted(public - set(ph._SUBMODULES))
    assert not missing, f"ph.<name> raises AttributeError for: {missing} (add them to _SUBMODULES)"
    assert ph.capstone.__name__ == "ppml_helpers.capstone"
