"""Dataset loaders: MNIST through torchvision, UCI Adult through pandas.

Both read from a data directory laid out as the standard tools expect::

    <data_dir>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
    <data_dir>/adult/adult.data, adult.test

On a connected machine a missing dataset is downloaded and its checksum
verified; offline and missing, a :class:`DataNotFoundError` names the missing
files and the two ways out (``ppml data download`` on a connected machine, or
``PPML_DATA_DIR`` pointing at a copy).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..config import data_dir as _default_data_dir
from ..errors import ChecksumError, DataNotFoundError

__all__ = [
    "ADULT_FILES",
    "MNIST_FILES",
    "TabularData",
    "dataset_status",
    "download_all",
    "load_adult",
    "load_adult_frame",
    "load_mnist",
]

#: Files torchvision reads from ``<data_dir>/MNIST/raw`` (it checks these names).
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

_ADULT_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
#: UCI Adult files under ``<data_dir>/adult`` with their published MD5 checksums.
ADULT_FILES = {
    "adult.data": "5d7c39d7b8804f071cdd1f2a7c460872",
    "adult.test": "35238206dfdf7f1fe215bbb874adecdc",
}

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
)  # fmt: skip
ADULT_NUMERIC = ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
ADULT_CATEGORICAL = tuple(c for c in ADULT_COLUMNS[:-1] if c not in ADULT_NUMERIC)

_HOW_TO_GET = (
    "Run `ppml data download` (or `make data`) on a machine with internet, "
    "or set PPML_DATA_DIR to a folder that holds a copy."
)


def _root(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else _default_data_dir()


def _missing_error(name: str, root: Path, missing: list[Path], cause: str) -> DataNotFoundError:
    files = "\n".join(f"  - {p}" for p in missing)
    return DataNotFoundError(
        f"{name} is not available under the data dir {root} ({cause}). Missing:\n"
        f"{files}\n{_HOW_TO_GET}"
    )


def _check_split(split: str) -> bool:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'. Got {split!r}.")
    return split == "train"


def _mnist_missing(root: Path) -> list[Path]:
    raw = root / "MNIST" / "raw"
    return [raw / f for f in MNIST_FILES if not (raw / f).exists()]


def load_mnist(split: str = "train", *, data_dir=None, download: bool = True):
    """Load MNIST as two tensors, through ``torchvision.datasets.MNIST``.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000).
        data_dir: folder holding ``MNIST/raw``; default the course data dir.
        download: fetch (and MD5-verify, by torchvision) the files when missing.

    Returns:
        ``(images, labels)``: float32 ``N x 1 x 28 x 28`` in ``[0, 1]`` and int64 ``N``.

    Raises:
        ValueError: an unknown split.
        DataNotFoundError: files missing and download off or impossible (offline).
    """
    from torchvision.datasets import MNIST

    train = _check_split(split)
    root = _root(data_dir)
    missing = _mnist_missing(root)
    if missing and not download:
        raise _missing_error("MNIST", root, missing, "download=False")
    try:
        ds = MNIST(root=str(root), train=train, download=download)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError
        raise _missing_error("MNIST", root, _mnist_missing(root), f"download failed: {exc}") from exc
    images = ds.data.unsqueeze(1).to(torch.float32).div_(255.0)
    return images, ds.targets.to(torch.int64).clone()


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    """MD5 of a file, read in chunks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _ensure_adult(root: Path, download: bool) -> Path:
    folder = root / "adult"
    missing = [folder / f for f in ADULT_FILES if not (folder / f).exists()]
    if missing and not download:
        raise _missing_error("UCI Adult", root, missing, "download=False")
    if missing:
        from torchvision.datasets.utils import download_url

        for path in missing:
            try:
                download_url(_ADULT_URL + path.name, str(folder), path.name, ADULT_FILES[path.name])
            except (OSError, RuntimeError) as exc:
                still = [folder / f for f in ADULT_FILES if not (folder / f).exists()]
                raise _missing_error("UCI Adult", root, still, f"download failed: {exc}") from exc
    for name, expected in ADULT_FILES.items():
        got = md5sum(folder / name)
        if got != expected:
            raise ChecksumError(
                f"{folder / name} has MD5 {got}, not the published {expected}. "
                f"Delete it and run `ppml data download` again."
            )
    return folder


def _read_adult(path: Path, *, skip_header: bool) -> pd.DataFrame:
    df = pd.read_csv(
        path,
        header=None,
        names=list(ADULT_COLUMNS),
        skipinitialspace=True,
        na_values="?",
        skiprows=1 if skip_header else 0,
        skip_blank_lines=True,
    )
    df["income"] = df["income"].str.rstrip(".")
    return df


@dataclass(frozen=True)
class TabularData:
    """A tabular dataset split in two, features already encoded.

    Attributes:
        x_train, x_test: float32 ``N x D`` feature matrices.
        y_train, y_test: int64 label vectors.
        feature_names: the ``D`` column names (``"age"``, ``"workclass=Private"``, ...).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]


def _encode_adult(train: pd.DataFrame, test: pd.DataFrame):
    mean = train[list(ADULT_NUMERIC)].mean()
    std = train[list(ADULT_NUMERIC)].std(ddof=0)
    names = list(ADULT_NUMERIC)
    cats = {c: sorted(train[c].dropna().unique()) for c in ADULT_CATEGORICAL}
    for c in ADULT_CATEGORICAL:
        names += [f"{c}={v}" for v in cats[c]]

    def encode(df: pd.DataFrame) -> np.ndarray:
        blocks = [((df[list(ADULT_NUMERIC)] - mean) / std).to_numpy(np.float32)]
        for c in ADULT_CATEGORICAL:
            # Categories fitted on train; "?" (NaN) and unseen values give all zeros.
            codes = pd.Categorical(df[c], categories=cats[c]).codes
            onehot = np.zeros((len(df), len(cats[c])), dtype=np.float32)
            rows = np.flatnonzero(codes >= 0)
            onehot[rows, codes[rows]] = 1.0
            blocks.append(onehot)
        return np.concatenate(blocks, axis=1)

    def labels(df: pd.DataFrame) -> np.ndarray:
        return (df["income"] == ">50K").to_numpy(np.int64)

    return encode(train), labels(train), encode(test), labels(test), tuple(names)


def load_adult(*, data_dir=None, download: bool = True) -> TabularData:
    """Load UCI Adult (census income > $50K) with train-fitted encodings.

    Reads ``adult.data`` (32,561 rows) and ``adult.test`` (16,281 rows; its
    first line is a header to skip and its labels end in a dot). ``?`` marks
    a missing value. The six numeric columns are standardised and the eight
    categorical ones one-hot encoded, both fitted on the training split only
    (a missing or unseen category encodes as all zeros), so nothing about the
    test split leaks into the features.

    Args:
        data_dir: folder holding ``adult/``; default the course data dir.
        download: fetch the files from UCI when missing (MD5-verified).

    Returns:
        :class:`TabularData` with 105 features (6 numeric, 99 one-hot).

    Raises:
        DataNotFoundError: files missing and download off or impossible.
        ChecksumError: a file is present but corrupted.
    """
    folder = _ensure_adult(_root(data_dir), download)
    train = _read_adult(folder / "adult.data", skip_header=False)
    test = _read_adult(folder / "adult.test", skip_header=True)
    x_tr, y_tr, x_te, y_te, names = _encode_adult(train, test)
    return TabularData(x_tr, y_tr, x_te, y_te, names)


def load_adult_frame(split: str = "train", *, data_dir=None, download: bool = True) -> pd.DataFrame:
    """UCI Adult as UCI ships it, one row per person: raw ages, hours, incomes, categories.

    For queries on the raw values (counts, clamped sums and means in
    ``03_differential_privacy``); :func:`load_adult` gives the encoded
    features for training. ``income`` is ``">50K"`` or ``"<=50K"`` in both
    splits (the test file's trailing dot removed); ``?`` is read as missing.

    Args:
        split: ``"train"`` (32,561 rows) or ``"test"`` (16,281 rows).
    """
    train = _check_split(split)
    folder = _ensure_adult(_root(data_dir), download)
    if train:
        return _read_adult(folder / "adult.data", skip_header=False)
    return _read_adult(folder / "adult.test", skip_header=True)


def dataset_status(data_dir=None) -> dict[str, list[Path]]:
    """Which files each dataset is missing under the data dir (empty list: complete)."""
    root = _root(data_dir)
    return {
        "MNIST": _mnist_missing(root),
        "UCI Adult": [root / "adult" / f for f in ADULT_FILES if not (root / "adult" / f).exists()],
    }


def download_all(data_dir=None) -> dict[str, list[Path]]:
    """Fetch every course dataset into the data dir and verify it; return the status."""
    root = _root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    load_mnist("train", data_dir=root, download=True)
    load_mnist("test", data_dir=root, download=True)
    load_adult(data_dir=root, download=True)
    return dataset_status(root)
