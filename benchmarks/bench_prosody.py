"""Resynthesis speed of the prosody task generator: seconds of output audio per second per core.

Runs on one core (one process), on real recordings from ../shared/data when they are there (EMOTIONCOT_TEST_DATA),
else on a synthetic voice. Compares, in the same process:

- baseline: analyse-per-version (WORLD analysis repeated for every modified version, as a naive script would);
- emotioncot: analyse once, resynthesise every version from the kept analysis (``world.Source``);
- emotioncot + verification: the same plus re-measuring every version (what ``prosody-tasks`` really does);
- resynthesis alone: the vocoder and level setting, analysis excluded (the cost of one more version).

Usage: python benchmarks/bench_prosody.py [--versions 6] [--f0-method harvest|dio]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.audio.io import read_audio  # noqa: E402
from emotioncot.prosody import world  # noqa: E402
from emotioncot.prosody.verify import Change, measure, measured_change  # noqa: E402

SR = 16000
CHANGES = [Change(semitones=4.0), Change(semitones=-4.0), Change(tempo=1.3), Change(tempo=1 / 1.3), Change(gain_db=6.0), Change(semitones=2.0)]


def inputs() -> list[tuple[str, np.ndarray]]:
    data = Path(os.environ.get("EMOTIONCOT_TEST_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
    files = sorted((data / "emodb" / "wav").glob("*.wav"))[:6] + sorted((data / "cmu_arctic").glob("*.wav"))
    out = []
    for f in files:
        y, sr = read_audio(f)
        out.append((f.name, world.resample(y, sr, SR)[0]))
    if not out:
        t = np.arange(int(2.5 * SR)) / SR
        f0 = 120 + 20 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        y = sum((0.8**k) * np.sin(k * phase) for k in range(1, 20)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
        out.append(("synthetic", (0.2 * y / np.max(np.abs(y))).astype(np.float32)))
    return out


def version(source: world.Source, change: Change) -> np.ndarray:
    y = world.synthesize(source.analysis, change.semitones, change.tempo)
    return world.set_level(y, SR, source.reference_level_db + change.gain_db)


def run(clips, changes, f0_method: str, mode: str) -> tuple[float, float]:
    """(seconds of output audio, wall seconds) for one mode."""
    produced = 0.0
    if mode == "resynthesis":  # analysis done beforehand, not timed
        sources = [world.Source(world.analyze(y, SR, f0_method=f0_method)) for _, y in clips]
        for s in sources:
            s.reference_level_db
        t0 = time.perf_counter()
        for source in sources:
            for change in changes:
                produced += len(version(source, change)) / SR
        return produced, time.perf_counter() - t0
    t0 = time.perf_counter()
    for _, y in clips:
        if mode == "baseline":
            for change in changes:
                source = world.Source(world.analyze(y, SR, f0_method=f0_method))  # analysis for every version
                produced += len(version(source, change)) / SR
        else:
            source = world.Source(world.analyze(y, SR, f0_method=f0_method))
            ref = measure(source.reference, SR) if mode == "verified" else None
            for change in changes:
                out = version(source, change)
                if ref is not None:
                    measured_change(ref, measure(out, SR), change.tempo)
                produced += len(out) / SR
    return produced, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=6, help="modified versions per utterance")
    parser.add_argument("--f0-method", default="harvest", choices=["harvest", "dio"])
    args = parser.parse_args()
    changes = (CHANGES * (args.versions // len(CHANGES) + 1))[: args.versions]
    clips = inputs()
    total_in = sum(len(y) for _, y in clips) / SR
    print(f"{len(clips)} utterances, {total_in:.1f} s of input at {SR} Hz, {args.versions} versions each, F0 by {args.f0_method}, 1 core")
    results = {}
    for mode in ("baseline", "once", "verified", "resynthesis"):
        produced, wall = run(clips, changes, args.f0_method, mode)
        results[mode] = produced / wall
        print(f"  {mode:9s} {produced:7.1f} s of audio in {wall:6.2f} s -> {produced / wall:6.1f} s of audio per second per core")
    print(f"analyse once vs analyse per version: {results['once'] / results['baseline']:.2f}x")
    print(f"with re-measurement (what prosody-tasks does): {results['verified'] / results['baseline']:.2f}x the baseline")


if __name__ == "__main__":
    main()
