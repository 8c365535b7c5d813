"""ppml_helpers.data.loaders: MNIST and UCI Adult from the data dir, offline errors, checksums.

Expected counts are the ones in the shared data folder's README.md
(checked there against the published IDX headers and the UCI files).
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
import pytest
import torch

from ppml_helpers.data import dataset_status, load_adult, load_adult_frame, load_mnist
from ppml_helpers.data.loaders import ADULT_FILES, MNIST_FILES
from ppml_helpers.errors import ChecksumError, DataNotFoundError

# From the data README.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
ADULT_TRAIN_ROWS, ADULT_TEST_ROWS = 32_561, 16_281
ADULT_TRAIN_POS, ADULT_TEST_POS = 7_841, 3_846

NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = [
    "workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
    "native-country",
]  # fmt: skip
RAW_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
    "native-country", "income",
]  # fmt: skip


@pytest.fixture(scope="module")
def mnist(data_dir):
    return {s: load_mnist(s, data_dir=data_dir, download=False) for s in ("train", "test")}


@pytest.fixture(scope="module")
def adult(data_dir):
    return load_adult(data_dir=data_dir, download=False)


@pytest.fixture(scope="module")
def adult_raw(data_dir):
    """The raw tables read as the data README says, independently of the package."""
    kw = {"header": None, "names": RAW_COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(data_dir / "adult" / "adult.data", **kw)
    test = pd.read_csv(data_dir / "adult" / "adult.test", skiprows=1, **kw)
    return train, test


@pytest.fixture
def offline(monkeypatch):
    """Every URL open fails as it does with no network."""

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


# --- MNIST ----------------------------------------------------------------------------


@pytest.mark.parametrize(("split", "n"), [("train", 60_000), ("test", 10_000)])
def test_mnist_shapes(mnist, split, n):
    images, labels = mnist[split]
    assert (tuple(images.shape), tuple(labels.shape)) == ((n, 1, 28, 28), (n,))


@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_dtypes(mnist, split):
    images, labels = mnist[split]
    assert (images.dtype, labels.dtype) == (torch.float32, torch.int64)


@pytest.mark.parametrize("split", ["train", "test"])
def test_mnist_pixels_in_unit_interval_using_full_range(mnist, split):
    images, _ = mnist[split]
    # MNIST digits are white (255) on black (0): both ends of [0, 1] occur.
    assert (float(images.min()), float(images.max())) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("split", "expected"), [("train", MNIST_TRAIN_COUNTS), ("test", MNIST_TEST_COUNTS)]
)
def test_mnist_label_counts_match_readme(mnist, split, expected):
    _, labels = mnist[split]
    assert np.bincount(labels.numpy(), minlength=10).tolist() == expected


def test_mnist_pixels_are_bytes_over_255(mnist, data_dir):
    images, _ = mnist["test"]
    raw = (data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte").read_bytes()
    first = np.frombuffer(raw, dtype=np.uint8, count=28 * 28, offset=16).reshape(28, 28)
    np.testing.assert_allclose(images[0, 0].numpy(), first / 255.0, rtol=0, atol=1e-7)


@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_mnist_bad_split_raises(split, data_dir):
    with pytest.raises(ValueError, match="split"):
        load_mnist(split, data_dir=data_dir, download=False)


# --- Adult ----------------------------------------------------------------------------


def test_adult_row_counts(adult):
    assert (len(adult.x_train), len(adult.y_train), len(adult.x_test), len(adult.y_test)) == (
        ADULT_TRAIN_ROWS, ADULT_TRAIN_ROWS, ADULT_TEST_ROWS, ADULT_TEST_ROWS,
    )  # fmt: skip


def test_adult_positive_label_counts(adult):
    assert (int(adult.y_train.sum()), int(adult.y_test.sum())) == (ADULT_TRAIN_POS, ADULT_TEST_POS)


def test_adult_frame_is_the_raw_table(adult_raw, data_dir):
    for split, raw in zip(("train", "test"), adult_raw, strict=True):
        frame = load_adult_frame(split, data_dir=data_dir, download=False)
        assert len(frame) == len(raw)
        pd.testing.assert_series_equal(frame["age"], raw["age"])
        assert set(frame["income"]) == {">50K", "<=50K"}
    train = load_adult_frame("train", data_dir=data_dir, download=False)
    assert int((train["income"] == ">50K").sum()) == ADULT_TRAIN_POS


def test_adult_frame_refuses_a_bad_split(data_dir):
    with pytest.raises(ValueError, match="split"):
        load_adult_frame("validation", data_dir=data_dir)


def test_adult_labels_are_binary_int64(adult):
    assert adult.y_train.dtype == np.int64
    assert set(np.unique(adult.y_train)) | set(np.unique(adult.y_test)) == {0, 1}


def test_adult_features_are_float32(adult):
    assert (adult.x_train.dtype, adult.x_test.dtype) == (np.float32, np.float32)


def test_adult_has_105_features(adult):
    # 6 numeric columns + the non-missing categories seen in adult.data: workclass 8,
    # education 16, marital-status 7, occupation 14, relationship 6, race 5, sex 2,
    # native-country 41 ("?" encodes as all zeros, not as a column of its own).
    assert adult.x_train.shape[1] == adult.x_test.shape[1] == 6 + 8 + 16 + 7 + 14 + 6 + 5 + 2 + 41


def test_adult_feature_names_match_columns(adult):
    assert len(adult.feature_names) == adult.x_train.shape[1]
    assert len(set(adult.feature_names)) == len(adult.feature_names)


def _numeric_columns(adult):
    return [adult.feature_names.index(c) for c in NUMERIC]


def test_adult_train_numeric_columns_are_standardised(adult):
    cols = adult.x_train[:, _numeric_columns(adult)].astype(np.float64)
    np.testing.assert_allclose(cols.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(cols.std(axis=0), 1.0, atol=1e-4)


def test_adult_test_numeric_columns_use_train_statistics(adult, adult_raw):
    train_raw, test_raw = adult_raw
    mean, std = train_raw[NUMERIC].mean(), train_raw[NUMERIC].std(ddof=0)
    expected = ((test_raw[NUMERIC] - mean) / std).to_numpy(np.float64)
    got = adult.x_test[:, _numeric_columns(adult)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_adult_test_numeric_columns_are_not_refitted(adult):
    # Fitted on the test split itself, every column mean would be ~0; train-fitted ones are not.
    means = adult.x_test[:, _numeric_columns(adult)].astype(np.float64).mean(axis=0)
    assert np.abs(means).max() > 1e-3


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("column", CATEGORICAL)
def test_adult_one_hot_block_sums_to_at_most_one(adult, split, column):
    x = adult.x_train if split == "train" else adult.x_test
    block = [i for i, n in enumerate(adult.feature_names) if n.startswith(column + "=")]
    sums = x[:, block].sum(axis=1)
    assert len(block) >= 2
    assert set(np.unique(x[:, block])) <= {0.0, 1.0}
    assert sums.max() <= 1.0


@pytest.mark.parametrize("column", CATEGORICAL)
def test_adult_one_hot_marks_the_raw_value(adult, adult_raw, column):
    train_raw, _ = adult_raw
    present = train_raw[column].notna().to_numpy()
    names = [f"{column}={v}" for v in train_raw.loc[present, column]]
    idx = np.array([adult.feature_names.index(n) for n in names])
    assert np.all(adult.x_train[np.flatnonzero(present), idx] == 1.0)


# --- missing, offline, corrupted -------------------------------------------------------


def _assert_clear_missing_error(message: str, missing_names):
    for name in missing_names:
        assert name in message
    assert "PPML_DATA_DIR" in message
    assert "ppml data download" in message


def test_mnist_missing_without_download_lists_files(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("train", data_dir=tmp_path, download=False)
    _assert_clear_missing_error(str(info.value), MNIST_FILES)


def test_adult_missing_without_download_lists_files(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        load_adult(data_dir=tmp_path, download=False)
    _assert_clear_missing_error(str(info.value), ADULT_FILES)


def test_adult_partly_missing_lists_only_missing_file(tmp_path, data_dir):
    (tmp_path / "adult").mkdir()
    shutil.copy(data_dir / "adult" / "adult.data", tmp_path / "adult" / "adult.data")
    with pytest.raises(DataNotFoundError) as info:
        load_adult(data_dir=tmp_path, download=False)
    assert "adult.test" in str(info.value)
    assert "adult.data" not in str(info.value)


def test_data_not_found_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_adult(data_dir=tmp_path, download=False)


def test_mnist_offline_download_gives_clear_error(tmp_path, offline):
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("test", data_dir=tmp_path, download=True)
    _assert_clear_missing_error(str(info.value), MNIST_FILES)


def test_adult_offline_download_gives_clear_error(tmp_path, offline):
    with pytest.raises(DataNotFoundError) as info:
        load_adult(data_dir=tmp_path, download=True)
    _assert_clear_missing_error(str(info.value), ADULT_FILES)


def test_mnist_download_true_with_files_present_needs_no_network(data_dir, offline):
    images, labels = load_mnist("test", data_dir=data_dir, download=True)
    assert len(images) == len(labels) == 10_000


@pytest.fixture
def adult_copy(tmp_path, data_dir):
    shutil.copytree(data_dir / "adult", tmp_path / "adult")
    for f in (tmp_path / "adult").iterdir():
        f.chmod(0o644)  # the shared copy is read-only
    return tmp_path


def _flip_byte(path, offset: int = 1000):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", sorted(ADULT_FILES))
def test_corrupted_adult_file_raises_checksum_error(adult_copy, name):
    _flip_byte(adult_copy / "adult" / name)
    with pytest.raises(ChecksumError, match=name):
        load_adult(data_dir=adult_copy, download=False)


def test_adult_copy_loads_unchanged(adult_copy, adult):
    # The fixture copy itself is fine: only the flipped byte causes the error above.
    got = load_adult(data_dir=adult_copy, download=False)
    assert got.x_train.shape == adult.x_train.shape


def test_dataset_status_shared_dir_complete(data_dir):
    assert dataset_status(data_dir) == {"MNIST": [], "UCI Adult": []}


def test_dataset_status_empty_dir_lists_everything(tmp_path):
    status = dataset_status(tmp_path)
    assert sorted(p.name for p in status["MNIST"]) == sorted(MNIST_FILES)
    assert sorted(p.name for p in status["UCI Adult"]) == sorted(ADULT_FILES)


def test_dataset_status_defaults_to_ppml_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("PPML_DATA_DIR", str(tmp_path))
    assert all(p.is_relative_to(tmp_path) for p in dataset_status()["MNIST"])
