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
    published_ranges,
    save_hospitals,
    split_hospitals,
)
from .noise import SharePlan, plan_shares
from .training import CONFIGURATIONS, ConsortiumRun, TrustConfig, evaluate, train_consortium

__all__ = [
    "CONFIGURATIONS",
    "DEFAULT_CLASS_SHARES",
    "ConsortiumRun",
    "Hospital",
    "SharePlan",
    "TrustConfig",
    "evaluate",
    "feature_ranges",
    "load_hospital",
    "load_wdbc",
    "plan_shares",
    "pooled",
    "preprocess",
    "published_ranges",
    "save_hospitals",
    "split_hospitals",
    "train_consortium",
]
