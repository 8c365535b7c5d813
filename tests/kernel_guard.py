"""One rule for tests that need an appendix's Jupyter kernel: without it they skip, saying which
make target builds it, except where PPML_REQUIRE_KERNELS=1 (CI's .ci/run sets it, and `make test`
builds the kernels first): there a missing kernel fails."""

from __future__ import annotations

import os

import pytest

from ppml_helpers.kernels import APPENDIX_KERNELS, installed_kernels


def need_kernels(*names: str) -> None:
    """Skip (or fail, under PPML_REQUIRE_KERNELS=1) unless every appendix kernel in ``names`` is
    installed; names that are not appendix kernels (the course's python3) always pass."""
    found = installed_kernels()
    missing = [n for n in names if n in APPENDIX_KERNELS and n not in found]
    if missing:
        targets = " and ".join(f"`make {APPENDIX_KERNELS[n].make_target}`" for n in missing)
        message = f"kernel {', '.join(missing)} not installed: {targets}"
        if os.environ.get("PPML_REQUIRE_KERNELS") == "1":
            pytest.fail(message)
        pytest.skip(message)
