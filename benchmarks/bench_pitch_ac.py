"""Praat's "Sound: To Pitch (ac)" through parselmouth against the frame-matrix re-implementation
(``emotioncot/measure/pitch_ac.py``), on the speech spans the measurement hands to the pitch tracker.

    PYTHONPATH=. python benchmarks/bench_pitch_ac.py [--data ../shared/data] [--repeat 3] [--floor 75]

Prints, in one run on the same spans: CPU-seconds per audio-second of each (best of ``--repeat`` passes,
taking turns; parselmouth's includes making the Praat Sound, as the measurement does), the ratio, the
re-implementation's cost by part, and how the two tracks agree frame by frame (voicing, and F0 in
semitones where both are voiced). Then the cost of the first track in a fresh process (the compiled kernels
imported and checked against their sources), against the same process's second track.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_measure import real_recordings  # noqa: E402
from profile_measure import praat_spans  # noqa: E402

from emotioncot.measure import pitch_ac  # noqa: E402

SR = 16000

FRESH = """
import sys, time, numpy as np
sys.path.insert(0, {root!r})
x = np.load({path!r})
t0 = time.process_time()
from emotioncot.measure.pitch_ac import to_pitch_ac
to_pitch_ac(x, 16000)
t1 = time.process_time()
to_pitch_ac(x, 16000)
t2 = time.process_time()
print(t1 - t0, t2 - t1)
"""


def parselmouth_tracks(spans, floor):
    import parselmouth

    return [parselmouth.Sound(s, sampling_frequency=SR).to_pitch_ac(time_step=0.01, pitch_floor=floor, pitch_ceiling=600.0)
            for s in spans]


def ours(spans, floor):
    return [pitch_ac.to_pitch_ac(s, SR, pitch_floor=floor) for s in spans]


def part_costs(spans, floor, repeat) -> dict[str, float]:
    """CPU seconds of the re-implementation's parts (best of ``repeat`` passes each)."""
    from emotioncot.measure import pitch_kernels as kern

    spent: dict[str, float] = {}
    originals = {}

    def timed(owner, name):
        fn = getattr(owner, name)
        originals[(owner, name)] = fn

        def run(*args, **kwargs):
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - t0

        setattr(owner, name, run)

    for owner, name in ((kern, "frame_matrix"), (kern, "all_candidates"), (kern, "path_finder"), (pitch_ac, "rfft"),
                        (pitch_ac, "irfft")):
        timed(owner, name)
    best: dict[str, float] = {}
    try:
        for _ in range(repeat):
            spent.clear()
            t0 = time.process_time()
            ours(spans, floor)
            spent["total"] = time.process_time() - t0
            for k, v in spent.items():
                best[k] = min(best.get(k, v), v)
    finally:
        for (owner, name), fn in originals.items():
            setattr(owner, name, fn)
    best["rest (numpy glue, power spectrum)"] = best["total"] - sum(v for k, v in best.items() if k != "total")
    return best


def agreement(spans, floor) -> str:
    frames = flips = both_voiced = 0
    worst = 0.0
    worst_file_flips = 0.0
    for ref, mine in zip(parselmouth_tracks(spans, floor), ours(spans, floor)):
        a = ref.selected_array["frequency"]
        b = mine.frequency
        if len(a) != len(b):
            return f"frame counts differ ({len(a)} against {len(b)})"
        flip = int(((a > 0) != (b > 0)).sum())
        both = (a > 0) & (b > 0)
        frames += len(a)
        flips += flip
        both_voiced += int(both.sum())
        worst_file_flips = max(worst_file_flips, flip / max(1, len(a)))
        if both.any():
            worst = max(worst, float(np.abs(12 * np.log2(b[both] / a[both])).max()))
    return (f"{frames} frames: {flips} differ in voicing (worst file {100 * worst_file_flips:.2f} %); "
            f"{both_voiced} voiced in both, F0 within {worst:.2e} semitone")


def fresh_process(span: np.ndarray, runs: int = 3) -> tuple[float, float]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "span.npy")
        np.save(path, span)
        firsts, seconds = [], []
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", FRESH.format(root=str(Path(__file__).resolve().parent.parent), path=path)],
                                 capture_output=True, text=True, check=True).stdout.split()
            firsts.append(float(out[0]))
            seconds.append(float(out[1]))
    return float(np.median(firsts)), float(np.median(seconds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EMOTIONCOT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--floor", type=float, default=75.0)
    args = ap.parse_args()

    spans = praat_spans(real_recordings(args.data))
    audio_s = sum(len(s) for s in spans) / SR
    ours(spans[:1], args.floor)  # the compiled kernels imported before timing
    parselmouth_tracks(spans[:1], args.floor)
    cpu = {"parselmouth": [], "ours": []}
    for _ in range(args.repeat):
        for label, fn in (("parselmouth", parselmouth_tracks), ("ours", ours)):
            t0 = time.process_time()
            fn(spans, args.floor)
            cpu[label].append(time.process_time() - t0)
    p, o = min(cpu["parselmouth"]), min(cpu["ours"])
    print(f"{len(spans)} spans, {audio_s:.1f} s of audio; pitch floor {args.floor:g} Hz, ceiling 600 Hz, 15 candidates; "
          f"best of {args.repeat} passes, taking turns")
    print(f"parselmouth Sound + to_pitch_ac    {p:6.3f} CPU s {1000 * p / audio_s:6.3f} ms per audio s")
    print(f"frame-matrix re-implementation     {o:6.3f} CPU s {1000 * o / audio_s:6.3f} ms per audio s   ({p / o:.2f}x)")
    for label, s in part_costs(spans, args.floor, args.repeat).items():
        print(f"  {label:34s} {s:6.3f} CPU s {1000 * s / audio_s:6.3f} ms per audio s")
    print("agreement:", agreement(spans, args.floor))
    first, second = fresh_process(spans[0])
    print(f"fresh process, span of {len(spans[0]) / SR:.2f} s: first track {first:.3f} CPU s (compiled kernels imported, "
          f"checked), second {second:.4f} s: extra {first - second:.3f} s")


if __name__ == "__main__":
    main()
