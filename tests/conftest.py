"""Shared fixtures: the project root and the shared datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Property tests explore new random examples on every local run; CI (.ci/run sets
# HYPOTHESIS_PROFILE=ci) draws the same examples each time, so a landing run is not a lottery.
# A failure found locally prints its example: add it with @example so CI keeps checking it.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _shared_data() -> Path | None:
    env = os.environ.get("PPML_DATA_DIR")
    for candidate in (env, ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "MNIST" / "raw").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = _shared_data()
    if found is None:
        pytest.fail(
            "No dataset copy found: set PPML_DATA_DIR to a folder with MNIST/raw and adult/ "
            "(CI uses ../shared/data)."
        )
    return found
