"""Speed and accuracy of the measurement, against the reference pipeline's two-pass librosa pYIN,
both run in this process on the same inputs.

    PYTHONPATH=. python benchmarks/bench_measure.py [--data ../shared/data] [--baseline-seconds 30]

Prints
* the real-time factor per core of the full feature set (pitch, VAD, pauses, level, SNR, alpha ratio,
  syllables + rates, intonation, jitter / shimmer / HNR, word alignment + stress) on the real recordings,
  as audio seconds / CPU seconds of this process (CPU time, so other load on the machine does not count);
  the cache of eSpeak reference readings is cleared before each timed pass, so only the repetition of
  sentences within the recordings (EmoDB's 10 sentences, RAVDESS's 2) can hit it;
* the same for the baseline (two pYIN passes: C2-C7 (65-2093 Hz), then the first pass's median / 2 to x 2,
  pitch only) on the first ``--baseline-seconds`` of those recordings, and the ratio;
* openSMILE eGeMAPSv02 functionals on the same files in the same run (CPU time), and the ratio
  (issue 33's target: 5x), for Praat's pitch run by the compiled frame-matrix re-implementation
  (``measure.praat_pitch_engine: frames``, the default) and by parselmouth (Praat itself);
* whole processes, start-up included: ``emotioncot analyze`` of 12 RAVDESS clips (full features, stress)
  against a fresh Python process running the two-pass pYIN baseline on them (issue 33's target: 50x), and the
  same command with the other engine (parselmouth). The
  processes cache their bytecode in a temporary ``PYTHONPYCACHEPREFIX`` (one uncounted warm-up run each), as an
  installed package does, whatever ``PYTHONDONTWRITEBYTECODE`` the calling shell sets;
* with ``--against DIR`` (another checkout of emotioncot, e.g. ``git worktree add /tmp/old HEAD~3``): that
  checkout's full feature set on the same files and its whole process (its default engine and the frames
  engine, whatever that checkout compiles it with), alternating with this checkout's in fresh processes of the
  same run, and the speed-up (before / after in one run);
* a 1 MB transcript on a 3 s clip: wall time and peak Python memory (it is set aside by
  ``measure.max_words_per_s``), against the same clip with its own transcript;
* the median-F0 error on synthetic formant-filtered voices (80-400 Hz, clean and 10 dB SNR white noise)
  for Praat (default), WORLD and the baseline.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.audio.io import read_audio  # noqa: E402
from emotioncot.config import MeasureConfig  # noqa: E402
from emotioncot.measure import measure_signal  # noqa: E402
from emotioncot.measure.espeak_text import reading  # noqa: E402
from emotioncot.measure.expected import expected_speech_s  # noqa: E402
from emotioncot.measure.signal import prepare  # noqa: E402
from emotioncot.measure.stress import _reference  # noqa: E402
from emotioncot.measure.synthetic import add_white_noise, pad, voice  # noqa: E402

A0009 = "He turned sharply, and faced Gregson across the table."


def clear_caches() -> None:
    """Forget eSpeak's reference readings: only repetition inside one pass (scripted sentences) may hit them."""
    _reference.cache_clear()
    reading.cache_clear()
    expected_speech_s.cache_clear()


def real_recordings(data: Path) -> list[tuple[str, np.ndarray, int, str | None, str | None]]:
    items = []
    sentences = {}
    tsv = data / "emodb" / "sentences.tsv"
    if tsv.exists():
        sentences = dict(line.split("\t", 1) for line in tsv.read_text().splitlines()[1:])
    for wav in sorted((data / "emodb" / "wav").glob("*.wav")):
        y, sr = read_audio(wav)
        items.append((wav.name, y, sr, sentences.get(wav.name[2:5], "").strip() or None, "de"))
    for wav in sorted((data / "ravdess").glob("*.wav")):
        text = "Kids are talking by the door" if wav.name.split("-")[4] == "01" else "Dogs are sitting by the door"
        y, sr = read_audio(wav)
        items.append((wav.name, y, sr, text, "en"))
    for wav in sorted((data / "cmu_arctic").glob("*.wav")):
        y, sr = read_audio(wav)
        items.append((wav.name, y, sr, A0009 if "a0009" in wav.name else None, "en"))
    return items


def pyin_two_pass(y: np.ndarray, sr: int) -> np.ndarray:
    """The reference pipeline's pitch: pYIN over a wide range, then again around the first median."""
    import librosa

    # librosa's documented range for pYIN (C2-C7) on a 10 ms hop, the grid every feature here uses
    f0, _, _ = librosa.pyin(y, fmin=65.4, fmax=2093.0, sr=sr, frame_length=2048, hop_length=160)
    med = np.nanmedian(f0) if np.isfinite(f0).any() else 150.0
    f0, _, _ = librosa.pyin(y, fmin=max(40.0, med / 2), fmax=min(1600.0, med * 2), sr=sr, frame_length=2048, hop_length=160)
    return f0


RAVDESS_TEXT = "Kids are talking by the door"
# `emotioncot analyze` as the plain command line runs it, with the Praat pitch engine argv[1]
ANALYZE_ENGINE = """
import sys
import emotioncot.cli.analyze as analyze
plain = analyze.measure_files
def with_engine(files, transcript, language, measure, *rest):
    measure.praat_pitch_engine = ENGINE
    return plain(files, transcript, language, measure, *rest)
ENGINE = sys.argv.pop(1)
analyze.measure_files = with_engine
analyze.run_plain(sys.argv[1:])
"""
PYIN_PROCESS = """
import sys
import librosa
import numpy as np
sys.path.insert(0, sys.argv[1])
from bench_measure import pyin_two_pass
for path in sys.argv[2:]:
    y, sr = librosa.load(path, sr=16000)  # mono, soxr resampling: what a librosa pipeline reads
    print(path, float(np.nanmedian(pyin_two_pass(y, sr))))
"""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


ROOT = Path(__file__).resolve().parent.parent


def _env(root: Path, bytecode_cache: Path) -> dict:
    """The environment of a child process running the emotioncot of ``root``: compiled modules are kept in
    ``bytecode_cache`` (not beside the sources) and read back by the next process."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    env["PYTHONPATH"] = str(root)
    env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    return env


def _process_cpu(cmd: list[str], env: dict) -> float:
    """CPU seconds (user + system) of one fresh process running ``cmd``, started in the checkout it runs
    (``python -m`` and ``-c`` put the working directory before PYTHONPATH)."""
    before = _children_cpu()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=env["PYTHONPATH"])
    return _children_cpu() - before


def _alternating(commands: dict[str, tuple[list[str], dict]], runs: int) -> dict[str, float]:
    """Median CPU seconds of each command over ``runs`` rounds, the commands taking turns within a round (so a
    change in the machine's load falls on all of them); one uncounted warm-up run each (bytecode caches)."""
    spent: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, (cmd, env) in commands.items():
            cpu = _process_cpu(cmd, env)
            if round_:
                spent[name].append(cpu)
    return {name: statistics.median(v) for name, v in spent.items()}


def whole_process(data: Path, runs: int = 3, against: Path | None = None) -> None:
    """Whole processes started from the command line, start-up included: ``emotioncot analyze`` (full
    features, stress included) of a dozen RAVDESS clips (one sentence, so one ``--transcript`` serves them
    all) against a fresh Python process running the two-pass pYIN baseline on the same files (librosa's
    import and numba compilation included: every run of that pipeline pays them)."""
    import tempfile

    files = sorted(str(p) for p in (data / "ravdess").glob("*.wav"))[:12]
    if not files:
        print("whole process: no RAVDESS recordings, skipped")
        return
    import soundfile

    audio_s = sum(soundfile.info(f).duration for f in files)
    analyze = [sys.executable, "-m", "emotioncot", "analyze", "--workers", "1", "--transcript", RAVDESS_TEXT,
               "--language", "en", *files]
    with tempfile.TemporaryDirectory() as cache:
        commands = {
            "ours": (analyze, _env(ROOT, Path(cache) / "ours")),
            "parselmouth": ([sys.executable, "-c", ANALYZE_ENGINE, "parselmouth", *analyze[4:]],
                            _env(ROOT, Path(cache) / "parselmouth")),
            "pyin": ([sys.executable, "-c", PYIN_PROCESS, str(Path(__file__).resolve().parent), *files],
                     _env(ROOT, Path(cache) / "pyin")),
        }
        if against is not None:
            commands["against"] = (analyze, _env(against, Path(cache) / "against"))
            commands["against-frames"] = ([sys.executable, "-c", ANALYZE_ENGINE, "frames", *analyze[4:]],
                                          _env(against, Path(cache) / "against-frames"))
        cpu = _alternating(commands, runs)
    base = cpu["pyin"]
    print(f"whole process, start-up included, {len(files)} RAVDESS files ({audio_s:.1f} s), median CPU of {runs} runs:")
    rows = [("emotioncot analyze (full features, stress)", "ours"),
            ("  the same, praat_pitch_engine parselmouth", "parselmouth")]
    if against is not None:
        rows.append((f"  the same, --against {against.name}", "against"))
        rows.append((f"  the same, --against {against.name}, frames", "against-frames"))
    rows.append(("python + librosa two-pass pYIN, pitch only", "pyin"))
    for label, key in rows:
        print(f"  {label:44s}: {cpu[key]:6.2f} CPU s -> {audio_s / cpu[key]:7.1f}x real time per core")
    print(f"  whole-process speed-up over the baseline: {base / cpu['ours']:.1f}x (target 50x); "
          f"with parselmouth {base / cpu['parselmouth']:.1f}x"
          + (f"; --against checkout {base / cpu['against']:.1f}x, its frames engine {base / cpu['against-frames']:.1f}x"
             if against is not None else ""))


MEASURE_PROCESS = """
import pickle, sys, time
from emotioncot.config import MeasureConfig
from emotioncot.measure import measure_signal
with open(sys.argv[1], "rb") as fh:
    items = pickle.load(fh)
config = MeasureConfig(praat_pitch_engine=sys.argv[3])
measure_signal(*items[0][:3], config, language=items[0][3])  # warm-up: imports, dictionary, eSpeak
import importlib
caches = []
for module, name in (("emotioncot.measure.stress", "_reference"), ("emotioncot.measure.espeak_text", "reading"),
                     ("emotioncot.measure.expected", "expected_speech_s")):
    fn = getattr(importlib.import_module(module), name, None)
    if hasattr(fn, "cache_clear"):
        caches.append(fn)
best = None
for _ in range(int(sys.argv[2])):
    for fn in caches:
        fn.cache_clear()
    t0 = time.process_time()
    for y, sr, text, lang in items:
        measure_signal(y, sr, text, config, language=lang)
    cpu = time.process_time() - t0
    best = cpu if best is None else min(best, cpu)
print(best)
"""


def checkouts_side_by_side(items, total_s: float, against: Path, repeat: int) -> None:
    """The full feature set (praat, stress) of this checkout and of ``against`` on the same files, with each Praat
    engine, each in fresh processes taking turns (three each), best of ``repeat`` passes per process, median
    over processes."""
    import pickle
    import tempfile

    engines = ("parselmouth", "frames")
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "items.pickle"
        saved.write_bytes(pickle.dumps([(y, sr, text, lang) for _, y, sr, text, lang in items]))
        cpu: dict[tuple[str, str], list[float]] = {(k, e): [] for k in ("this", "against") for e in engines}
        for _ in range(3):
            for engine in engines:
                for key, root in (("this", ROOT), ("against", against)):
                    out = subprocess.run([sys.executable, "-c", MEASURE_PROCESS, str(saved), str(repeat), engine],
                                         check=True, capture_output=True, text=True, env=_env(root, Path(tmp) / key),
                                         cwd=root).stdout
                    cpu[key, engine].append(float(out.split()[-1]))
    print(f"same files, fresh processes taking turns (median of 3, each the best of {repeat} passes):")
    for engine in engines:
        this, other = statistics.median(cpu["this", engine]), statistics.median(cpu["against", engine])
        print(f"  praat_pitch_engine {engine}:")
        print(f"    this checkout                          : {this:6.2f} CPU s -> {total_s / this:7.1f}x real time per core")
        print(f"    --against {str(against)[:28]:28s} : {other:6.2f} CPU s -> {total_s / other:7.1f}x real time per core")
        print(f"    speed-up of this checkout: {other / this:.2f}x")


def synthetic_set() -> list[tuple[float, np.ndarray]]:
    out = []
    for f0 in (80, 110, 150, 200, 270, 330, 400):
        clean = pad(voice(f0, 1.5), 16000, 0.3, 0.3)
        out.append((f0, clean))
        out.append((f0, add_white_noise(clean, 10.0, seed=f0)))
    return out


def opensmile_vs_ours(items, total_s: float, ours_rtf: dict[str, float], repeat: int) -> None:
    """openSMILE eGeMAPSv02 functionals (the cross-check backend) on the same files, same input samples."""
    try:
        import opensmile
    except ImportError:
        print("openSMILE eGeMAPSv02: not installed (pip install 'emotioncot[test]'), skipped")
        return
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals)
    smile.process_signal(items[0][1], items[0][2])
    best = None
    for _ in range(repeat):
        t0 = time.process_time()
        for _, y, sr, _, _ in items:
            smile.process_signal(y, sr)
        cpu = time.process_time() - t0
        best = cpu if best is None else min(best, cpu)
    rtf = total_s / best
    print(f"openSMILE eGeMAPSv02 functionals        : {best:6.2f} CPU s -> {rtf:7.1f}x real time per core")
    for label, ours in ours_rtf.items():
        if label.startswith("praat"):
            print(f"  emotioncot ({label}, with stress alignment) is {ours / rtf:.2f}x openSMILE's speed per CPU-second "
                  "(target 5x)")


def long_transcript(items) -> None:
    """A 1 MB transcript on a 3 s clip: set aside by the words-per-second bound, in bounded time and memory."""
    import tracemalloc

    name, y, sr, text, lang = next(i for i in items if i[3] and i[4] == "en")
    big = ((text + " ") * (1_000_000 // (len(text) + 1) + 1))[:1_000_000]
    tracemalloc.start()
    t0 = time.perf_counter()
    m = measure_signal(y, sr, big, language=lang)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    t0 = time.perf_counter()
    measure_signal(y, sr, text, language=lang)
    normal = time.perf_counter() - t0
    print(f"1 MB transcript on {name} ({len(y) / sr:.1f} s): {seconds:.2f} s, peak Python memory {peak:.0f} MB "
          f"({seconds / normal:.1f}x the clip with its own transcript, {normal:.2f} s); "
          f"stress: {m['null_reasons'].get('stressed_words', '')[:60]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("EMOTIONCOT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    ap.add_argument("--baseline-seconds", type=float, default=30.0, help="audio seconds to run the slow baseline on")
    ap.add_argument("--repeat", type=int, default=2, help="passes over the real recordings (best is reported)")
    ap.add_argument("--process-runs", type=int, default=3, help="fresh processes per side in the whole-process comparison")
    ap.add_argument("--against", type=Path, help="another emotioncot checkout to time in the same run (before / after)")
    args = ap.parse_args()
    args.data = args.data.resolve()  # child processes start in the checkout they time

    items = real_recordings(args.data)
    if not items:
        sys.exit(f"no recordings under {args.data}")
    total_s = sum(len(y) / sr for _, y, sr, _, _ in items)
    print(f"real recordings: {len(items)} files, {total_s:.1f} s of audio ({args.data})")

    # warm-up: imports, CMU dictionary, eSpeak NG initialisation, Praat
    measure_signal(items[0][1], items[0][2], items[0][3], language=items[0][4])
    import librosa  # noqa: F401

    measure_signal(items[0][1], items[0][2], items[0][3], MeasureConfig(praat_pitch_engine="parselmouth"), language=items[0][4])
    rtfs = {}
    for method, engine in (("praat", "frames"), ("praat", "parselmouth"), ("pyworld", "frames")):
        cfg = MeasureConfig(pitch_method=method, praat_pitch_engine=engine)
        best = None
        for _ in range(args.repeat):
            clear_caches()
            t0 = time.process_time()
            for _, y, sr, text, lang in items:
                measure_signal(y, sr, text, cfg, language=lang)
            cpu = time.process_time() - t0
            best = cpu if best is None else min(best, cpu)
        rtf = total_s / best
        label = method if method == "pyworld" else f"praat, {engine}"
        print(f"emotioncot full feature set ({label:19s}): {best:6.2f} CPU s -> {rtf:7.1f}x real time per core")
        rtfs[label] = rtf
    ours_rtf = rtfs["praat, frames"]

    opensmile_vs_ours(items, total_s, rtfs, args.repeat)
    if args.against is not None:
        checkouts_side_by_side(items, total_s, args.against.resolve(), args.repeat)
    long_transcript(items)

    # baseline on a prefix of the same recordings (it is ~100x slower), pitch only
    subset, acc = [], 0.0
    for name, y, sr, text, lang in items[:: max(1, len(items) // 12)]:
        subset.append((name, y, sr, text, lang))
        acc += len(y) / sr
        if acc >= args.baseline_seconds:
            break
    best = None
    for _ in range(3):
        clear_caches()
        t0 = time.process_time()
        for _, y, sr, text, lang in subset:
            measure_signal(y, sr, text, language=lang)
        cpu = time.process_time() - t0
        best = cpu if best is None else min(best, cpu)
    ours_subset_rtf = acc / best
    librosa_warm = prepare(subset[0][1][: subset[0][2]], subset[0][2])
    pyin_two_pass(librosa_warm, 16000)  # numba compilation is not counted
    t0 = time.process_time()
    for _, y, sr, _, _ in subset:
        pyin_two_pass(prepare(y, sr), 16000)
    base_cpu = time.process_time() - t0
    base_rtf = acc / base_cpu
    print(f"on the same {len(subset)} files ({acc:.1f} s):")
    print(f"  emotioncot full feature set (praat)       : {ours_subset_rtf:7.1f}x real time per core")
    print(f"  baseline two-pass librosa pYIN, pitch only: {base_rtf:7.2f}x real time per core ({base_cpu:.2f} CPU s)")
    print(f"  speed-up of the full feature set over the baseline's pitch alone: {ours_subset_rtf / base_rtf:.0f}x")
    del ours_rtf
    whole_process(args.data, args.process_runs, args.against.resolve() if args.against else None)

    # F0 accuracy on synthetic voices with known F0
    errs: dict[str, list[float]] = {"praat": [], "pyworld": [], "pyin-2pass": []}
    for f0, y in synthetic_set():
        for method in ("praat", "pyworld"):
            m = measure_signal(y, 16000, None, MeasureConfig(pitch_method=method, stress_method="none"))
            errs[method].append(abs(m["f0_median_hz"] / f0 - 1) * 100 if m["f0_median_hz"] else 100.0)
        track = pyin_two_pass(y, 16000)
        med = np.nanmedian(track) if np.isfinite(track).any() else 0.0
        errs["pyin-2pass"].append(abs(med / f0 - 1) * 100 if med else 100.0)
    print("median-F0 error on 14 synthetic voices (80-400 Hz, clean + 10 dB SNR):")
    for k, v in errs.items():
        print(f"  {k:11s} mean {np.mean(v):.3f} %   max {np.max(v):.3f} %")


if __name__ == "__main__":
    main()
