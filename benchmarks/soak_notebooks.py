"""Soak the notebook tests: run them again and again and count kernel hangs.

A hang (the kernel idle, nbclient waiting for a reply that never comes) is
intermittent, so one green run proves nothing. This runs
``pytest tests/test_notebooks.py`` ``--passes`` times in fresh processes and
sorts every failed test into a *hang* (``NotebookExecutionTimeout`` with the
kernel idle past the per-cell timeout, or dead) or another failure (a slow
cell included), printing the first line of each, and prints the versions of
the packages between nbclient and the kernel.

    python benchmarks/soak_notebooks.py --passes 10       # make soak PASSES=10

Each pass is also bounded as a whole (``--pass-timeout``), so even a hang the
per-cell timeout missed is counted, not waited for. Exit 1 on any hang.

A pass takes about as long as the notebook tests in CI. Two soaks side by side
(say one per kernel version) on a 2-core machine oversubscribe torch's threads
and each runs several times slower: give each ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("ipykernel", "nbclient", "jupyter_client", "pyzmq", "tornado", "ipython")
# The runner's words for a kernel that sat idle past the timeout, or died; a busy kernel past
# it ("the kernel was busy") is a slow cell, counted with the other failures.
HANG_MARKS = ("the kernel sat idle", "the kernel died")


def _versions() -> str:
    found = []
    for name in VERSIONS:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def _classify(junit: Path) -> tuple[int, list[str], list[str]]:
    """(tests run, hung tests, otherwise failed tests) from a JUnit XML report; prints why."""
    tree = ET.parse(junit)
    run, hangs, failures = 0, [], []
    for case in tree.iter("testcase"):
        run += 1
        for bad in list(case.iter("failure")) + list(case.iter("error")):
            text = f"{bad.get('message', '')}\n{bad.text or ''}"
            name = case.get("name", "?")
            (hangs if any(m in text for m in HANG_MARKS) else failures).append(name)
            print(f"    {name}: {bad.get('message', '').splitlines()[0][:300] if bad.get('message') else '?'}")
            break
    return run, hangs, failures


def soak(passes: int, tests: str, pass_timeout: float, extra: list[str]) -> int:
    print(f"soak: {passes} passes of {tests}; {_versions()}", flush=True)
    total_hangs, total_failures, started = 0, 0, time.perf_counter()
    for n in range(1, passes + 1):
        with tempfile.TemporaryDirectory(prefix="ppml-soak-") as tmp:
            junit = Path(tmp) / "junit.xml"
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tests,
                   f"--junitxml={junit}", *extra]
            start = time.perf_counter()
            try:
                proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=pass_timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                proc, timed_out = None, True
            seconds = time.perf_counter() - start
            if timed_out:
                run, hangs, failures = 0, ["<whole pass>"], []
            elif not junit.exists():  # pytest itself failed to start
                run, hangs, failures = 0, [], ["<no report>"]
                print((proc.stdout + proc.stderr)[-2000:], file=sys.stderr)
            else:
                run, hangs, failures = _classify(junit)
        total_hangs += len(hangs)
        total_failures += len(failures)
        print(f"pass {n:>2}: {seconds:7.1f} s, {run} tests, {len(hangs)} hung {hangs or ''}, "
              f"{len(failures)} failed {failures or ''}", flush=True)
    minutes = (time.perf_counter() - started) / 60
    print(f"soak done: {passes} passes in {minutes:.1f} min, {total_hangs} hang(s), "
          f"{total_failures} other failure(s); {_versions()}", flush=True)
    return 1 if total_hangs or total_failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=10, help="full passes to run (default 10)")
    parser.add_argument("--tests", default="tests/test_notebooks.py", help="what pytest runs each pass")
    parser.add_argument("--pass-timeout", type=float, default=3600.0,
                        help="seconds one whole pass may take before it counts as hung (default 3600)")
    args, extra = parser.parse_known_args(argv)
    if args.passes < 1:
        parser.error(f"--passes must be at least 1, got {args.passes}")
    return soak(args.passes, args.tests, args.pass_timeout, extra)


if __name__ == "__main__":
    sys.exit(main())
