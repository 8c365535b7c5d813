"""ppml_helpers.config: seeding, PPML_FAST, the data and report dirs, the frozen Config."""

from __future__ import annotations

import dataclasses
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ppml_helpers import config
from ppml_helpers.config import Config


@pytest.fixture
def clean_env(monkeypatch):
    """No course variables set, whatever the calling shell exported."""
    for name in ("PPML_FAST", "PPML_DATA_DIR", "PPML_REPORT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _draws():
    return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()


# --- seeding --------------------------------------------------------------------------


def test_setup_makes_python_numpy_and_torch_draws_repeat(clean_env):
    config.setup(seed=123, theme=False)
    first = _draws()
    config.setup(seed=123, theme=False)
    second = _draws()
    assert first == second


def test_different_seeds_give_different_draws(clean_env):
    config.setup(seed=1, theme=False)
    first = _draws()
    config.setup(seed=2, theme=False)
    second = _draws()
    assert all(a != b for a, b in zip(first, second, strict=True))


def test_seed_everything_accepts_seeds_beyond_numpy_32_bit_range():
    config.seed_everything(2**40)
    first = np.random.rand()
    config.seed_everything(2**40)
    assert np.random.rand() == first


@pytest.mark.parametrize("seed", [-1, 1.5, "3", None, True])
def test_bad_seed_raises_naming_seed(seed, clean_env):
    with pytest.raises(ValueError, match="seed"):
        config.setup(seed=seed, theme=False)


# --- fast mode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True), ("true", True), ("TRUE", True), ("yes", True), ("on", True), (" 1 ", True),
        ("0", False), ("false", False), ("no", False), ("off", False), ("", False),
    ],
)  # fmt: skip
def test_fast_mode_parses_documented_values(raw, expected):
    assert config.fast_mode({"PPML_FAST": raw}) is expected


def test_fast_mode_unset_is_false():
    assert config.fast_mode({}) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "ture", "fast"])
def test_fast_mode_typo_raises_naming_the_variable(raw):
    with pytest.raises(ValueError, match="PPML_FAST"):
        config.fast_mode({"PPML_FAST": raw})


def test_fast_mode_reads_os_environ_by_default(clean_env):
    clean_env.setenv("PPML_FAST", "1")
    assert config.fast_mode() is True


def test_setup_with_unreadable_fast_mode_raises(clean_env):
    clean_env.setenv("PPML_FAST", "maybe")
    with pytest.raises(ValueError, match="PPML_FAST"):
        config.setup(seed=0, theme=False)


# --- data dir and report dir ----------------------------------------------------------


def test_data_dir_comes_from_ppml_data_dir(tmp_path):
    assert config.data_dir({"PPML_DATA_DIR": str(tmp_path)}) == tmp_path


def test_data_dir_expands_user(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.data_dir({"PPML_DATA_DIR": "~/datasets"}) == tmp_path / "datasets"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG cache layout is the Linux default")
@pytest.mark.parametrize("raw", [None, "", "   "])
def test_data_dir_defaults_to_xdg_cache(raw, clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    environ = {} if raw is None else {"PPML_DATA_DIR": raw}
    assert config.data_dir(environ) == tmp_path / "cache" / "ppml"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG cache layout is the Linux default")
def test_data_dir_default_without_xdg_is_home_cache(clean_env, tmp_path):
    clean_env.delenv("XDG_CACHE_HOME", raising=False)
    clean_env.setenv("HOME", str(tmp_path))
    assert config.data_dir({}) == tmp_path / ".cache" / "ppml"


def test_report_dir_from_env(tmp_path):
    assert config.report_dir({"PPML_REPORT_DIR": str(tmp_path)}) == tmp_path


@pytest.mark.parametrize("environ", [{}, {"PPML_REPORT_DIR": ""}, {"PPML_REPORT_DIR": "  "}])
def test_report_dir_unset_is_none(environ):
    assert config.report_dir(environ) is None


def test_setup_reads_environment_into_config(clean_env, tmp_path):
    clean_env.setenv("PPML_FAST", "1")
    clean_env.setenv("PPML_DATA_DIR", str(tmp_path / "data"))
    clean_env.setenv("PPML_REPORT_DIR", str(tmp_path / "report"))
    cfg = config.setup(seed=7, theme=False)
    assert (cfg.seed, cfg.fast, cfg.data_dir, cfg.report_dir) == (
        7, True, tmp_path / "data", tmp_path / "report",
    )  # fmt: skip


def test_setup_device_matches_cuda_availability(clean_env):
    cfg = config.setup(seed=0, theme=False)
    assert cfg.device.type == ("cuda" if torch.cuda.is_available() else "cpu")


# --- Config ---------------------------------------------------------------------------


def _cfg(fast: bool) -> Config:
    return Config(
        seed=0, device=torch.device("cpu"), fast=fast, data_dir=Path("."), report_dir=None
    )


def test_config_is_frozen():
    cfg = _cfg(fast=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1


@pytest.mark.parametrize(("fast", "expected"), [(True, "small"), (False, "large")])
def test_pick_chooses_by_fast_mode(fast, expected):
    assert _cfg(fast).pick(fast="small", full="large") == expected


def test_pick_is_keyword_only():
    with pytest.raises(TypeError):
        _cfg(True).pick("small", "large")
