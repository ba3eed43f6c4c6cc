"""Every stage after measure at scale: calibrate, write (template writer), filter, export and report (its default
sample) on N synthetic utterances whose measurements are seeded, so no audio is read (every row names one tiny WAV).

Prints seconds and records/s per stage, then an unchanged rerun's seconds, and the peak resident memory of this
process and of its workers (the figure `/usr/bin/time -v` reports as "Maximum resident set size" for the whole run is
the larger of the two). Run it as

    /usr/bin/time -v .venv/bin/python benchmarks/bench_pipeline_scale.py --records 100000 --out /tmp/scale

The ingest and measure tables are written directly (seeded values in physical units, per speaker), and their stage
records chained as a build would, so the later stages key, skip and resume exactly as in a build.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.config import BuildConfig  # noqa: E402
from emotioncot.schema import Measurements, Utterance  # noqa: E402
from emotioncot.stages import StageResult, run_stage  # noqa: E402
from emotioncot.batches import TableWriter  # noqa: E402
from emotioncot.taxonomy import EMOTIONS, INTONATIONS  # noqa: E402
from emotioncot.workspace import Workspace  # noqa: E402

WORDS = "the kids are talking by the door and the dogs are sitting by the window again today".split()
# how each emotion shifts a speaker's pitch (semitones), vocal effort (dB) and rate (factor): enough structure for
# the calibration and the evidence table to have something to find
SHIFT = {"neutral": (0, 0, 1.0), "happy": (3, 3, 1.08), "sad": (-2, -4, 0.85), "angry": (2, 6, 1.1),
         "contempt or disgust": (-1, -1, 0.95), "confused": (1, -1, 0.9), "whisper": (0, -12, 0.9),
         "surprise": (4, 4, 1.05), "fear": (3, 1, 1.12)}


def synthetic_tables(n: int, wav: str, seed: int = 0, batch: int = 5000):
    """Batches of (utterances, measurements), so that seeding a million records holds a batch at a time."""
    rng = random.Random(seed)
    speakers = [(f"spk{i:04d}", rng.choice(["Male", "Female"])) for i in range(max(4, n // 400))]
    utterances, measurements = [], []
    for i in range(n):
        if len(utterances) >= batch:
            yield utterances, measurements
            utterances, measurements = [], []
        speaker, gender = speakers[i % len(speakers)]
        emotion = EMOTIONS[rng.randrange(len(EMOTIONS))]
        d_st, d_db, d_rate = SHIFT[emotion]
        transcript = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
        duration = round(rng.uniform(1.0, 8.0), 3)
        base = 120.0 if gender == "Male" else 210.0
        f0 = base * 2 ** ((d_st + rng.gauss(0, 1.5)) / 12)
        rid = f"scale_{i:07d}"
        split = ("train", "train", "train", "train", "train", "train", "train", "train", "validation", "test")[int(speaker[3:]) % 10]
        utterances.append({
            "id": rid, "corpus": "scale", "audio_path": wav, "duration_s": duration, "speaker_id": speaker,
            "gender": gender, "gender_source": "metadata", "transcript": transcript, "language": "en",
            "native_label": emotion, "emotion": emotion, "split": split, "meta": {},
        })
        rate = 4.5 * d_rate * rng.uniform(0.9, 1.1)
        measurements.append({
            "id": rid, "duration_s": duration, "speech_s": duration * 0.85, "pause_count": rng.randint(0, 4),
            "pause_total_s": duration * 0.15, "f0_median_hz": f0, "f0_p5_hz": f0 * 0.8, "f0_p95_hz": f0 * 1.3,
            "f0_range_st": 8.5, "f0_std_st": 2.2, "voiced_fraction": 0.6, "energy_dbfs": -26 + d_db + rng.gauss(0, 2),
            "peak_dbfs": -3.0, "snr_db": 30.0, "alpha_ratio_db": -18 + d_db / 2 + rng.gauss(0, 1.5),
            "articulation_rate_sps": rate, "speaking_rate_sps": rate * 0.85, "syllable_count": rate * duration * 0.85,
            "syllable_source": "cmudict+rules", "f0_method": "praat", "intonation": rng.choice(INTONATIONS),
            "intonation_confidence": 0.8, "hnr_db": 12.0, "stressed_words": rng.sample(transcript.split(), 1),
        })
    if utterances:
        yield utterances, measurements


def seed_build(ws: Workspace, n: int, config: BuildConfig, wav: str) -> None:
    """The ingest and measure stages as a build leaves them, without reading audio."""
    with TableWriter(ws.stage_table("ingest"), Utterance) as utt, TableWriter(ws.stage_table("measure"), Measurements) as mea:
        for utterances, measurements in synthetic_tables(n, wav):
            utt.write(utterances)
            mea.write(measurements)
    for name in ("ingest", "measure"):
        run_stage(ws, name, config, lambda: StageResult({"rows": n, "errors": 0}, []),
                  extra=["synthetic", n] if name == "ingest" else None)


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


STAGE_PEAK_MB: dict[str, float] = {}
STAGE_CPU_S: dict[str, float] = {}


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_per_stage(run_stage):
    """``run_stage`` that records the driver's peak resident memory during each stage (Linux: the peak is reset
    through /proc/self/clear_refs before the stage and read from VmHWM after it)."""
    def wrapped(ws, name, *args, **kwargs):
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass
        cpu0 = cpu_s()
        try:
            return run_stage(ws, name, *args, **kwargs)
        finally:
            STAGE_PEAK_MB[name] = max(STAGE_PEAK_MB.get(name, 0.0), _hwm_mb())
            STAGE_CPU_S.setdefault(name, cpu_s() - cpu0)  # the first run's: a rerun skips
    return wrapped


def run_stages(out: Path, config: BuildConfig) -> dict[str, float]:
    """The build's own stages after measure (``pipeline.stages_after_measure``); the seconds of each as it ran."""
    from emotioncot import pipeline

    if not getattr(pipeline.run_stage, "__wrapped_peak__", False):
        pipeline.run_stage = _peak_per_stage(pipeline.run_stage)
        pipeline.run_stage.__wrapped_peak__ = True
    ws = Workspace(out)
    runs: dict = {}
    pipeline.stages_after_measure(ws, pipeline.BuildTables(ws), config, False, lambda m: None, runs, {}, ["synthetic"])
    runs["report"] = pipeline.run_stage(ws, "report", config, lambda: pipeline._report_result(ws, config, lambda m: None))
    return {name: 0.0 if run.skipped else run.info["seconds"] for name, run in runs.items()}


def cpu_s() -> float:
    """CPU seconds of this process and its finished workers: on a loaded machine the honest measure of work."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True, help="the build folder (replaced, unless --redo)")
    parser.add_argument("--redo", nargs="+", choices=["calibrate", "write", "filter", "export", "report"],
                        help="keep the seeded build in --out and run only these stages again (their records and shards "
                             "removed; the others are current and skip)")
    args = parser.parse_args()
    config = BuildConfig()
    config.calibrate.report = False
    ws = Workspace(args.out)
    if args.redo:
        for stage in args.redo:
            ws.stage_meta(stage).unlink(missing_ok=True)
            shutil.rmtree(args.out / "stages" / stage, ignore_errors=True)
        print(f"{args.records} synthetic records (seeded before); running again: {', '.join(args.redo)}")
    else:
        shutil.rmtree(args.out, ignore_errors=True)
        args.out.mkdir(parents=True)
        wav = args.out.parent / f"{args.out.name}-clip.wav"
        sf.write(wav, np.zeros(16000, dtype=np.float32), 16000, subtype="PCM_16")
        t0 = time.perf_counter()
        seed_build(ws, args.records, config, str(wav))
        print(f"{args.records} synthetic records: ingest and measure tables in {time.perf_counter() - t0:.1f} s")
    cpu0, wall0 = cpu_s(), time.perf_counter()
    first = run_stages(args.out, config)
    cpu, wall = cpu_s() - cpu0, time.perf_counter() - wall0
    for name, s in first.items():
        if not s:
            continue  # skipped: current from an earlier run
        rows = ws.stage_info(name).get("rows", args.records)
        print(f"  {name:<10} {s:9.2f} s  {args.records / s:10.0f} records/s  ({s / args.records * 1e6:.1f} us/record; "
              f"{rows} rows out; {STAGE_CPU_S.get(name, float('nan')):.1f} CPU-s, "
              f"{STAGE_CPU_S.get(name, float('nan')) / args.records * 1e6:.0f} CPU-us/record; "
              f"driver peak {STAGE_PEAK_MB.get(name, float('nan')):.0f} MB)")
    print(f"  {'total':<10} {sum(first.values()):9.2f} s; {cpu:.1f} CPU-seconds in all ({args.records / cpu:.0f} records "
          f"per CPU-second; wall {wall:.1f} s, load average {os.getloadavg()[0]:.1f})")
    t0 = time.perf_counter()
    again = run_stages(args.out, config)
    print(f"unchanged rerun: {time.perf_counter() - t0:.2f} s ({', '.join(f'{k} {v:.2f}' for k, v in again.items())})")
    own, children = peak_mb()
    print(f"peak resident memory: this process {own:.0f} MB, largest worker {children:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
