"""Throughput of the LLM writer against a local chat-completions server that answers after a fixed delay.

    PYTHONPATH=. python benchmarks/bench_llm.py [--delay 0.2] [--concurrency 32] [--requests 640]

The server (tests/llm_server.py) runs in its own process, so its work does not share this process's GIL.
Three runs, same server, same process:

1. baseline: bare ``AsyncOpenAI.chat.completions.create`` under a semaphore (no retry logic, no journal);
2. writer requests: the writer's ``complete()`` (answer checks, retry bookkeeping);
3. full write stage: ``write_with_llm`` over the demo build's records (caption + rationale per record,
   prompts filled, every answer fsynced to the journal, rows assembled).

The ideal rate is concurrency / delay (160 requests/s at 32 and 0.2 s). Client overhead per request is
this process's CPU time divided by the requests sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from emotioncot.config import BuildConfig  # noqa: E402
from emotioncot.workspace import Workspace  # noqa: E402
from emotioncot.write.client import Redactor, RetryPolicy, complete  # noqa: E402
from emotioncot.write.llm import write_with_llm  # noqa: E402

MESSAGES = [{"role": "system", "content": "You describe speech."},
            {"role": "user", "content": 'Speaker: a female speaker\nTranscription: "It is eleven o\'clock."\n' + "- cue\n" * 8}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "llm_server.py"), "--port", str(port), "--delay", str(delay)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "serving" not in line:
        raise RuntimeError("benchmark server did not start")
    return proc, f"http://127.0.0.1:{port}/v1"


async def bare(base_url: str, n: int, concurrency: int) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, timeout=30)
    sem = asyncio.Semaphore(concurrency)

    async def one(i):
        async with sem:
            await client.chat.completions.create(model="m", messages=MESSAGES, max_tokens=300,
                                                 extra_headers={"X-Emotioncot-Record": f"b{i}", "X-Emotioncot-Task": "caption"})

    await asyncio.gather(*(one(i) for i in range(n)))
    await client.close()


async def writer_requests(base_url: str, n: int, concurrency: int) -> None:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, timeout=30)
    sem = asyncio.Semaphore(concurrency)
    policy, redact = RetryPolicy(), Redactor("bench")

    async def one(i):
        async with sem:
            answer = await complete(client, model="m", messages=MESSAGES, max_tokens=300, temperature=0.7, seed=0,
                                    timeout_s=30, headers={"X-Emotioncot-Record": f"w{i}", "X-Emotioncot-Task": "caption"},
                                    task="caption", label_mode="aware", gold=None, policy=policy, redact=redact,
                                    rng=random.Random(i))
            assert answer.ok, answer.reason

    await asyncio.gather(*(one(i) for i in range(n)))
    await client.close()


SERVER_PID = None


def server_cpu() -> float:
    """CPU seconds the server process has used (Linux /proc), or 0 elsewhere."""
    try:
        fields = Path(f"/proc/{SERVER_PID}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def timed(fn):
    wall0, cpu0, srv0 = time.perf_counter(), time.process_time(), server_cpu()
    result = fn()
    timed.server_s = server_cpu() - srv0
    return result, time.perf_counter() - wall0, time.process_time() - cpu0


def demo_records(tmp: Path) -> list[dict]:
    from emotioncot.pipeline import build, load_records

    os.environ.setdefault("EMOTIONCOT_CACHE", str(tmp / "cache"))
    build(["demo"], tmp / "demo", progress=False, log=lambda m: None)
    return load_records(Workspace(tmp / "demo"), with_texts=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=640)
    args = parser.parse_args()
    ideal = args.concurrency / args.delay
    global SERVER_PID
    server, base_url = start_server(args.delay)
    SERVER_PID = server.pid
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; server answers after {args.delay} s; "
          f"concurrency {args.concurrency}; ideal {ideal:.0f} req/s")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            records = demo_records(tmp)
            asyncio.run(bare(base_url, 64, args.concurrency))  # warm-up: connections, imports

            _, wall, cpu = timed(lambda: asyncio.run(bare(base_url, args.requests, args.concurrency)))
            base_rate = args.requests / wall
            print(f"baseline (bare openai client): {base_rate:7.1f} req/s  ({base_rate / ideal:.2f} of ideal {ideal:.0f}); "
                  f"client CPU {1000 * cpu / args.requests:.2f} ms/request, server CPU {1000 * timed.server_s / args.requests:.2f} ms/request")

            _, wall, cpu = timed(lambda: asyncio.run(writer_requests(base_url, args.requests, args.concurrency)))
            rate = args.requests / wall
            print(f"writer requests (complete()):  {rate:7.1f} req/s  ({rate / ideal:.2f} of ideal, {rate / base_rate:.2f} of baseline); "
                  f"client CPU {1000 * cpu / args.requests:.2f} ms/request")

            cfg = BuildConfig()
            cfg.write = cfg.write.model_validate({**cfg.write.model_dump(), "writer": "openai", "base_url": base_url,
                                                  "model": "m", "api_key_env": "BENCH_KEY", "concurrency": args.concurrency})
            (rows, errors, info), wall, cpu = timed(lambda: write_with_llm(records, Workspace(tmp / "ws"), cfg, progress=False))
            sent = info["usage_this_run"]["requests"]
            assert not errors and len(rows) == len(records), errors[:3]
            print(f"full write stage: {len(rows)} records ({sent} requests) in {wall:.2f} s = {len(rows) / wall:.1f} records/s, "
                  f"{sent / wall:.1f} req/s ({sent / wall / ideal:.2f} of ideal, {sent / wall / base_rate:.2f} of baseline); "
                  f"client CPU {1000 * cpu / sent:.2f} ms/request")

            # The same stage over 3 copies of the demo records (new ids): start-up and the last, partly
            # filled round weigh less, so this is closer to the steady-state rate.
            many = [{**r, "id": f"{r['id']}#{c}"} for c in range(3) for r in records]
            (rows3, errors3, info3), wall3, cpu3 = timed(lambda: write_with_llm(many, Workspace(tmp / "ws3"), cfg, progress=False))
            sent3 = info3["usage_this_run"]["requests"]
            assert not errors3 and len(rows3) == len(many)
            print(f"full write stage x3: {len(rows3)} records ({sent3} requests) in {wall3:.2f} s = {len(rows3) / wall3:.1f} records/s, "
                  f"{sent3 / wall3:.1f} req/s ({sent3 / wall3 / ideal:.2f} of ideal); client CPU {1000 * cpu3 / sent3:.2f} ms/request")

            (_, _, info2), wall2, _ = timed(lambda: write_with_llm(records, Workspace(tmp / "ws"), cfg, progress=False))
            print(f"rerun of the finished stage: {info2['requests']['to_send']} requests sent, {wall2:.2f} s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
