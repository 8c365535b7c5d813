"""One set of versions everywhere: requirements/lock.txt pins every dependency of pyproject.toml
within its ranges, environment.yml installs exactly that lock, and the environment the tests
run in (what `make test` installed) has the lock's versions."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ppml_helpers.lockfile import LOCK_PATH, drift, read_lock


def _environment(text: str) -> tuple[list[str], list[str]]:
    """(conda dependencies, pip lines) of an environment.yml, without a YAML parser."""
    conda, pip, section = [], [], None
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if not line[0].isspace():
            section = "deps" if stripped.startswith("dependencies:") else None
            continue
        if section != "deps":
            continue
        item = stripped.strip()
        if item == "- pip:":
            continue
        indent = len(line) - len(line.lstrip())
        (pip if indent > 2 else conda).append(item[2:].strip())
    return conda, pip


def _declared(root) -> list[Requirement]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    return [r for r in reqs if r.marker is None or r.marker.evaluate()]


def test_lock_pins_every_dependency_within_its_range(root):
    pins = read_lock(root / LOCK_PATH)
    for req in _declared(root):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is not in {LOCK_PATH}: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK_PATH} pins {name}=={pins[name]}, outside pyproject.toml's {req}: run `make lock`"
        )


def test_lock_keeps_torch_at_the_pair_pip_resolves_here(root):
    pins = read_lock(root / LOCK_PATH)
    assert (pins["torch"], pins["torchvision"]) == ("2.14.1", "0.29.1")


def test_lock_targets_the_python_of_environment_yml(root):
    header = (root / LOCK_PATH).read_text().split("\n", 3)[:3]
    target = re.search(r"--python-version (\d+\.\d+)", "\n".join(header))
    assert target, "the lock's header names no --python-version"
    conda, _ = _environment((root / "environment.yml").read_text())
    assert f"python={target.group(1)}" in conda
    requires = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires.split("#")[0].strip() == f">={target.group(1)}"


def test_environment_installs_exactly_the_lock(root):
    conda, pip = _environment((root / "environment.yml").read_text())
    assert {c.split("=")[0] for c in conda} == {"python", "pip"}, "conda brings Python and pip only"
    assert pip == [f"-r {LOCK_PATH.as_posix()}", "-e ."]


def test_environment_parser_sees_a_difference():
    text = "dependencies:\n  - python=3.11\n  - pytorch\n  - pip:\n      - flwr==1\n"
    assert _environment(text) == (["python=3.11", "pytorch"], ["flwr==1"])


def test_tests_run_with_the_locked_versions(root):
    """`make test` installs the lock; a drifted environment is not what CI tests."""
    drifted = [d for d in drift(read_lock(root / LOCK_PATH)) if d.name != "ppml-helpers"]
    assert not drifted, [f"{d.name}: installed {d.installed}, locked {d.locked}" for d in drifted]


@pytest.mark.parametrize("line", ["torch>=2", "not a pin", "==1.0"])
def test_read_lock_refuses_a_line_that_is_no_pin(tmp_path, line):
    path = tmp_path / "lock.txt"
    path.write_text(f"# header\nnumpy==2.0\n{line}\n")
    with pytest.raises(ValueError, match=r"line 3: .* is not a 'name==version' pin"):
        read_lock(path)


def test_read_lock_keeps_the_pin_whose_marker_holds(tmp_path):
    path = tmp_path / "lock.txt"
    path.write_text("numpy==1.0 ; python_full_version < '3.0'\nnumpy==2.0 ; python_full_version >= '3.0'\n"
                    "Foo_Bar[x]==3.1\n    # via something\n")
    assert read_lock(path) == {"numpy": "2.0", "foo-bar": "3.1"}


def test_drift_compares_versions_not_strings():
    from importlib import metadata

    numpy = metadata.version("numpy")
    assert drift({"numpy": numpy + ".0"}) == []  # 2.4.6 is 2.4.6.0
    assert drift({"numpy": numpy + "+cpu"})[0].installed == numpy
    assert drift({"no-such-dist-here": "1.0"})[0].installed is None
