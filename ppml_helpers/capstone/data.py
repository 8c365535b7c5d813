"""The consortium's data: five hospitals holding disjoint patients of the Wisconsin Diagnostic
Breast Cancer data, each with its own train / validation / test split and its own file.

The data are scikit-learn's copy of WDBC (``load_breast_cancer``, shipped inside the wheel, so
nothing is downloaded): 569 patients, 30 features computed from a digitised image of a fine
needle aspirate of a breast mass, malignant (212) or benign (357). They are image-*derived*
features, not images: a model on 31 parameters trains in milliseconds on a laptop CPU, so the
notebook can afford five seeds, three privacy levels, four trust configurations and the
attacks. The label here is 1 for malignant (the finding to detect), the reverse of sklearn's.

Preprocessing uses no statistic of the training run: each feature goes through ``log1p`` and
is mapped onto [−1, 1] with a fixed per-feature range (clipped there). A scaler fitted on the
data (mean and standard deviation) would make every patient's features depend on every other
patient, so one record could move all gradients and the DP analysis would not hold; a
per-record transform with fixed constants keeps the sensitivity of one patient to one
gradient. The ranges are the published minimum rounded *down* and maximum rounded *up* to one
significant digit: the dataset's documentation publishes each feature's exact minimum and
maximum, which are values of real (outlier) patients, so we widen them to round numbers a
clinician could state without looking at these patients; the privacy report says where they
come from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import check_seed

__all__ = [
    "DEFAULT_CLASS_SHARES",
    "Hospital",
    "feature_ranges",
    "load_hospital",
    "load_wdbc",
    "pooled",
    "preprocess",
    "published_ranges",
    "save_hospitals",
    "split_hospitals",
]

#: How the malignant and the benign patients are dealt to the five hospitals: a referral centre
#: (hospital 0) sees many malignant cases, a community hospital (4) few, so sizes and class mix
#: both differ. Each row sums to 1.
DEFAULT_CLASS_SHARES = {
    "malignant": (0.40, 0.25, 0.15, 0.12, 0.08),
    "benign": (0.20, 0.30, 0.20, 0.15, 0.15),
}

_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Hospital:
    """One hospital's patients, already preprocessed; labels are 1 for malignant."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_patients(self) -> int:
        return len(self.y_train) + len(self.y_val) + len(self.y_test)

    @property
    def malignant_share(self) -> float:
        ys = np.concatenate([self.y_train, self.y_val, self.y_test])
        return float(ys.mean())

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of ``"train"``, ``"val"`` or ``"test"``."""
        if which not in _SPLITS:
            raise ValueError(f"which must be one of {_SPLITS}. Got {which!r}.")
        return getattr(self, f"x_{which}"), getattr(self, f"y_{which}")

    def __repr__(self) -> str:
        return (f"Hospital({self.name!r}, train={len(self.y_train)}, val={len(self.y_val)}, "
                f"test={len(self.y_test)}, malignant={self.malignant_share:.0%})")


def published_ranges() -> np.ndarray:
    """The exact (min, max) of each of the 30 features, read from the dataset's documentation.

    Parsed from the "Summary Statistics" table of ``load_breast_cancer().DESCR``, so the
    numbers are the ones scikit-learn ships, in the order of ``feature_names``.
    """
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    rows = re.findall(r"^([a-z ]+\((?:mean|standard error|worst)\)):\s+([\d.]+)\s+([\d.]+)\s*$",
                      bunch.DESCR, flags=re.MULTILINE)
    if len(rows) != bunch.data.shape[1]:
        raise RuntimeError(f"expected {bunch.data.shape[1]} feature ranges in the dataset's "
                           f"description, found {len(rows)}: scikit-learn changed its DESCR.")
    return np.array([[float(lo), float(hi)] for _, lo, hi in rows])


def _round(x: float, up: bool) -> float:
    """``x`` rounded up (or down) to one significant digit: 28.11 -> 30, 6.981 -> 6, 0 -> 0."""
    if x == 0:
        return 0.0
    step = 10.0 ** np.floor(np.log10(x))
    return float((np.ceil if up else np.floor)(round(x / step, 9)) * step)


def feature_ranges() -> np.ndarray:
    """The fixed range of each feature used by :func:`preprocess`: the published minimum rounded
    down and maximum rounded up to one significant digit (radius [6, 30], area [100, 3000]), so
    that no range end is a patient's exact value (0, the floor of a measure, aside)."""
    # Half a unit of the table's last decimal first: it prints three decimals, so its minimum can sit
    # just above the real one (0.001 printed for 0.000895).
    return np.array([[_round(max(lo - 5e-4, 0.0), up=False), _round(hi + 5e-4, up=True)]
                     for lo, hi in published_ranges()])


def preprocess(x, ranges=None) -> np.ndarray:
    """Map raw WDBC features onto [−1, 1], one patient at a time: log1p, public range, clip."""
    x = np.asarray(x, dtype=np.float64)
    ranges = feature_ranges() if ranges is None else np.asarray(ranges, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(ranges):
        raise ValueError(f"x must have shape (patients, {len(ranges)}). Got {x.shape}.")
    if (x < 0).any():
        raise ValueError("x must be non-negative (every WDBC feature is a size, a count or a ratio).")
    lo, hi = np.log1p(ranges[:, 0]), np.log1p(ranges[:, 1])
    return np.clip(2 * (np.log1p(x) - lo) / (hi - lo) - 1, -1.0, 1.0)


def load_wdbc() -> tuple[np.ndarray, np.ndarray]:
    """All 569 patients, preprocessed (:func:`preprocess`), with y = 1 for malignant."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    malignant = int(np.flatnonzero(bunch.target_names == "malignant")[0])
    return preprocess(bunch.data), (bunch.target == malignant).astype(np.int64)


def _check_shares(shares, num_hospitals: int) -> dict[str, np.ndarray]:
    out = {}
    for label in ("malignant", "benign"):
        if label not in shares:
            raise ValueError(f"class_shares must have keys 'malignant' and 'benign'. Got {sorted(shares)}.")
        row = np.asarray(shares[label], dtype=np.float64)
        if row.shape != (num_hospitals,) or (row <= 0).any() or not np.isclose(row.sum(), 1.0):
            raise ValueError(f"class_shares[{label!r}] must be {num_hospitals} positive shares summing "
                             f"to 1. Got {shares[label]!r}.")
        out[label] = row
    return out


def _deal(indices: np.ndarray, shares: np.ndarray) -> list[np.ndarray]:
    """Cut shuffled ``indices`` into consecutive pieces of the given shares (largest remainders)."""
    raw = shares * len(indices)
    counts = np.floor(raw).astype(int)
    for i in np.argsort(raw - counts)[::-1][: len(indices) - counts.sum()]:
        counts[i] += 1
    return np.split(indices, np.cumsum(counts)[:-1])


def split_hospitals(*, class_shares=None, fractions=(0.6, 0.2, 0.2), seed: int = 0,
                    data=None) -> list[Hospital]:
    """Deal the patients to hospitals (non-IID in size and class mix), then split each one.

    Args:
        class_shares: ``{"malignant": shares, "benign": shares}``, one share per hospital
            each; default :data:`DEFAULT_CLASS_SHARES` (five hospitals).
        fractions: train, validation and test fractions inside every hospital, stratified by
            class; positive, summing to 1.
        seed: the shuffle; the same seed gives the same hospitals.
        data: ``(x, y)`` to deal instead of :func:`load_wdbc` (tests).

    Raises:
        ValueError: shares or fractions that do not sum to 1, or a hospital left without
            patients in some split (names the hospital, the split and its count).
    """
    seed = check_seed(seed)
    shares = DEFAULT_CLASS_SHARES if class_shares is None else class_shares
    num_hospitals = len(shares.get("malignant", ()))
    if num_hospitals < 2:
        raise ValueError(f"class_shares must describe at least 2 hospitals. Got {shares!r}.")
    shares = _check_shares(shares, num_hospitals)
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.shape != (3,) or (fractions <= 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be three positive numbers (train, val, test) summing to 1. "
                         f"Got {tuple(fractions)}.")
    x, y = load_wdbc() if data is None else (np.asarray(data[0], float), np.asarray(data[1], np.int64))
    rng = np.random.default_rng(seed)
    parts: list[dict[str, list[np.ndarray]]] = [{s: [] for s in _SPLITS} for _ in range(num_hospitals)]
    for label, value in (("malignant", 1), ("benign", 0)):
        pool = rng.permutation(np.flatnonzero(y == value))
        for h, piece in enumerate(_deal(pool, shares[label])):
            for split, idx in zip(_SPLITS, _deal(piece, fractions), strict=True):
                parts[h][split].append(idx)
    hospitals = []
    for h, part in enumerate(parts):
        arrays = {}
        for split in _SPLITS:
            idx = np.sort(np.concatenate(part[split]))
            if idx.size == 0:
                raise ValueError(f"hospital {h} has no patients in its {split} split; "
                                 "give it larger shares or change the fractions.")
            arrays[f"x_{split}"], arrays[f"y_{split}"] = x[idx], y[idx]
        hospitals.append(Hospital(name=f"hospital_{h}", **arrays))
    return hospitals


def pooled(hospitals, which: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """One split of every hospital stacked: what a trusted curator would hold."""
    xs, ys = zip(*(h.split(which) for h in hospitals), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def save_hospitals(hospitals, folder) -> list[Path]:
    """Write each hospital to ``folder/<name>.npz``, one file per hospital; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for h in hospitals:
        path = folder / f"{h.name}.npz"
        np.savez(path, **{f"{k}_{s}": getattr(h, f"{k}_{s}") for s in _SPLITS for k in ("x", "y")})
        paths.append(path)
    return paths


def load_hospital(path) -> Hospital:
    """Read one hospital's file (what a SuperNode with ``data-path`` does); refuse an empty one."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data-path {str(path)!r} is not a file; write the hospitals with "
                                "save_hospitals() first.")
    with np.load(path) as f:
        missing = [f"{k}_{s}" for s in _SPLITS for k in ("x", "y") if f"{k}_{s}" not in f]
        if missing:
            raise ValueError(f"{path} is not a hospital file: arrays {missing} are missing.")
        arrays = {name: f[name] for name in f.files}
    for s in _SPLITS:
        if len(arrays[f"y_{s}"]) == 0:
            raise ValueError(f"{path} holds no patients in its {s} split: a hospital with no data "
                             "cannot take part.")
    return Hospital(name=path.stem, **{k: arrays[k] for k in arrays if k[:2] in ("x_", "y_")})
