"""The measure stage at scale: throughput with 1 and 2 workers, peak memory as the clip count grows, and
the projected wall time for 200 hours of audio on this machine. Every configuration runs with one
BLAS/OpenMP thread per process, so that one worker is one core.

Clips are synthetic speech-like signals (a harmonic voice with a gliding pitch, syllable-rate loudness
bumps and pauses, plus noise), 2 to 6 s each, written as 16 kHz WAV into a temporary folder. Each
configuration runs in a fresh process (a fresh Ray instance for Ray) over a fresh build folder, and a
sampler thread sums the resident memory of that process and all its descendants (Ray's raylet, GCS,
workers; the pool's processes) every 0.1 s.

The baseline is the local executor with one worker, run in the same invocation; the ratios printed are
against it. The machine is shared: figures are noisy (run it twice; trust ratios over absolutes).

    PYTHONPATH=. python benchmarks/bench_scale.py [--clips 2000] [--executor ray] [--memory-steps 500,1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SR = 16000
HOURS_TARGET = 200


def synth_clip(rng: np.random.Generator) -> np.ndarray:
    dur = rng.uniform(2.0, 6.0)
    t = np.arange(int(dur * SR)) / SR
    f0 = rng.uniform(90, 260) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 9))
    syllables = 0.5 * (1 + np.sin(2 * np.pi * rng.uniform(3.0, 5.5) * t)) ** 2
    gate = np.ones_like(t)
    for _ in range(rng.integers(0, 3)):  # pauses
        start = rng.uniform(0.3, dur - 0.6)
        gate[(t > start) & (t < start + rng.uniform(0.25, 0.5))] = 0.0
    y = 0.2 * voice * syllables * gate + 0.003 * rng.standard_normal(t.size)
    return (y / max(1e-9, np.abs(y).max()) * 0.5).astype(np.float32)


def make_clips(folder: Path, n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        path = folder / f"clip{i:05d}.wav"
        if not path.exists():
            sf.write(path, synth_clip(rng), SR, subtype="PCM_16")
        else:
            synth_clip(rng)  # keep the generator in step
        info = sf.info(path)
        rows.append({"id": f"syn{i:05d}", "audio_path": str(path), "start_s": None, "end_s": None,
                     "duration_s": info.frames / info.samplerate, "transcript": "a synthetic voice says nothing",
                     "language": "en"})
    return rows


# ---------------------------------------------------------------- one configuration, in its own process


def _tree_rss_mb(root: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


def run_one(executor: str, workers: int, rows_file: Path, out: Path) -> dict:
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import run_measure
    from emotioncot.workspace import Workspace

    rows = json.loads(rows_file.read_text())
    cfg = BuildConfig()
    cfg.measure.workers = workers
    cfg.executor.name = executor
    cfg.executor.shard_size = 32
    if executor == "ray":
        cfg.executor.ray_object_store_mb = 200
    peak = {"mb": 0.0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak["mb"] = max(peak["mb"], _tree_rss_mb(os.getpid()))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    executor_obj = None
    t_start = time.perf_counter()
    if executor == "ray":  # start Ray outside the timed measure loop: its start-up is reported apart
        from emotioncot.executors import make_executor

        executor_obj = make_executor(cfg.executor, workers)
    startup = time.perf_counter() - t_start
    t0 = time.perf_counter()
    measured = run_measure(Workspace(out), rows, cfg, progress=False, executor=executor_obj)
    wall = time.perf_counter() - t0
    if executor_obj is not None:
        executor_obj.close()
    stop.set()
    sampler.join()
    audio_s = sum(r["duration_s"] for r in rows)
    per_worker = Workspace(out).stage_info("measure").get("workers", {})
    cpu_s = sum(w["cpu_s"] for w in per_worker.values())
    return {"cpu_s": round(cpu_s, 1), "cores_obtained": round(cpu_s / wall, 2), "workers_seen": len(per_worker),
            "executor": executor, "workers": workers, "clips": len(rows), "measured": len(measured),
            "audio_s": round(audio_s, 1), "wall_s": round(wall, 2), "startup_s": round(startup, 2),
            "clips_per_s": round(len(rows) / wall, 2), "audio_x_realtime": round(audio_s / wall, 1),
            "peak_tree_mb": round(peak["mb"], 1)}


def spawn(executor: str, workers: int, rows: list[dict], tmp: Path) -> dict:
    tag = f"{executor}-{workers}-{len(rows)}"
    rows_file = tmp / f"rows-{len(rows)}.json"
    if not rows_file.exists():
        rows_file.write_text(json.dumps(rows))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    # One BLAS/OpenMP thread per process in every configuration: otherwise "1 worker" in-process would
    # already use every core through numpy's threads, and workers would not be comparable.
    env.update({name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    proc = subprocess.run([sys.executable, __file__, "--one", executor, str(workers), str(rows_file), str(tmp / tag)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{tag} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def demo_cpu_per_audio_s() -> tuple[float, float]:
    """CPU seconds per second of audio on the demo corpus (eSpeak speech, 216 clips): a second, speech-like
    calibration of the projection, since synthetic harmonics may be cheaper to measure than speech."""
    from emotioncot.config import BuildConfig
    from emotioncot.ingest import ingest_sources
    from emotioncot.measure.item import measure_one as _measure_one

    cfg = BuildConfig()
    rows, _ = ingest_sources(["demo"], cfg.ingest, progress=False)
    _measure_one(rows[0], cfg.measure)  # imports and first-call set-up outside the count
    t0 = time.process_time()
    for row in rows:
        _measure_one(row, cfg.measure)
    audio_s = sum(r["duration_s"] for r in rows)
    return (time.process_time() - t0) / audio_s, audio_s


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=2000)
    ap.add_argument("--executor", default="ray", choices=["ray", "local"])
    ap.add_argument("--memory-steps", default="500,1000")
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        executor, workers, rows_file, out = args.one
        print(json.dumps(run_one(executor, int(workers), Path(rows_file), Path(out))))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        (tmp / "wav").mkdir()
        t0 = time.perf_counter()
        rows = make_clips(tmp / "wav", args.clips)
        print(f"{len(rows)} synthetic clips, {sum(r['duration_s'] for r in rows) / 3600:.2f} h of audio, "
              f"made in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs (shared: figures are noisy)")
        baseline = spawn("local", 1, rows, tmp)
        runs = [baseline, spawn("local", 2, rows, tmp)]
        if args.executor == "ray":
            runs += [spawn("ray", 1, rows, tmp), spawn("ray", 2, rows, tmp)]
        scaled = runs[-1]
        memory = [spawn(scaled["executor"], 2, rows[:int(n)], tmp) for n in args.memory_steps.split(",") if n]
        memory.append(scaled)

    print("\nthroughput (measure stage, clips of 2-6 s):")
    for r in runs:
        print(f"  {r['executor']:5s} x{r['workers']}: {r['clips_per_s']:7.1f} clips/s, {r['audio_x_realtime']:6.1f}x real time, "
              f"{r['wall_s']:6.1f} s (+{r['startup_s']:.1f} s start-up); {r['clips_per_s'] / baseline['clips_per_s']:.2f}x the local x1 baseline; "
              f"{r['clips_per_s'] / r['cores_obtained']:.0f} clips/s per core obtained")
    by = {(r["executor"], r["workers"]): r for r in runs}
    for name in ("local", "ray"):
        if (name, 1) in by and (name, 2) in by:
            print(f"  {name}: 2 workers / 1 worker = {by[(name, 2)]['clips_per_s'] / by[(name, 1)]['clips_per_s']:.2f}x "
                  f"(CPU actually obtained by the workers: {by[(name, 1)]['cores_obtained']:.2f} vs {by[(name, 2)]['cores_obtained']:.2f} cores)")
    print(f"  CPU cost: {baseline['cpu_s'] / (baseline['audio_s'] / 3600):.0f} CPU-seconds per hour of audio (local x1)")
    print(f"\npeak memory of the whole process tree ({scaled['executor']} x2):")
    for r in memory:
        print(f"  {r['clips']:5d} clips: {r['peak_tree_mb']:7.1f} MB")
    print(f"  {memory[-1]['clips']} vs {memory[0]['clips']} clips: {memory[-1]['peak_tree_mb'] / memory[0]['peak_tree_mb']:.2f}x")
    rtf = scaled["audio_x_realtime"]
    hours = HOURS_TARGET * 3600 / rtf / 3600
    print(f"\nprojected: {HOURS_TARGET} h of audio at {rtf:.1f}x real time ({scaled['executor']} x2) = {hours:.1f} h wall "
          f"on this machine as loaded now (measure stage only, excluding start-up)")
    cpu_per_audio_s = baseline["cpu_s"] / baseline["audio_s"]
    print(f"projected on 2 idle cores (CPU cost / 2): {HOURS_TARGET * 3600 * cpu_per_audio_s / 2 / 3600:.2f} h wall")
    demo_cost, demo_audio = demo_cpu_per_audio_s()
    print(f"demo corpus (speech, {demo_audio:.0f} s): {demo_cost * 3600:.0f} CPU-seconds per hour of audio; "
          f"{HOURS_TARGET} h at that cost: {HOURS_TARGET * demo_cost:.2f} CPU-hours = "
          f"{HOURS_TARGET * demo_cost / 2:.2f} h wall on 2 idle cores, "
          f"{HOURS_TARGET * demo_cost / scaled['cores_obtained']:.2f} h at the {scaled['cores_obtained']:.2f} cores obtained now")
    return 0


if __name__ == "__main__":
    sys.exit(main())
