"""The prosody task figures the README and docs/prosody_tasks.md quote: `emotioncot prosody-tasks` on a build (the
demo build by default), timed, with the questions per task and split, the drops by reason and the output's size.

Usage: python benchmarks/prosody_tasks_demo.py --data demo-build [--out DIR] [--per-utterance 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="A build folder (e.g. the demo build).")
    parser.add_argument("--out", type=Path, help="Output folder (default: a temporary one).")
    parser.add_argument("--per-utterance", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="prosody-tasks-")) / "tasks"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = datetime.now(timezone.utc)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "emotioncot", "prosody-tasks", "--data", str(args.data), "--out", str(out),
                           "--per-utterance", str(args.per_utterance), "--workers", str(args.workers), "-q"],
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    summary = json.loads((out / "prosody_tasks.json").read_text())
    sizes = {name: round(folder_mb(out / name), 1) for name in ("dataset", "parquet", "work") if (out / name).exists()}
    print(f"prosody-tasks on {args.data}, {started:%Y-%m-%d %H:%M} UTC, --per-utterance {args.per_utterance}, "
          f"--workers {args.workers}, {os.cpu_count()} CPU cores, load average at the end {os.getloadavg()[0]:.1f}")
    print(f"{sum(summary['splits'].values())} questions {summary['splits']} from {summary['sources']} utterances "
          f"in {seconds:.0f} s")
    print("per task: " + ", ".join(f"{k} {v}" for k, v in summary["tasks"].items()))
    print(f"dropped {summary['dropped']}: " + "; ".join(f"{k} {v}" for k, v in summary["drop_reasons"].items()))
    print(f"size (MB): {sizes}, {sum(sizes.values()):.1f} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
