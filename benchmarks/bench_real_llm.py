"""A slice of the demo corpus built with a real model: llama.cpp (xllamacpp) serving SmolLM2-135M-Instruct
on 127.0.0.1 (tests/real_llm.py), the LLM writer with its repair loop, then the filter. Prints records
written, kept before and after repair, rejections by reason, requests and tokens per kept record; the
template writer on the same slice is the baseline of the same run.

    python benchmarks/bench_real_llm.py --limit 6 --max-tokens 160

Slow on CPU (a few tokens per second per slot): keep the slice small.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from emotioncot.config import BuildConfig  # noqa: E402
from emotioncot.pipeline import BuildError, build  # noqa: E402


def _rejections(out: Path) -> Counter:
    counts: Counter = Counter()
    path = out / "rejected.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                counts.update(list(dict.fromkeys(json.loads(line)["reject_reasons"])))
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=6, help="records of the demo corpus to write")
    ap.add_argument("--max-tokens", type=int, default=160, help="max_tokens of both prompts (0: the files' own)")
    ap.add_argument("--repair-rounds", type=int, default=1)
    ap.add_argument("--parallel", type=int, default=2)
    a = ap.parse_args()
    from real_llm import RealServer, short_prompts, unavailable

    if unavailable():
        sys.exit(unavailable())
    tmp = Path(tempfile.mkdtemp(prefix="bench-real-llm-"))
    base = BuildConfig()
    base.write.limit = a.limit
    t0 = time.perf_counter()
    template = build(["demo"], tmp / "template", base, progress=False, log=lambda m: None)
    t_template = time.perf_counter() - t0

    cfg = BuildConfig()
    cfg.write = cfg.write.model_validate({
        **cfg.write.model_dump(), "writer": "openai", "model": "smollm2-135m", "limit": a.limit,
        "concurrency": a.parallel, "max_retries": 2, "timeout_s": 600, "repair_rounds": a.repair_rounds,
        **(short_prompts(tmp, a.max_tokens) if a.max_tokens else {}),
    })
    out = tmp / "real"
    import shutil

    shutil.copytree(tmp / "template", out)  # ingest/measure/calibrate are reused; only write onwards runs
    (out / "journal" / "write.jsonl").unlink()
    with RealServer(n_parallel=a.parallel) as server:
        cfg.write.base_url = server.base_url
        t0 = time.perf_counter()
        try:
            summary = build(["demo"], out, cfg, progress=False, log=lambda m: None)
        except BuildError as exc:
            summary = json.loads((out / "build.json").read_text())
            print(f"build stopped: {exc}")
        t_real = time.perf_counter() - t0
    writer = summary.get("writer") or {}
    repair = writer.get("repair") or {}
    usage = writer.get("usage_this_run") or {}
    kept = summary.get("counts", {}).get("filter", 0)
    written = summary.get("counts", {}).get("write", 0)
    print(f"model: SmolLM2-135M-Instruct Q4_1 via llama.cpp, {a.parallel} slots, max_tokens {a.max_tokens or 'prompt files'}")
    print(f"records asked:             {a.limit}")
    print(f"records written:           {written}")
    print(f"kept before repair:        {repair.get('kept_before_repair')}")
    print(f"kept after repair:         {repair.get('kept_after_repair')} "
          f"({repair.get('records_sent_back', 0)} sent back, {repair.get('requests', 0)} repair requests)")
    print(f"rejections by reason:      {dict(_rejections(out).most_common())}")
    print(f"requests sent:             {usage.get('requests')}")
    print(f"tokens (prompt/completion): {usage.get('prompt_tokens')} / {usage.get('completion_tokens')}")
    if kept:
        print(f"per kept record:           {usage.get('requests', 0) / kept:.1f} requests, "
              f"{(usage.get('prompt_tokens', 0) + usage.get('completion_tokens', 0)) / kept:.0f} tokens")
    else:
        print("per kept record:           no record kept")
    base_kept = template["counts"]["filter"]
    print(f"baseline (template writer, same slice): {base_kept} of {template['counts']['write']} kept in {t_template:.1f} s; "
          f"real model: {kept} of {written} kept in {t_real:.1f} s "
          f"(keep ratio {kept / max(1, base_kept):.2f} of baseline)")


if __name__ == "__main__":
    main()
