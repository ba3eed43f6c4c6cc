"""Where the measurement's CPU time goes: the share of each feature of the full feature set (stress included).

    PYTHONPATH=. python benchmarks/profile_measure.py [--data ../shared/data] [--demo] [--repeat 2]

Every step ``measure_signal`` calls is wrapped with a timer of this process's CPU time (``time.process_time``)
that counts its own time only (a step called inside another, such as the eSpeak rendering inside stress
alignment, is taken out of its caller's time), so the shares add up to 100 % of the measurement. What no step
claims (array glue in ``measure_signal``, parselmouth's Sound) is the ``measure_signal (rest)`` line. As in
``bench_measure.py`` the cache of eSpeak reference readings is cleared before each pass, the first pass
(imports, dictionary, eSpeak start-up) is not counted, and the best of ``--repeat`` passes is kept per step.

``--demo`` profiles the demo corpus (216 clips, synthesised into ``$EMOTIONCOT_CACHE`` on first use) instead
of the real recordings.

``--praat-variants`` times, instead, what Praat's share could be cut to on the same speech spans the measurement
gives Praat (speech plus 0.3 s each side), best of ``--repeat`` passes: the pitch pass as measured (75-600 Hz,
15 candidates), the same with 4 candidates, the same on the span decimated to 8 kHz (soxr, counted), and the
point process (from the Sound and the pitch already computed), jitter and shimmer apart; for each pitch variant,
how many 10 ms frames change voicing and how many voiced in both move by more than 0.5 semitone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_measure import clear_caches, real_recordings  # noqa: E402

from emotioncot.audio.io import read_audio  # noqa: E402
from emotioncot.config import MeasureConfig  # noqa: E402
from emotioncot.measure import energy, espeak_text, features, gender, harmonicity, intonation, nuclei  # noqa: E402
from emotioncot.measure import periods, perturbation, pitch, stress, syllables, vad, voice_quality  # noqa: E402

# (module, attribute, label): the steps measure_signal runs, by the names it calls them under
STEPS = [
    (features, "prepare", "resample to 16 kHz mono"),
    (features, "analyse", "STFT frames"),
    (vad, "detect_activity", "voice activity (x2)"),
    (pitch, "track_praat", "Praat pitch (1-2 passes)"),
    (pitch, "praat_pitch", "jitter + shimmer (Praat point process)"),
    (periods, "pulses", "jitter + shimmer (Praat point process)"),
    (pitch, "track_pyworld", "WORLD pitch"),
    (pitch, "on_frame_grid", "pitch: grid, octaves, statistics"),
    (pitch, "correct_octaves", "pitch: grid, octaves, statistics"),
    (pitch, "f0_statistics", "pitch: grid, octaves, statistics"),
    (gender, "estimate_gender", "pitch: grid, octaves, statistics"),
    (energy, "active_level_dbfs", "level, alpha ratio, peak"),
    (energy, "alpha_ratio_db", "level, alpha ratio, peak"),
    (energy, "peak_dbfs", "level, alpha ratio, peak"),
    (intonation, "classify", "intonation"),
    (voice_quality, "jitter_shimmer", "jitter + shimmer (Praat point process)"),
    (perturbation, "jitter_shimmer", "jitter + shimmer (Praat point process)"),
    (harmonicity, "mean_hnr_db", "harmonicity (HNR)"),
    (syllables, "transcript_syllables", "syllables (transcript / nuclei)"),
    (syllables, "words", "syllables (transcript / nuclei)"),
    (nuclei, "count_nuclei", "syllables (transcript / nuclei)"),
    (espeak_text, "render", "stress: eSpeak reference reading"),
    (espeak_text, "reading", "stress: reference frames + cepstra"),
    (stress, "_reference", "stress: reference frames + cepstra"),
    (stress, "cepstra", "stress: recording cepstra"),
    (stress, "dtw_path", "stress: DTW"),
    (stress, "align_words", "stress: word timing + prominence"),
]
ROOT = "measure_signal (rest)"


class ExclusiveTimer:
    """CPU seconds per label, each call's own time only (its callees' time goes to their labels)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []

    def wrap(self, label: str, fn):
        def timed(*args, **kwargs):
            self._stack.append([time.process_time(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                start, inner = self._stack.pop()
                spent = time.process_time() - start
                self.seconds[label] += spent - inner
                if self._stack:
                    self._stack[-1][1] += spent

        timed.__wrapped__ = fn
        return timed


def install(timer: ExclusiveTimer) -> None:
    for module, name, label in STEPS:
        if hasattr(module, name):
            setattr(module, name, timer.wrap(label, getattr(module, name)))
    backend = stress.STRESS_BACKENDS["dtw"]
    stress.STRESS_BACKENDS["dtw"] = timer.wrap("stress: word timing + prominence", backend)
    features.measure_signal = timer.wrap(ROOT, features.measure_signal)


def demo_items() -> list:
    from emotioncot.demo.corpus import ensure_demo_corpus

    root = ensure_demo_corpus(progress=False)
    rows = [json.loads(line) for line in (root / "metadata.jsonl").read_text().splitlines()]
    items = []
    for r in rows:
        y, sr = read_audio(root / r["audio_path"])
        items.append((r["id"], y, sr, r["transcript"], "en"))
    return items


def praat_spans(items) -> list[np.ndarray]:
    """The 16 kHz spans measure_signal hands to Praat (speech by the energy VAD, plus its margin)."""
    from emotioncot.measure.signal import ANALYSIS_SR, prepare

    cfg = MeasureConfig()
    spans = []
    for _, y, sr, _, _ in items:
        x = prepare(y, sr)
        rough = vad.detect_activity(features.analyse(x), None, cfg.min_pause_s)
        a, b = 0, len(x)
        if rough.onset_s is not None:
            a = max(0, int((rough.onset_s - features.SPAN_MARGIN_S) * ANALYSIS_SR))
            b = min(len(x), int((rough.offset_s + features.SPAN_MARGIN_S) * ANALYSIS_SR))
        spans.append(x[a:b])
    return spans


def praat_variants(items, repeat: int) -> None:
    import parselmouth
    import soxr
    from parselmouth.praat import call

    spans = praat_spans(items)
    audio_s = sum(len(s) for s in spans) / 16000

    def best_of(fn) -> float:
        cpu = []
        for _ in range(repeat):
            t0 = time.process_time()
            fn()
            cpu.append(time.process_time() - t0)
        return min(cpu)

    sounds = [parselmouth.Sound(s, sampling_frequency=16000) for s in spans]
    variants = {
        "pitch 75-600 Hz, 15 candidates (as measured)": lambda: [s.to_pitch_ac(time_step=0.01, pitch_floor=75, pitch_ceiling=600) for s in sounds],
        "pitch, 4 candidates": lambda: [s.to_pitch_ac(time_step=0.01, pitch_floor=75, pitch_ceiling=600, max_number_of_candidates=4) for s in sounds],
        "pitch on the span decimated to 8 kHz": lambda: [parselmouth.Sound(soxr.resample(s, 16000, 8000, quality="HQ"), sampling_frequency=8000)
                                                         .to_pitch_ac(time_step=0.01, pitch_floor=75, pitch_ceiling=600) for s in spans],
    }
    print(f"{len(spans)} spans, {audio_s:.1f} s of audio handed to Praat; best of {repeat} passes")
    reference = None
    for label, run in variants.items():
        cpu = best_of(run)
        tracks = [p.selected_array["frequency"] for p in run()]
        line = f"{label:46s} {cpu:6.3f} CPU s {1000 * cpu / audio_s:6.3f} ms per audio s"
        if reference is None:
            reference, base_cpu = tracks, cpu
        else:
            frames = flips = moved = 0
            for a, b in zip(reference, tracks):
                n = min(len(a), len(b))
                a, b = a[:n], b[:n]
                frames += n
                flips += int(((a > 0) != (b > 0)).sum())
                both = (a > 0) & (b > 0)
                moved += int((np.abs(12 * np.log2(b[both] / a[both])) > 0.5).sum())
            line += f"  ({cpu / base_cpu:.2f}x; of {frames} frames {flips} change voicing, {moved} move > 0.5 st)"
        print(line)
    pitches = [s.to_pitch_ac(time_step=0.01, pitch_floor=75, pitch_ceiling=600) for s in sounds]
    points = [call([s, p], "To PointProcess (cc)") for s, p in zip(sounds, pitches)]
    for label, run in (
        ("point process (cc) from the Sound and its pitch", lambda: [call([s, p], "To PointProcess (cc)") for s, p in zip(sounds, pitches)]),
        ("jitter (local)", lambda: [call(pp, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3) for pp in points]),
        ("shimmer (local)", lambda: [call([s, pp], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6) for s, pp in zip(sounds, points)]),
    ):
        cpu = best_of(run)
        print(f"{label:46s} {cpu:6.3f} CPU s {1000 * cpu / audio_s:6.3f} ms per audio s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EMOTIONCOT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    ap.add_argument("--demo", action="store_true", help="profile the demo corpus instead of the real recordings")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--pitch-method", default="praat", choices=("praat", "pyworld"))
    ap.add_argument("--praat-pitch-engine", default=MeasureConfig().praat_pitch_engine,
                    choices=("parselmouth", "frames"))
    ap.add_argument("--praat-variants", action="store_true", help="time cheaper Praat pitch variants instead (see above)")
    args = ap.parse_args()

    items = demo_items() if args.demo else real_recordings(args.data)
    if args.praat_variants:
        praat_variants(items, args.repeat)
        return
    audio_s = sum(len(y) / sr for _, y, sr, _, _ in items)
    cfg = MeasureConfig(pitch_method=args.pitch_method, praat_pitch_engine=args.praat_pitch_engine)
    features.measure_signal(items[0][1], items[0][2], items[0][3], cfg, language=items[0][4])  # warm-up
    timer = ExclusiveTimer()
    install(timer)
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        clear_caches()
        timer.seconds.clear()
        for _, y, sr, text, lang in items:
            features.measure_signal(y, sr, text, cfg, language=lang)
        for label, s in timer.seconds.items():
            best[label] = min(best.get(label, s), s)
    total = sum(best.values())
    where = "demo corpus" if args.demo else str(args.data)
    print(f"{len(items)} files, {audio_s:.1f} s of audio ({where}), pitch {args.pitch_method} "
          f"({args.praat_pitch_engine}), stress dtw; "
          f"best of {args.repeat} passes per step")
    print(f"{'step':42s} {'CPU s':>7s} {'share':>7s} {'ms per audio s':>15s}")
    for label, s in sorted(best.items(), key=lambda kv: -kv[1]):
        print(f"{label:42s} {s:7.3f} {100 * s / total:6.1f}% {1000 * s / audio_s:15.3f}")
    print(f"{'total':42s} {total:7.3f} {100.0:6.1f}% {1000 * total / audio_s:15.3f}   "
          f"({audio_s / total:.1f}x real time per CPU-second)")


if __name__ == "__main__":
    main()
