"""An unchanged rerun of the demo build: ``emotioncot build --corpus demo --out DIR`` a second time.

Builds the demo once into a temporary folder (the baseline in the same run: the first build, corpus already
synthesised in the cache), then reruns the same command N times, each in a fresh process as a user would, and
prints the median rerun wall time, the ratio to the first build, the seconds per stage of the last rerun (from
its build.json: a stage that skips shows near 0) and the process floor (``emotioncot --version``).

Target from issue 18: an unchanged rerun under 2 s on the project's 2-core machine.

    PYTHONPATH=. python benchmarks/bench_rerun.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 2.0


def run(args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "emotioncot", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as tmp:
        out = str(Path(tmp) / "demo-build")
        build = ["build", "--corpus", "demo", "--out", out, "-q"]
        floor = statistics.median(run(["--version"]) for _ in range(n))
        first = run(build)
        reruns = [run(build) for _ in range(n)]
        stages = json.loads((Path(out) / "build.json").read_text())["seconds"]
    rerun = statistics.median(reruns)
    print(f"demo build, first run (corpus cached):  {first:.2f} s")
    print(f"unchanged rerun, median of {n}:          {rerun:.2f} s  ({first / rerun:.1f}x faster than the first run)")
    # build.json keeps each stage's seconds from the run that made it; this_run is the last (unchanged) rerun's
    print(f"last rerun, wall time in build.json:    {stages.pop('this_run', float('nan')):.2f} s")
    print("stage seconds kept from the first run:  " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    print(f"process floor (emotioncot --version):   {floor:.2f} s")
    print(f"target {TARGET_S} s: {'met' if rerun < TARGET_S else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
