"""Peak memory and time of the LLM write stage, in chunks against all records at once, in the same run.

    PYTHONPATH=. python benchmarks/bench_llm_stream.py [--records 10000 20000] [--concurrency 32]

A local chat-completions server (tests/llm_server.py, its own process, no delay) answers every request. Each
run is a fresh child process that writes ``--records`` records (the demo build's, copied under new ids, made one
at a time by a generator) through ``write_with_llm`` into a stage table with ``TableWriter``, as the build's write
stage does, and reports its peak resident memory (``ru_maxrss``) and wall time. Two ways per size:

- baseline: one chunk as large as the run (what the writer did before it streamed: every record, request and
  row held until the end, then the whole table written);
- chunked: the default chunk (``emotioncot.write.rounds.CHUNK_RECORDS``), each chunk's rows appended as it ends.

Prints, per size, both runs and the ratios chunked / baseline (memory and seconds per record).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from emotioncot.batches import TableWriter
from emotioncot.config import BuildConfig
from emotioncot.pipeline import load_records
from emotioncot.schema import GeneratedText
from emotioncot.workspace import Workspace
from emotioncot.write import rounds
from emotioncot.write.llm import write_with_llm

demo, out, base_url, n, chunk, concurrency = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
if chunk:
    rounds.CHUNK_RECORDS = chunk
seed = load_records(Workspace(demo), with_texts=False)

def source():
    for i in range(n):
        rec = seed[i % len(seed)]
        yield {**rec, "id": f"{rec['id']}#{i // len(seed)}"}

cfg = BuildConfig()
cfg.write = cfg.write.model_validate({**cfg.write.model_dump(), "writer": "openai", "base_url": base_url,
                                      "model": "m", "api_key_env": "BENCH_KEY", "concurrency": concurrency,
                                      "repair_rounds": 0})
ws = Workspace(out)
started = time.perf_counter()
with TableWriter(out / "write.parquet", GeneratedText) as table:
    _, errors, info = write_with_llm(source(), ws, cfg, progress=False, total=n, sink=lambda rows, errs: table.write(rows))
wall = time.perf_counter() - started
assert table.rows == n and info["requests"]["planned"] == 2 * n, (table.rows, info["requests"])
print(json.dumps({"wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": table.rows, "sent": info["usage_this_run"]["requests"]}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "llm_server.py"), "--port", str(port), "--delay", "0"],
                            stdout=subprocess.PIPE, text=True)
    if "serving" not in proc.stdout.readline():
        raise RuntimeError("benchmark server did not start")
    return proc, f"http://127.0.0.1:{port}/v1"


def run(demo: Path, out: Path, base_url: str, n: int, chunk: int, concurrency: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_KEY": "bench"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(demo), str(out), base_url, str(n), str(chunk),
                           str(concurrency)], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    from emotioncot.pipeline import build
    from emotioncot.write.rounds import CHUNK_RECORDS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 20_000])
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    server, base_url = start_server()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; "
          f"concurrency {args.concurrency}; chunk {CHUNK_RECORDS} records; server without delay")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            os.environ.setdefault("EMOTIONCOT_CACHE", str(tmp / "cache"))
            build(["demo"], tmp / "demo", progress=False, log=lambda m: None)
            for n in args.records:
                base = run(tmp / "demo", tmp / f"base{n}", base_url, n, n, args.concurrency)
                chunked = run(tmp / "demo", tmp / f"chunked{n}", base_url, n, 0, args.concurrency)
                for name, r in (("baseline (one chunk)", base), ("chunked", chunked)):
                    print(f"{n:>8} records, {name:<20}: peak {r['peak_mb']:7.1f} MB, {r['wall_s']:7.1f} s "
                          f"({1000 * r['wall_s'] / n:.2f} ms/record, {r['sent']} requests)")
                print(f"{n:>8} records, chunked / baseline: memory {chunked['peak_mb'] / base['peak_mb']:.2f}x, "
                      f"time per record {chunked['wall_s'] / base['wall_s']:.2f}x")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
