"""The package without torch, as the PySyft appendix kernel (.venv-syft) uses it: importing
ppml_helpers, setup, report.headline, the A2 self-checks and ppml_helpers.remote work with
torch made unimportable; the exercise checks of notebooks 00-08 load lazily, each from its
own submodule, with the public names unchanged."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap

import pytest

from ppml_helpers import exercises

TORCH_FREE = textwrap.dedent("""
    import importlib.abc, json, sys

    BLOCKED = {"torch", "torchvision", "opacus", "tenseal", "flwr"}

    class NotInstalled(importlib.abc.MetaPathFinder):
        # `import torch` raises ModuleNotFoundError, as in .venv-syft. (Not sys.modules["torch"]
        # = None: SciPy's array-API helpers then read None.Tensor for every array they see.)

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())

    import numpy as np
    import ppml_helpers as ph

    cfg = ph.setup(seed=0)
    first = np.random.rand()
    ph.setup(seed=0)
    repeat = np.random.rand() == first
    head = ph.report.headline("A2_pysyft", fast=cfg.fast, value=1.5, refused=True)
    checks = [
        ph.exercises.check_make_mock(ph.remote.permuted_mock),
        ph.exercises.check_recover_excluded(ph.remote.recover_excluded),
        ph.exercises.check_approve_within_budget(ph.remote.approve_within_budget),
    ]
    try:
        ph.exercises.check_weighted_average  # notebook 01's checks need torch
        torch_check = "loaded"
    except ImportError:
        torch_check = "ImportError"
    print(json.dumps({
        "device": cfg.device, "repeat": bool(repeat), "headline": repr(head),
        "checks": [bool(c) for c in checks], "torch_check": torch_check,
        "torch_loaded": "torch" in sys.modules,
        "dir_complete": set(ph.exercises.__all__) <= set(dir(ph.exercises)),
    }))
""")


def test_package_runs_without_torch(tmp_path):
    env = {**os.environ, "PPML_REPORT_DIR": str(tmp_path), "MPLBACKEND": "Agg"}
    env.pop("PPML_FAST", None)
    proc = subprocess.run([sys.executable, "-c", TORCH_FREE], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "device": "cpu", "repeat": True, "headline": "A2_pysyft (full mode): fast=False, value=1.5, refused=True",
        "checks": [True, True, True], "torch_check": "ImportError", "torch_loaded": False,
        "dir_complete": True,
    }
    written = json.loads((tmp_path / "A2_pysyft.json").read_text())
    assert written == {"notebook": "A2_pysyft", "fast": False, "values": {"fast": False, "value": 1.5, "refused": True}}


def test_importing_exercises_loads_no_notebook_module():
    code = ("import sys; import ppml_helpers.exercises as ex; "
            "print(sorted(m for m in sys.modules if m.startswith('ppml_helpers.exercises.nb') "
            "or m == 'ppml_helpers.exercises.a2' or m == 'torch'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(exercises._LAZY))
def test_each_public_name_comes_from_its_submodule(name):
    module = importlib.import_module(f"ppml_helpers.exercises.{exercises._LAZY[name]}")
    assert name in module.__all__
    assert getattr(exercises, name) is getattr(module, name)


def test_all_is_the_core_names_and_the_lazy_ones():
    core = {"FAIL_MARK", "NOT_ATTEMPTED", "NOT_ATTEMPTED_MARK", "PASS_MARK", "CheckResult"}
    assert sorted(exercises.__all__) == sorted(core | set(exercises._LAZY))


def test_every_check_of_every_submodule_is_public():
    for sub in exercises._SUBMODULES:
        module = importlib.import_module(f"ppml_helpers.exercises.{sub}")
        checks = {n for n in module.__all__ if n.startswith("check_") or n.isupper()}
        assert checks <= set(exercises.__all__), f"{sub}: {sorted(checks - set(exercises.__all__))}"
    assert set(exercises.__all__) <= set(dir(exercises))
    assert exercises.nb07.__name__ == "ppml_helpers.exercises.nb07"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="check_nothing"):
        exercises.check_nothing  # noqa: B018
