"""The hospital consortium of ``08_capstone_hospitals``: its data, trust configurations, noise
shares, accounting and the generated formal privacy analysis."""

from .data import (
    DEFAULT_CLASS_SHARES,
    Hospital,
    feature_ranges,
    load_hospital,
    load_wdbc,
    pooled,
    preprocess,
    save_hospitals,
    split_hospitals,
)

__all__ = [
    "DEFAULT_CLASS_SHARES",
    "Hospital",
    "feature_ranges",
    "load_hospital",
    "load_wdbc",
    "pooled",
    "preprocess",
    "save_hospitals",
    "split_hospitals",
]
