"""Remote data science (appendix ``A2_pysyft``): mock data, differencing, a privacy budget.

PySyft's Datasite lets a researcher run approved code on data they never see. These
are the pieces around it that the notebook reasons with, written plainly for teaching
(torch-free: the PySyft kernel has no torch):

- :func:`permuted_mock`: a mock table the data owner can publish beside the private one,
  each column shuffled on its own (the values of every column stay, the records do not);
- :func:`recover_excluded`: the differencing attack, which turns two exact, approved
  means (with and without some records) into the excluded records' mean;
- :func:`dp_mean`: the bounded mean released with Laplace noise (NumPy's sampler, not
  secure noise: notebook 03 shows why a real release uses Google's library);
- :func:`approve_within_budget`: an owner's ledger that approves noisy requests while
  their ε, summed (basic composition), stays within a budget;
- :func:`deadline`: a notebook cell that talks to a server fails with a message instead
  of hanging.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import signal
import threading
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "approve_within_budget",
    "deadline",
    "differencing_success",
    "dp_mean",
    "permuted_mock",
    "recover_excluded",
]


def _check_rng(rng, name: str = "rng") -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator (np.random.default_rng(seed)). "
                        f"Got {type(rng).__name__}.")
    return rng


def _check_epsilon(epsilon, name: str = "epsilon") -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not (
        math.isfinite(epsilon) and epsilon > 0
    ):
        raise ValueError(f"{name} must be a finite number > 0. Got {epsilon!r}.")
    return float(epsilon)


def permuted_mock(private: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A mock of ``private``: each column permuted independently with ``rng``.

    Every column keeps its exact values (so its marginal distribution, its dtype, and
    code written against it runs on the private table), while rows are no longer real
    records: the relations between columns are gone. It still shows each column's
    values, extremes included, so it is not private in itself: the owner decides.

    Raises:
        TypeError: ``private`` is not a DataFrame or ``rng`` not a NumPy Generator.
    """
    if not isinstance(private, pd.DataFrame):
        raise TypeError(f"private must be a pandas DataFrame. Got {type(private).__name__}.")
    _check_rng(rng)
    n = len(private)
    return pd.DataFrame(
        {col: private[col].iloc[rng.permutation(n)].reset_index(drop=True) for col in private.columns},
        columns=private.columns,
    )


def recover_excluded(mean_all, n_all: int, mean_without, n_without: int):
    """The mean of the records in the first cohort but not the second (one record: its value).

    ``mean_all`` is the exact mean over ``n_all`` records and ``mean_without`` over
    ``n_without`` of them: the ``n_all - n_without`` excluded records sum to
    ``n_all * mean_all - n_without * mean_without``. Works elementwise on NumPy arrays
    and pandas Series (one mean per column).

    Raises:
        ValueError: counts that are not integers with ``0 <= n_without < n_all``.
    """
    for name, n in (("n_all", n_all), ("n_without", n_without)):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise ValueError(f"{name} must be an integer count. Got {n!r}.")
    if not 0 <= n_without < n_all:
        raise ValueError(f"need 0 <= n_without < n_all (the second cohort leaves records out). "
                         f"Got n_all={n_all}, n_without={n_without}.")
    return (n_all * mean_all - n_without * mean_without) / (n_all - n_without)


def dp_mean(values, lower: float, upper: float, epsilon: float, rng: np.random.Generator) -> float:
    """ε-DP mean of ``values`` clamped to ``[lower, upper]``, with the count public.

    Replacing one person's value moves the clamped mean by at most ``(upper - lower) / n``,
    so Laplace noise of scale ``(upper - lower) / (n ε)`` gives ε-DP (replace-one
    neighbours, n public). NumPy's sampler: for teaching, not a production release.

    Raises:
        ValueError: empty ``values``, ``lower >= upper`` or ε not > 0.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("values must not be empty.")
    if not lower < upper:
        raise ValueError(f"need lower < upper. Got lower={lower!r}, upper={upper!r}.")
    epsilon = _check_epsilon(epsilon)
    _check_rng(rng)
    scale = (upper - lower) / (x.size * epsilon)
    return float(np.clip(x, lower, upper).mean() + rng.laplace(0.0, scale))


def differencing_success(others, epsilon: float, trials: int, rng: np.random.Generator) -> float:
    """How often the differencing attack guesses one patient's 0/1 value from two releases.

    The target's value is 0 in half the ``trials`` and 1 in the other half; ``others``
    are everyone else's 0/1 values. Each trial releases the mean over everyone and the
    mean without the target, each with :func:`dp_mean`'s noise at ``epsilon``
    (``epsilon = math.inf``: exact means), rebuilds the target's value with
    :func:`recover_excluded` and guesses 1 when it is above 1/2. Returns the fraction of
    right guesses (1.0 for exact releases; an ε-DP release bounds it by e^ε / (1 + e^ε)).

    Raises:
        ValueError: ``others`` not all 0 or 1, ``trials`` < 2, or ε not > 0.
    """
    others = np.asarray(others, dtype=np.float64).ravel()
    if others.size == 0 or not np.isin(others, (0.0, 1.0)).all():
        raise ValueError("others must be a non-empty array of 0/1 values.")
    if isinstance(trials, bool) or not isinstance(trials, numbers.Integral) or trials < 2:
        raise ValueError(f"trials must be an integer >= 2. Got {trials!r}.")
    exact = epsilon == math.inf
    if not exact:
        epsilon = _check_epsilon(epsilon)
    _check_rng(rng)
    n = others.size + 1
    secret = np.arange(trials) % 2  # half the trials in each world
    mean_all = (others.sum() + secret) / n
    mean_without = np.full(trials, others.mean())
    if not exact:
        mean_all = mean_all + rng.laplace(0.0, 1.0 / (n * epsilon), trials)
        mean_without = mean_without + rng.laplace(0.0, 1.0 / ((n - 1) * epsilon), trials)
    guess = recover_excluded(mean_all, n, mean_without, n - 1) > 0.5
    return float((guess == secret.astype(bool)).mean())


def approve_within_budget(epsilons: Sequence[float], budget: float) -> list[bool]:
    """The owner's ledger: approve each request, in order, if the ε already spent plus its
    own stays within ``budget`` (basic composition: ε adds up); a denied request spends
    nothing, so a later, smaller one may still fit. A total equal to the budget is allowed
    (compared with a relative tolerance of 1e-9, so 0.1 + 0.2 fits a budget of 0.3).

    Raises:
        ValueError: a budget or an ε that is not a finite number > 0.
    """
    budget = _check_epsilon(budget, "budget")
    eps = [_check_epsilon(e, f"epsilons[{i}]") for i, e in enumerate(epsilons)]
    spent, decisions = 0.0, []
    for e in eps:
        ok = spent + e <= budget * (1 + 1e-9)
        decisions.append(ok)
        spent += e if ok else 0.0
    return decisions


@contextlib.contextmanager
def deadline(seconds: int, what: str) -> Iterator[None]:
    """Raise ``TimeoutError`` naming ``what`` if the block runs longer than ``seconds``.

    For notebook cells that wait on a server (PySyft's in-process Datasite): a hang becomes
    a message saying what hung and what to do, instead of a cell that never returns. Uses
    ``SIGALRM``, so it works in the main thread on Linux and macOS (a Jupyter kernel's
    cells run there); elsewhere the block runs without a deadline.

    Raises:
        ValueError: ``seconds`` not a positive integer.
        TimeoutError: the block ran past ``seconds``.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Integral) or seconds <= 0:
        raise ValueError(f"seconds must be a positive integer. Got {seconds!r}.")
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise TimeoutError(
            f"{what} took more than {seconds} s and was stopped. The server may be hung: restart "
            "the kernel (that stops an in-process server too) and run the notebook again.")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
