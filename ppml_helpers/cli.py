"""The ``ppml`` command: ``doctor``, ``data download``, ``build [--check]``, ``run [--fast]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _project_root() -> Path:
    """The course checkout: the current folder if it holds ``solutions/``, else the package's parent."""
    cwd = Path.cwd()
    if (cwd / "solutions").is_dir():
        return cwd
    return Path(__file__).resolve().parent.parent


def _doctor(args) -> int:
    from .doctor import diagnose

    findings = diagnose(project_root=_project_root())
    width = max(len(f.topic) for f in findings)
    for f in findings:
        status = "MISSING" if not f.ok else "WARNING" if f.warning else "ok"
        print(f"{status:<7}  {f.topic:<{width}}  {f.detail}")
    bad = [f for f in findings if not f.ok]
    warned = [f for f in findings if f.ok and f.warning]
    print(f"\n{len(findings) - len(bad) - len(warned)} ok, {len(warned)} warning(s), {len(bad)} missing.")
    return 1 if bad else 0


def _data(args) -> int:
    from .config import data_dir
    from .data import download_all
    from .errors import ChecksumError, DataNotFoundError

    root = Path(args.data_dir) if args.data_dir else data_dir()
    print(f"Checking the course datasets in {root}; downloading what is missing ...")
    try:
        status = download_all(root)
    except (DataNotFoundError, ChecksumError) as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, missing in status.items():
        print(f"{name}: {'complete' if not missing else 'missing ' + str(missing)}")
    return 0 if not any(status.values()) else 1


def _build(args) -> int:
    from .build import build_all
    from .errors import NotebookBuildError

    root = _project_root()
    try:
        report = build_all(root / "solutions", root / "notebooks", check=args.check)
    except NotebookBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for p in report.written:
        print(f"wrote {p.relative_to(root)}")
    for p in report.stale:
        print(f"not in sync with solutions/: {p.relative_to(root)}", file=sys.stderr)
    for p in report.orphans:
        print(f"no source in solutions/ for: {p.relative_to(root)}", file=sys.stderr)
    if not report.ok:
        print("Run `ppml build` to regenerate notebooks/ from solutions/.", file=sys.stderr)
        return 1
    if args.check:
        print("notebooks/ is in sync with solutions/.")
    return 0


def _format_headline(h) -> str:
    if h is None:
        return "(no headline)"
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in h.values.items())


def _with_kernels(paths):
    """``(paths whose kernel is installed or is the course's, [(skipped path, its AppendixKernel)])``."""
    import nbformat

    from .kernels import APPENDIX_KERNELS, installed_kernels, kernel_name

    found, keep, skipped = installed_kernels(), [], []
    for path in paths:
        name = kernel_name(nbformat.read(path, as_version=4))
        if name in APPENDIX_KERNELS and name not in found:
            skipped.append((path, APPENDIX_KERNELS[name]))
        else:
            keep.append(path)
    return keep, skipped


def _run(args) -> int:
    from .runner import run_notebooks

    root = _project_root()
    paths = [Path(p) for p in args.notebooks] or sorted((root / "solutions").glob("*.ipynb"))
    missing = [p for p in paths if not p.is_file()]
    if missing:
        print(f"error: no such notebook: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    if not args.notebooks:  # the whole course: an appendix whose kernel is missing is skipped, and said
        paths, skipped = _with_kernels(paths)
        for path, appendix in skipped:
            print(f"skipping {path.name}: its kernel {appendix.name} is not installed "
                  f"(`make {appendix.make_target}` builds it)", flush=True)
    mode = "fast" if args.fast else "full"
    results = run_notebooks(
        paths, fast=args.fast, timeout=args.timeout,
        progress=lambda p: print(f"running {p.name} ({mode} mode) ...", flush=True),
        save_dir=args.save,
    )
    print(f"\n{'notebook':<32} {'wall time':>10}  headline")
    for r in results:
        status = _format_headline(r.headline) if r.error is None else f"FAILED: {r.error}"
        print(f"{r.path.stem:<32} {r.seconds:>9.1f}s  {status}")
    total = sum(r.seconds for r in results)
    failed = [r for r in results if r.error]
    print(f"\n{len(results)} notebook(s), {total:.1f}s in all, {len(failed)} failed.")
    return 1 if failed else 0


def _site(args) -> int:
    from .site import build_site

    try:
        home = build_site(args.runs, args.out)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"the website is in {args.out}/: open {home} (or serve it: python -m http.server -d {args.out})")
    return 0


def _wheelhouse(args) -> int:
    from . import wheelhouse

    try:
        if args.check:
            for name, missing in wheelhouse.check_platforms(python_version=args.python_version).items():
                print(f"{name:<15} " + ("every pin has a wheel" if not missing else
                                        f"no wheel for {', '.join(missing)}"))
            return 0
        wheels = wheelhouse.download(args.dest, platform=args.platform, python_version=args.python_version)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = sum(w.stat().st_size for w in wheels) / 2**30
    print(f"{len(wheels)} wheels, {size:.1f} GiB, in {args.dest}/ for {args.platform or 'this machine'}, "
          f"Python {args.python_version}. On each laptop: make lab OFFLINE=1 WHEELHOUSE={args.dest}")
    return 0


def _slides(args) -> int:
    from .slides import install_vendor, write_decks

    try:
        vendor = install_vendor(args.vendor) if args.vendor else None
        decks = write_decks(args.source, args.out, vendor=vendor)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(decks)} decks in {args.out}/ (open one in a browser; S opens the speaker notes):")
    for d in decks:
        print(f"  {d}")
    return 0


def _guide(args) -> int:
    from . import guide

    for run_dir in args.record:
        guide.record_timings(run_dir)
    changed = guide.update_guide(check=args.check)
    if args.check and changed:
        print(f"{guide.GUIDE} is stale in {changed}: run `ppml guide`.", file=sys.stderr)
        return 1
    print(f"{guide.GUIDE}: " + (f"rewrote {', '.join(changed)}" if changed else "up to date"))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="ppml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check Python, packages, datasets and the Jupyter kernel")
    data = sub.add_parser("data", help="manage datasets")
    data_sub = data.add_subparsers(dest="action", required=True)
    dl = data_sub.add_parser("download", help="download and verify every course dataset")
    dl.add_argument("--data-dir", help="target folder (default: PPML_DATA_DIR or the cache dir)")
    build = sub.add_parser("build", help="generate notebooks/ from solutions/")
    build.add_argument("--check", action="store_true", help="exit 1 if notebooks/ is stale")
    run = sub.add_parser("run", help="execute notebooks; print wall time and headline numbers")
    run.add_argument("--fast", action="store_true", help="fast mode (PPML_FAST=1)")
    run.add_argument("--timeout", type=int, default=None,
                     help="per-cell timeout in seconds (default: 300 in fast mode, 1800 in full)")
    run.add_argument("--save", metavar="DIR", default=None,
                     help="keep each executed notebook (with outputs) and its headline JSON in DIR")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: solutions/*.ipynb)")
    guide = sub.add_parser("guide", help="regenerate the instructor guide's generated parts (docs/instructor_guide.md)")
    guide.add_argument("--check", action="store_true", help="exit 1 if the guide is stale; write nothing")
    guide.add_argument("--record", metavar="RUN_DIR", action="append", default=[],
                       help="first merge RUN_DIR/timings.json (ppml run --save) into docs/timings.json")
    slides = sub.add_parser("slides", help="reveal.js decks of executed notebooks (make slides)")
    slides.add_argument("--source", default="runs/fast", help="folder of executed notebooks (default runs/fast)")
    slides.add_argument("--out", default="slides", help="folder for the decks (default slides/, git-ignored)")
    slides.add_argument("--vendor", default="slides/.vendor",
                        help="folder for the decks' scripts, installed from npm if missing ('' for their CDNs)")
    wh = sub.add_parser("wheelhouse", help="download the locked environment's wheels for an offline install")
    wh.add_argument("--dest", default="wheelhouse", help="folder for the wheels (default wheelhouse/)")
    wh.add_argument("--platform", default=None, help="a room laptop's platform (default: this machine's); "
                    "one of linux-x86_64, linux-aarch64, macos-arm64, macos-x86_64, windows-amd64")
    wh.add_argument("--python-version", default="3.11", help="the laptops' Python (default 3.11)")
    wh.add_argument("--check", action="store_true",
                    help="ask the package index which pins lack a wheel on each platform; download nothing")
    site = sub.add_parser("site", help="build the course as a website (make site)")
    site.add_argument("--runs", default="runs/fast", help="executed notebooks (default runs/fast; runs/full for FULL=1)")
    site.add_argument("--out", default="build/site", help="where the website goes (default build/site)")
    from .interview import terminal

    terminal.add_arguments(sub.add_parser(
        "quiz", help="practise the interview question bank (progress shared with notebook 09)"))
    args = parser.parse_args(argv)
    handlers = {"doctor": _doctor, "data": _data, "build": _build, "run": _run, "quiz": terminal.run,
                "guide": _guide, "slides": _slides,
                "wheelhouse": _wheelhouse, "site": _site}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
