"""One filter run in a process of its own, on whichever ``emotioncot`` is first on PYTHONPATH.

    python filter_worker.py outcome RECORDS.json      kept ids and rejected rows, as JSON
    python filter_worker.py rate RECORDS.json [--cold] records per CPU-second of one pass (one core)

``rate`` warms up on the test suite's rationale files (imports, compiled patterns, the prompt shingles)
so that the pass is timed alone; its clause caches then hold none of the timed records' text. With
``--cold`` every cache of the grounding reader is emptied before each record, so no record profits from
clauses read for another one.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

WARMUP = Path(__file__).resolve().parent.parent / "tests" / "data" / "rationales" / "cases.jsonl"


def _caches() -> list:
    from emotioncot.filter import grounding

    return [f for f in vars(grounding).values() if hasattr(f, "cache_clear")]


def main() -> int:
    from emotioncot.config import FilterConfig
    from emotioncot.filter import filter_records

    mode, path = sys.argv[1], Path(sys.argv[2])
    records = json.loads(path.read_text(encoding="utf-8"))
    config = FilterConfig()
    if mode == "outcome":
        kept, rejected = filter_records(records, config)
        print(json.dumps({"kept": [r.get("id") for r in kept], "rejected": rejected}, ensure_ascii=False, default=str))
        return 0
    warm = [json.loads(line) for line in WARMUP.read_text(encoding="utf-8").splitlines() if line.strip()]
    filter_records(warm, config)
    caches = _caches() if "--cold" in sys.argv else []
    cpu = 0.0
    wall = time.perf_counter()
    if caches:
        for record in records:
            for cache in caches:
                cache.cache_clear()
            t0 = time.process_time()
            filter_records([record], config)
            cpu += time.process_time() - t0
    else:
        t0 = time.process_time()
        filter_records(records, config)
        cpu = time.process_time() - t0
    wall = time.perf_counter() - wall
    print(json.dumps({"records": len(records), "cpu_s": cpu, "wall_s": wall, "per_core": len(records) / cpu,
                      "caches": len(caches)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
