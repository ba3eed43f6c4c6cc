"""Wall time of a Batch API write stage with chunks in turn against chunks in flight, in the same run.

    PYTHONPATH=. python benchmarks/bench_batch_ahead.py [--chunks 6] [--records-per-chunk 10] [--batch-s 2]

A provider's batch takes hours; here every batch of the local Batch API server (tests/batch_server.py, real HTTP,
the real ``openai`` client; its lines answered by tests/llm_server.py, no delay) stays ``in_progress`` for
``--batch-s`` seconds, whatever its size, and the stage polls every 0.1 s. The same records (the demo build's,
copied under new ids) are written with ``write.batch_chunks_in_flight`` 1 (the baseline: each chunk's batches end
before the next chunk is submitted) and 4, with ``--repair-rounds`` (1), each into a fresh workspace. Prints both wall
times, the batches each created, the ratio, and whether the two stage tables, errors and counts are the same.

What the ratio means: with B seconds a batch and C chunks, in turn costs about C x (1 + repair batches) x B; in
flight, the first-round batches of the next chunks run while a chunk is polled and repaired, so about
(C / 4 + C x repair batches) x B at best. A real provider runs the batches of one account side by side only up
to its queue limit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the test servers, run here as local programs (not as tests)


def main() -> None:
    from batch_server import BatchServer, Fate
    from llm_server import LLMServer, _answer_text, _task_of

    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import build, load_records
    from emotioncot.workspace import Workspace
    from emotioncot.write.llm import write_with_llm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--records-per-chunk", type=int, default=10)
    parser.add_argument("--batch-s", type=float, default=2.0)
    parser.add_argument("--repair-rounds", type=int, default=1)
    args = parser.parse_args()
    n = args.chunks * args.records_per_chunk
    os.environ["BENCH_BATCH_KEY"] = "bench"
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"{n} records in {args.chunks} chunks of {args.records_per_chunk}; every batch {args.batch_s:g} s; "
          f"{args.repair_rounds} repair round(s)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ.setdefault("EMOTIONCOT_CACHE", str(tmp / "cache"))
        build(["demo"], tmp / "demo", progress=False, log=lambda m: None)
        seed = [r for r in load_records(Workspace(tmp / "demo"), with_texts=False) if r.get("emotion")]
        records = [{**seed[i % len(seed)], "id": f"{seed[i % len(seed)]['id']}#{i // len(seed)}"} for i in range(n)]

        def answer(body: dict) -> str:
            """The server's made-up answer, but every third first rationale as a Markdown list (a reason the
            filter rejects and a writer can fix): the repair round has work, in every chunk."""
            text = _answer_text(_task_of(body), body["messages"], "?")
            first = _task_of(body) == "rationale" and len(body["messages"]) == 2
            marked = first and sum(map(ord, str(body["messages"][-1]))) % 3 == 0
            return "- " + text.replace(". ", ".\n- ", 2) if marked else text

        slow = Fate(until_submissions=10**9, until_timeout_s=args.batch_s)  # held for batch_s, then answered

        def run(in_flight: int) -> dict:
            with LLMServer(answer=answer) as upstream, BatchServer(upstream.base_url, fate=lambda k: slow) as batches:
                cfg = BuildConfig()
                cfg.write = cfg.write.model_validate({
                    **cfg.write.model_dump(), "writer": "openai-batch", "base_url": batches.base_url, "model": "m",
                    "api_key_env": "BENCH_BATCH_KEY", "max_retries": 0, "batch_poll_s": 0.1,
                    "repair_rounds": args.repair_rounds, "batch_max_requests": 2 * args.records_per_chunk,
                    "batch_chunks_in_flight": in_flight})
                started = time.perf_counter()
                rows, errors, info = write_with_llm(records, Workspace(tmp / f"ws{in_flight}"), cfg, progress=False)
                wall = time.perf_counter() - started
                return {"wall_s": wall, "batches": batches.submissions, "rows": rows, "errors": errors,
                        "counts": {k: info[k] for k in ("requests", "repair", "usage_of_kept_answers")}}

        base, ahead = run(1), run(4)
    for name, r in (("in turn (batch_chunks_in_flight 1)", base), ("in flight (batch_chunks_in_flight 4)", ahead)):
        print(f"{name:<38}: {r['wall_s']:6.1f} s, {r['batches']} batches, {len(r['rows'])} rows, "
              f"{len(r['errors'])} errors, {r['counts']['repair']['records_sent_back']} records sent back")
    same = base["rows"] == ahead["rows"] and base["errors"] == ahead["errors"] and base["counts"] == ahead["counts"]
    print(f"in flight / in turn: wall time {ahead['wall_s'] / base['wall_s']:.2f}x; "
          f"table, errors and counts {'the same' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
