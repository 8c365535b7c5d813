"""ppml_helpers.report: headline numbers written to PPML_REPORT_DIR and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ppml_helpers.report import Headline, headline, read_headlines


@pytest.fixture
def report_env(monkeypatch, tmp_path):
    monkeypatch.delenv("PPML_FAST", raising=False)
    out = tmp_path / "report"
    monkeypatch.setenv("PPML_REPORT_DIR", str(out))
    return out


@pytest.fixture
def no_report_env(monkeypatch):
    monkeypatch.delenv("PPML_FAST", raising=False)
    monkeypatch.delenv("PPML_REPORT_DIR", raising=False)


def test_headline_writes_json_named_after_notebook(report_env):
    headline("00_threat_models", accuracy=0.9, rounds=3)
    data = json.loads((report_env / "00_threat_models.json").read_text())
    assert data == {
        "notebook": "00_threat_models",
        "fast": False,
        "values": {"accuracy": 0.9, "rounds": 3},
    }


def test_headline_creates_missing_report_dir(report_env):
    assert not report_env.exists()
    headline("nb", x=1)
    assert (report_env / "nb.json").is_file()


def test_headline_writes_nothing_when_unset(no_report_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = headline("nb", x=1)
    assert list(tmp_path.rglob("*")) == []
    assert result.values == {"x": 1}


def test_headline_records_fast_mode(report_env, monkeypatch):
    monkeypatch.setenv("PPML_FAST", "1")
    result = headline("nb", x=1)
    assert result.fast is True
    assert json.loads((report_env / "nb.json").read_text())["fast"] is True


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [
        (np.float32(0.5), 0.5, float),
        (np.float64(0.25), 0.25, float),
        (np.int64(7), 7, int),
        (np.int8(-3), -3, int),
        (np.bool_(True), True, bool),
        (torch.tensor(0.75), 0.75, float),
        (torch.tensor(12), 12, int),
        (torch.tensor(True), True, bool),
        (np.array(1.5), 1.5, float),
        (True, True, bool),
        (None, None, type(None)),
        ("text", "text", str),
    ],
    ids=lambda v: type(v).__name__,
)
def test_headline_converts_scalars_to_plain_python(no_report_env, value, expected, kind):
    got = headline("nb", v=value).values["v"]
    assert got == expected and type(got) is kind


def test_headline_converted_values_are_json_serialisable(report_env):
    headline("nb", a=np.float32(0.5), b=torch.tensor(3), c=np.bool_(False))
    data = json.loads((report_env / "nb.json").read_text())
    assert data["values"] == {"a": 0.5, "b": 3, "c": False}


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -float("inf"), np.float64("nan"), torch.tensor(float("nan"))],
    ids=["nan", "inf", "-inf", "np_nan", "torch_nan"],
)
def test_headline_non_finite_raises_naming_key(no_report_env, value):
    with pytest.raises(ValueError, match="accuracy"):
        headline("nb", accuracy=value)


@pytest.mark.parametrize(
    "value",
    [[0.1, 0.2], {"a": 1}, np.array([1.0, 2.0]), torch.tensor([1.0, 2.0]), object()],
    ids=["list", "dict", "np_vector", "torch_vector", "object"],
)
def test_headline_non_scalar_raises_type_error_naming_key(no_report_env, value):
    with pytest.raises(TypeError, match="losses"):
        headline("nb", losses=value)


def test_headline_bad_value_writes_nothing(report_env):
    with pytest.raises(TypeError):
        headline("nb", ok=1, bad=[1])
    assert not (report_env / "nb.json").exists()


@pytest.mark.parametrize("name", ["", "a/b"])
def test_headline_bad_notebook_name_raises(no_report_env, name):
    with pytest.raises(ValueError, match="notebook"):
        headline(name, x=1)


def test_read_headlines_round_trips(report_env, monkeypatch):
    first = headline("00_a", accuracy=0.875, label="x", flag=None)
    monkeypatch.setenv("PPML_FAST", "1")
    second = headline("01_b", epsilon=np.float64(2.5), rounds=torch.tensor(10))
    found = read_headlines(report_env)
    assert found == {"00_a": first, "01_b": second}


def test_read_headlines_empty_folder(tmp_path):
    assert read_headlines(tmp_path) == {}


def test_headline_repr_shows_values_and_mode():
    h = Headline("nb", {"accuracy": 0.123456, "rounds": 3}, fast=True)
    assert repr(h) == "nb (fast mode): accuracy=0.1235, rounds=3"


def test_headline_html_has_one_row_per_value():
    html = Headline("nb", {"a": 1, "b": 2.0}, fast=False)._repr_html_()
    assert html.count("<tr>") == 2 and "full mode" in html


def test_read_headlines_skips_the_run_s_timings(tmp_path):
    """ppml run --save writes timings.json beside the headlines; it is not a headline."""
    (tmp_path / "03_x.json").write_text(json.dumps({"notebook": "03_x", "fast": True, "values": {"a": 1}}))
    (tmp_path / "timings.json").write_text(json.dumps({"03_x": {"seconds": 1.0, "fast": True}}))
    assert read_headlines(tmp_path) == {"03_x": Headline("03_x", {"a": 1}, True)}
