"""The filter's per-record checks, records per second per core, before (revision 2844aa1, loaded from a
``git archive`` copy in a temporary folder) and after (this checkout), on the demo build's text, in one run.

Each figure is one pass of the per-record checks (``checks.checked``: every check but the near-duplicate
pass across records, left out) over the demo's records in a fresh process, timed
in CPU seconds of that process (so "per core", and less skewed by other jobs on the machine), after a
warm-up on the test suite's rationale files. "cold" empties every cache of the filter's modules before each
record, so no record profits from a sentence read for another: the figure for text that never repeats.
Issue 32 asks for at least 2,000 records/s per core. Last, the template writer's records per CPU-second
on the same records (this checkout, in this process).

    PYTHONPATH=. python benchmarks/bench_filter.py [--build DEMO_BUILD] [--rev REV] [--repeat N]

Without --build the demo is built into a temporary folder first (about a minute).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filter_revisions import BASELINE, ROOT, build_records, checkout, run_worker  # noqa: E402

TARGET = 2000.0


def _rate(root: Path, records: Path, repeat: int, *extra: str) -> float:
    """The median records per CPU-second of ``repeat`` passes, each in a fresh process."""
    return statistics.median(run_worker(root, "rate", records, *extra)["per_core"] for _ in range(repeat))


def _template_rate(records: Path, repeat: int) -> float:
    import json
    import time

    from emotioncot.write.template import write_template

    rows = json.loads(records.read_text(encoding="utf-8"))
    t0 = time.process_time()
    for _ in range(repeat):
        for row in rows:
            write_template(row)
    return repeat * len(rows) / (time.process_time() - t0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, help="a finished demo build (default: build one)")
    parser.add_argument("--rev", default=BASELINE, help=f"the revision to compare with (default {BASELINE})")
    parser.add_argument("--repeat", type=int, default=3, help="fresh-process passes per figure (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-filter-") as tmp:
        tmp = Path(tmp)
        build = args.build
        if build is None:
            from emotioncot.pipeline import build as run_build

            build = tmp / "demo-build"
            run_build(["demo"], build, progress=False, log=lambda m: None)
        records = tmp / "records.json"
        n = build_records(build, records)
        before_root = checkout(args.rev, tmp / "before")
        before = _rate(before_root, records, args.repeat)
        after = _rate(ROOT, records, args.repeat)
        before_cold = _rate(before_root, records, args.repeat, "--cold")
        cold = _rate(ROOT, records, args.repeat, "--cold")
        template = _template_rate(records, args.repeat)
    print(f"filter's per-record checks on the demo's text ({n} records, {build}), records per CPU-second, "
          f"median of {args.repeat}:")
    print(f"  before ({args.rev}):              {before:8.0f}")
    print(f"  after (this checkout):         {after:8.0f}   {after / before:.1f}x")
    print(f"  before, cold caches:           {before_cold:8.0f}")
    print(f"  after, cold caches:            {cold:8.0f}   {cold / before_cold:.1f}x")
    print(f"target {TARGET:.0f} records/s per core: {'met' if after >= TARGET else 'not met'}")
    print(f"template writer (caption + rationale), this checkout: {template:.0f} records per CPU-second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
