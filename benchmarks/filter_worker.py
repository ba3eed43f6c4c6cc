"""One filter run in a process of its own, on whichever ``emotioncot`` is first on PYTHONPATH.

    python filter_worker.py outcome RECORDS.json      kept ids and rejected rows, as JSON
    python filter_worker.py checks RECORDS.json       each row's per-record problems and inferred emotion, as JSON
    python filter_worker.py rate RECORDS.json [--cold] [--grounding]
                                                      records per CPU-second of the per-record checks (one core)

``--evidence EVIDENCE.json`` (any mode): the evidence table the argument check weighs cues by, as a build's
filter stage passes it (without it, the literature prior).

``checks`` and ``rate`` run the per-record checks alone (``checks.checked``: every check but the
near-duplicate pass across records), so that a difference or a figure is theirs; ``outcome`` is the whole
filter. ``rate`` warms up on the test suite's rationale files (imports, compiled patterns, the prompt
shingles) so that the pass is timed alone; its caches then hold none of the timed records' text. With
``--cold`` every cache of the filter's modules is emptied before each record, so no record profits from
text read for another one; without it, a second pass over the same records is timed too ("again": text
the reader has read already, as most sentences of a big build are).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

WARMUP = Path(__file__).resolve().parent.parent / "tests" / "data" / "rationales" / "cases.jsonl"


def _caches() -> list:
    """The bounded caches (``functools.lru_cache``) of every filter module loaded."""
    modules = [m for name, m in sorted(sys.modules.items()) if name.startswith("emotioncot.filter")]
    found = {id(f): f for m in modules for f in vars(m).values() if hasattr(f, "cache_clear")}
    return list(found.values())


def _per_record(config, evidence):
    """record -> (problems, inferred emotion): ``checked`` where the revision has it, else what it did then."""
    from emotioncot.filter import checks

    if hasattr(checks, "checked"):
        def run(record):
            out, problems = checks.checked(record, config, evidence)
            return problems, out.get("inferred_emotion")
        return run
    import inspect

    from emotioncot.filter.io import canonical

    if len(inspect.signature(checks.record_problems).parameters) == 2:  # before the evidence table (the filing)
        return lambda record: checks.record_problems(canonical(record), config)
    return lambda record: checks.record_problems(canonical(record), config, evidence)


def _grounding_reader(config):
    """record -> (problems, None): the grounding reader on a canonical row's rationale and caption."""
    from emotioncot.filter.grounding import grounding_problems

    options = (tuple(config.grounding_aspects), config.grounding_strictness, config.grounding_skip_generic)

    def run(row):
        problems = grounding_problems(row, *options)
        if row.get("caption"):
            problems = problems + grounding_problems({**row, "cot_analysis": row["caption"]}, *options)
        return problems, None
    return run


def _evidence() -> dict | None:
    """The table after ``--evidence``, or None."""
    if "--evidence" not in sys.argv:
        return None
    return json.loads(Path(sys.argv[sys.argv.index("--evidence") + 1]).read_text(encoding="utf-8"))


def main() -> int:
    from emotioncot.config import FilterConfig
    from emotioncot.filter import filter_records

    mode, path = sys.argv[1], Path(sys.argv[2])
    records = json.loads(path.read_text(encoding="utf-8"))
    config = FilterConfig()
    evidence = _evidence()
    if mode == "outcome":
        kept, rejected = filter_records(records, config, evidence=evidence)
        print(json.dumps({"kept": [r.get("id") for r in kept], "rejected": rejected}, ensure_ascii=False, default=str))
        return 0
    check = _per_record(config, evidence)
    if mode == "checks":
        rows = [[r.get("id"), *check(r)] for r in records]
        print(json.dumps({"rows": rows}, ensure_ascii=False, default=str))
        return 0
    if "--grounding" in sys.argv:
        from emotioncot.filter.io import canonical

        records = [canonical(r) for r in records]
        check = _grounding_reader(config)
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
            check(record)
            cpu += time.process_time() - t0
    else:
        t0 = time.process_time()
        for record in records:
            check(record)
        cpu = time.process_time() - t0
    wall = time.perf_counter() - wall
    again = None
    if not caches:  # the same records once more: text the reader has read (a big build's recurring sentences)
        t0 = time.process_time()
        for record in records:
            check(record)
        again = len(records) / (time.process_time() - t0)
    print(json.dumps({"records": len(records), "cpu_s": cpu, "wall_s": wall, "per_core": len(records) / cpu,
                      "per_core_again": again, "caches": len(caches), "evidence": evidence is not None,
                      "rejected": sum(bool(check(r)[0]) for r in records)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
