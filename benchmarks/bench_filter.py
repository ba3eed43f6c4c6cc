"""The filter's grounding reader and its per-record checks, records per second per core, before (revision
8639030, the code the issue "A build that streams" was filed against, loaded from a ``git archive`` copy in a
temporary folder) and after (this checkout), on the demo build's text, in one run.

Each figure is one pass of the per-record checks (``checks.checked``: every check but the near-duplicate
pass across records, the argument check weighing cues by the build's evidence table as the build's filter
stage does) over the demo's records in a fresh process, timed in CPU seconds of that process (so
"per core", and less skewed by other jobs on the machine), after a warm-up on the test suite's rationale
files; the passes of before and after take turns. "cold" empties every cache of the filter's modules before
each record, so no record profits from a sentence read for another: the figure for text that never
repeats. "the same text again" times a second pass over the records in the same process, where every
sentence has been read once already: the figure for text that recurs.

"grounding reader" times ``grounding.grounding_problems`` alone, on each record's rationale and caption (as the
grounding and caption checks call it), in a process of its own: nothing else has read the text before it, so
it splits and reads every sentence itself. Issue 32 asks the grounding reader for at least 2,000 records/s per
core on the demo's text; "per-record checks" is every check but the near-duplicate pass, the grounding reader
included. Last, the template writer's records per CPU-second on the same records (this checkout, in this
process).

    PYTHONPATH=. python benchmarks/bench_filter.py [--build DEMO_BUILD] [--rev REV] [--repeat N] [--compiled]

Without --build the demo is built into a temporary folder first (about a minute).

``--compiled`` compares this checkout with a copy of it whose ``emotioncot/filter`` modules are compiled by Cython
(pure-Python mode, the same source), instead of with --rev: both give the same rows (checked first), so the
ratio is what compiling alone buys. It needs Cython importable (``pip install cython``) and a C compiler.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filter_revisions import ROOT, build_records, checkout, evidence_path, run_worker  # noqa: E402

TARGET = 2000.0  # the grounding reader's records per CPU-second (issue 32)
FILED = "8639030"  # main when issue 32 was filed: the filter before any of its speed-ups


def _rates(runs: dict[str, tuple], records: Path, repeat: int) -> tuple[dict[str, float], dict[str, int]]:
    """Per name, the median records per CPU-second of ``repeat`` passes of ``runs[name]`` (root, extra
    arguments), each in a fresh process; the runs take turns, so that a change of load on the machine
    falls on all of them alike. Also per name, how many records the checks rejected."""
    found: dict[str, list[float]] = {}
    rejected: dict[str, int] = {}
    for _ in range(repeat):
        for name, (root, *extra) in runs.items():
            rate = run_worker(root, "rate", records, *extra)
            found.setdefault(name, []).append(rate["per_core"])
            rejected[name] = rate["rejected"]
            if rate.get("per_core_again"):
                found.setdefault(f"{name}_again", []).append(rate["per_core_again"])
    return {name: statistics.median(rates) for name, rates in found.items()}, rejected


def compiled_copy(folder: Path) -> Path:
    """This checkout's package, prompts and manifests under ``folder`` (returned), with every module of
    ``emotioncot/filter`` compiled in place by Cython."""
    for part in ("emotioncot", "prompts", "manifests"):
        shutil.copytree(ROOT / part, folder / part, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    filter_dir = folder / "emotioncot" / "filter"
    modules = sorted(p.name for p in filter_dir.glob("*.py") if p.name != "__init__.py")
    # annotation_typing off: Cython would otherwise enforce annotations such as list[str] as exact types at
    # run time, and the readers pass tuples where their annotations say list (harmless in Python)
    subprocess.run([sys.executable, "-m", "Cython.Build.Cythonize", "-i", "-3", "-q", "-X", "annotation_typing=False",
                    "-j", str(os.cpu_count() or 1), *modules], cwd=filter_dir, check=True, capture_output=True)
    missing = [m for m in modules if not list(filter_dir.glob(m.removesuffix(".py") + ".*.so"))]
    if missing:
        raise RuntimeError(f"Cython built no extension for {missing}")
    return folder


def _compiled(records: Path, tmp: Path, repeat: int) -> int:
    """``--compiled``: this checkout against its Cython-compiled copy, the same rows first."""
    compiled = compiled_copy(tmp / "compiled")
    pure_rows, compiled_rows = (run_worker(root, "checks", records)["rows"] for root in (ROOT, compiled))
    if pure_rows != compiled_rows:
        print(f"compiled copy gives {sum(a != b for a, b in zip(pure_rows, compiled_rows))} different rows")
        return 1
    rates, _ = _rates({"pure": (ROOT,), "compiled": (compiled,), "pure_cold": (ROOT, "--cold"),
                       "compiled_cold": (compiled, "--cold")}, records, repeat)
    print(f"filter's per-record checks on the demo's text ({len(pure_rows)} records, the same rows and problems both "
          f"ways), records per CPU-second, median of {repeat}:")
    for name, label in (("", ""), ("_cold", ", cold caches"), ("_again", ", the same text again")):
        pure, comp = rates[f"pure{name}"], rates[f"compiled{name}"]
        print(f"  {'pure Python' + label + ':':42s}{pure:8.0f}")
        print(f"  {'compiled (Cython)' + label + ':':42s}{comp:8.0f}   {comp / pure:.2f}x")
    return 0


def _template_rate(records: Path, repeat: int) -> float:
    import json
    import time

    from emotioncot.write.template import write_template

    rows = json.loads(records.read_text(encoding="utf-8"))
    evidence = json.loads(evidence_path(records).read_text(encoding="utf-8"))  # as the build's write stage weighs cues
    t0 = time.process_time()
    for _ in range(repeat):
        for row in rows:
            write_template(row, "aware", evidence)
    return repeat * len(rows) / (time.process_time() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, help="a finished demo build (default: build one)")
    parser.add_argument("--rev", default=FILED, help=f"the revision to compare with (default {FILED}, the issue's)")
    parser.add_argument("--repeat", type=int, default=5, help="fresh-process passes per figure (median)")
    parser.add_argument("--compiled", action="store_true",
                        help="compare with this checkout's filter compiled by Cython instead of with --rev")
    args = parser.parse_args()
    if args.compiled and importlib.util.find_spec("Cython") is None:
        print("--compiled needs Cython (pip install cython) and a C compiler")
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-filter-") as tmp:
        tmp = Path(tmp)
        build = args.build
        if build is None:
            from emotioncot.pipeline import build as run_build

            build = tmp / "demo-build"
            run_build(["demo"], build, progress=False, log=lambda m: None)
        records = tmp / "records.json"
        n = build_records(build, records)
        if args.compiled:
            return _compiled(records, tmp, args.repeat)
        before_root = checkout(args.rev, tmp / "before")
        runs = {}
        for part, flags in (("grounding", ("--grounding",)), ("checks", ())):
            for side, root in (("before", before_root), ("after", ROOT)):
                runs[f"{part}_{side}"] = (root, *flags)
                runs[f"{part}_{side}_cold"] = (root, *flags, "--cold")
        rates, rejected = _rates(runs, records, args.repeat)
        template = _template_rate(records, args.repeat)
    print(f"the filter on the demo's text ({n} records, {build}, with its evidence table), records per CPU-second, "
          f"median of {args.repeat} fresh processes; before is {args.rev}, after this checkout; records rejected by "
          f"the per-record checks: {rejected['checks_before']} before, {rejected['checks_after']} after:")
    for part, title in (("grounding", "grounding reader (rationale and caption)"),
                        ("checks", "per-record checks (all but near duplicates)")):
        print(f"  {title}:")
        for kind, label in (("", "first pass"), ("_cold", "cold caches"), ("_again", "the same text again")):
            before, after = rates[f"{part}_before{kind}"], rates[f"{part}_after{kind}"]
            print(f"    {label + ':':22s}{before:8.0f} -> {after:8.0f}   {after / before:.1f}x")
    reader = rates["grounding_after"]
    print(f"target {TARGET:.0f} records/s per core for the grounding reader, first pass: "
          f"{'met' if reader >= TARGET else 'not met'} ({reader:.0f})")
    print(f"template writer (caption + rationale), this checkout: {template:.0f} records per CPU-second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
