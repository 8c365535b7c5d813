"""environment.yml and pyproject.toml declare the same dependencies."""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

# conda-forge names that differ from the PyPI ones
CONDA_TO_PYPI = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _name(spec: str) -> str:
    return re.split(r"[\s<>=!~\[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _environment_names(text: str) -> set[str]:
    names, in_deps = set(), False
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if line and not line[0].isspace():
            in_deps = line.startswith("dependencies:")
        if not in_deps or not stripped.startswith("- ") or stripped.endswith(":"):
            continue
        spec = stripped[2:].strip()
        if spec.startswith("-e ") or spec.startswith("pip:"):
            continue
        name = _name(spec)
        if name not in NOT_PACKAGES:
            names.add(CONDA_TO_PYPI.get(name, name))
    return names


def test_environment_matches_pyproject(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    declared = {_name(d) for d in project["dependencies"]}
    declared |= {_name(d) for d in project["optional-dependencies"]["dev"]}
    in_env = _environment_names((root / "environment.yml").read_text())
    assert in_env == declared, (
        f"only in environment.yml: {sorted(in_env - declared)}; "
        f"only in pyproject.toml: {sorted(declared - in_env)}"
    )


def test_environment_installs_the_package_itself(root):
    assert "- -e ." in (root / "environment.yml").read_text()


def test_parser_sees_a_difference():
    assert _environment_names("channels:\n  - conda-forge\ndependencies:\n  - pytorch\n  - pip:\n      - flwr[simulation]>=1\n") == {
        "torch",
        "flwr",
    }
