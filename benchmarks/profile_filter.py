"""Where the filter's per-record checks spend a first pass over the demo's text: check by check, and reader by reader.

    PYTHONPATH=. python benchmarks/profile_filter.py [--build DEMO_BUILD]

As in ``bench_filter.py``, this process first warms up on the test suite's rationale files (imports, compiled
patterns, prompt shingles), then reads the demo's records twice. Per check, the microseconds a record in the
first pass and in the second (every sentence read already): the difference is what reading new text costs,
which no cache saves in a first pass. Per reader (every ``lru_cache`` function of ``emotioncot.filter``), the
calls that read new text (cache misses) and their own time, less the time of the readers they call, so that
the lines add up; the cyclic garbage collector is off for that pass, so that no reader is charged with a
collection. Checks are timed in CPU time of this process (``process_time``: other jobs on the machine skew it
less); readers in wall-clock time (``perf_counter``, which costs far less a call: run it on a quiet machine).
The timer around each reader adds some tenths of a microsecond to each call, so these lines are larger than
the readers' real cost: read them as shares.

Without --build the demo is built into a temporary folder first (about a minute).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from filter_revisions import build_records, evidence_path  # noqa: E402
from filter_worker import WARMUP  # noqa: E402

from emotioncot.config import FilterConfig  # noqa: E402
from emotioncot.filter import checks, filter_records  # noqa: E402
from emotioncot.filter.argument import argument_problems  # noqa: E402
from emotioncot.filter.io import canonical  # noqa: E402
from emotioncot.filter.label import label_problems  # noqa: E402


def check_times(records: list[dict], config: FilterConfig, evidence: dict | None) -> dict[str, float]:
    """Per check, its seconds over one pass of ``checks.record_problems``'s work on ``records``."""
    spent: dict[str, float] = {}
    clock = time.process_time
    for record in records:
        row = canonical(record)
        for name, check in checks.CHECKS.items():
            t0 = clock()
            check(row, config)
            spent[name] = spent.get(name, 0.0) + clock() - t0
        t0 = clock()
        _, inferred = label_problems(row, row.get("label_mode") or config.label_mode, config.conclusion_sentences,
                                     config.blind_disagreement)
        spent["label"] = spent.get("label", 0.0) + clock() - t0
        t0 = clock()
        argument_problems({**row, "inferred_emotion": row.get("inferred_emotion") or inferred}, evidence)
        spent["argument"] = spent.get("argument", 0.0) + clock() - t0
    return spent


def timed_readers() -> dict[str, list]:
    """Wraps every cached reader of the loaded filter modules with a timer; returns the table it fills, per
    reader [misses, own seconds of the misses, hits]. A reader called by another through its module's name
    (as they all are) is then timed inside its caller, and taken out of the caller's own time."""
    table: dict[str, list] = {}
    open_calls: list[float] = []  # per reader running now, the time of the readers it called
    clock = time.perf_counter  # 0.05 µs a call where process_time takes 0.8

    def wrap(key: str, reader):
        def timed(*args, **kwargs):
            misses = reader.cache_info().misses
            open_calls.append(0.0)
            t0 = clock()
            out = reader(*args, **kwargs)
            took = clock() - t0
            inner = open_calls.pop()
            if open_calls:
                open_calls[-1] += took
            line = table.setdefault(key, [0, 0.0, 0])
            if reader.cache_info().misses > misses:
                line[0] += 1
                line[1] += took - inner
            else:
                line[2] += 1
            return out

        timed.cache_clear = reader.cache_clear
        return timed

    for name, module in sorted(sys.modules.items()):
        if name.startswith("emotioncot.filter"):
            for attr, value in list(vars(module).items()):
                if callable(value) and hasattr(value, "cache_info"):
                    setattr(module, attr, wrap(f"{name.rsplit('.', 1)[-1]}.{attr}", value))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, help="a finished demo build (default: build one)")
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)  # the profiling process itself
    args = parser.parse_args()
    if args.records is None:
        return _in_fresh_process(args.build)
    records = json.loads(args.records.read_text(encoding="utf-8"))
    evidence = json.loads(evidence_path(args.records).read_text(encoding="utf-8"))
    config = FilterConfig()
    filter_records([json.loads(line) for line in WARMUP.read_text(encoding="utf-8").splitlines() if line.strip()],
                   config)
    n = len(records)
    first, again = check_times(records, config, evidence), check_times(records, config, evidence)
    print(f"per-record checks on {n} demo records, µs a record: first pass, the same text again, the difference")
    for name in sorted(first, key=lambda k: again[k] - first[k]):
        a, b = first[name] / n * 1e6, again[name] / n * 1e6
        print(f"  {name:16s}{a:8.1f}{b:8.1f}{a - b:8.1f}")
    total_first, total_again = sum(first.values()), sum(again.values())
    print(f"  {'all':16s}{total_first / n * 1e6:8.1f}{total_again / n * 1e6:8.1f}"
          f"{(total_first - total_again) / n * 1e6:8.1f}")

    for cache in {id(f): f for f in _readers()}.values():  # a fresh first pass for the readers' table
        cache.cache_clear()
    filter_records([json.loads(line) for line in WARMUP.read_text(encoding="utf-8").splitlines() if line.strip()],
                   config)
    table = timed_readers()
    gc.disable()  # a collection would fall on whichever reader runs then (some 20 µs a record, 27 collections)
    for record in records:
        checks.checked(record, config, evidence)
    gc.enable()
    print("\nreaders in a first pass (with the timer's own cost): new texts read, µs each, µs a record; reused")
    for key, (misses, own, hits) in sorted(table.items(), key=lambda kv: -kv[1][1]):
        if misses:
            print(f"  {key:38s}{misses:6d}{own / misses * 1e6:8.1f}{own / n * 1e6:8.1f}{hits:8d}")
    return 0


def _in_fresh_process(build: Path | None) -> int:
    """Writes the build's records and runs the profile on them in a process that has imported no more than
    a filter worker (``bench_filter.py``'s figures): the pipeline's imports (pyarrow, the calibration) would
    make each cyclic garbage collection slower, and its cost fall on whichever check it interrupts."""
    with tempfile.TemporaryDirectory(prefix="profile-filter-") as tmp:
        if build is None:
            from emotioncot.pipeline import build as run_build

            build = Path(tmp) / "demo-build"
            run_build(["demo"], build, progress=False, log=lambda m: None)
        records = Path(tmp) / "records.json"
        build_records(build, records)
        return subprocess.run([sys.executable, __file__, "--records", str(records)]).returncode


def _readers() -> list:
    """Every cache of the filter's modules: their cached functions, and those of their objects (the chunk
    readings of a ``prefilter.Rewriter``), so that a second first pass starts where the first one did."""
    found = []
    for name, module in sys.modules.items():
        if name.startswith("emotioncot.filter"):
            for value in vars(module).values():
                found += [value] if hasattr(value, "cache_clear") else [
                    f for f in getattr(value, "__dict__", {}).values() if hasattr(f, "cache_clear")]
    return found


if __name__ == "__main__":
    sys.exit(main())
