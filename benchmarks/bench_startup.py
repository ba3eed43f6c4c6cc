"""Start-up of a single-file command: ``emotioncot analyze`` of one short real clip (EmoDB 03a01Fa.wav, 1.9 s).

Prints the median wall time over N runs (each a fresh process) of

- ``analyze`` as the entry point runs it now (only the analyze command's module is imported; the measurement
  does without scipy.signal and the pipeline module);
- the baseline in the same run: the same command after importing what start-up used to import (every
  command module, the pipeline with pandas, scipy.signal);
- the floor: ``python -c pass``, and the clip's measurement inside a warm process;
- the first clip's extra cost in a fresh process (issue 33: at most 0.5 s): CPU time of the first
  measurement (with transcript, so the dictionary, eSpeak and the alignment start up too) less that of the same
  clip measured again with eSpeak's reference readings forgotten, median over N fresh processes; the
  configuration (pydantic) is loaded before the clock starts, as every caller has it already.

Target from issue 18: under 1.5 s wall on the project's 2-core machine. Wall times depend on how busy the
machine is, so the script also prints CPU time (user + system) of the children, which load changes less.

    PYTHONPATH=. python benchmarks/bench_startup.py [N] [CLIP] [--against OTHER_CHECKOUT]

``--against`` times another checkout of emotioncot (e.g. ``git worktree add /tmp/old HEAD~3``) the same way,
its processes taking turns with this checkout's, so before and after come from one run.
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

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("EMOTIONCOT_TEST_DATA") or ROOT.parent / "shared" / "data")
TARGET_S = 1.5

EAGER = (
    "import sys; import emotioncot.cli as c; c.register_commands(); "
    "import emotioncot.pipeline, scipy.signal; sys.argv = ['emotioncot', 'analyze', sys.argv[1]]; c.main()"
)


FIRST_CLIP = """
import sys, time
if sys.argv[5] != "plain":
    from emotioncot.config import MeasureConfig as Settings  # a pipeline worker holds its configuration
else:
    from emotioncot.measure.settings import MeasureSettings as Settings  # what a plain `analyze FILE` holds
from emotioncot.measure import measure_utterance
row = {"id": sys.argv[1], "audio_path": sys.argv[1], "transcript": sys.argv[2], "language": sys.argv[3]}
config = Settings(praat_pitch_engine=sys.argv[5][7:]) if sys.argv[5].startswith("engine=") else Settings()
t0 = time.process_time()
measure_utterance(row, config)
first = time.process_time() - t0
sys.path.insert(0, sys.argv[4])
from bench_measure import clear_caches  # imported after the first clip: its imports are not the measurement's
clear_caches()
t0 = time.process_time()
measure_utterance(row, config)
print(first, time.process_time() - t0)
"""
FIRST_CLIP_LIMIT_S = 0.5


def first_clip_extra(clip: str, transcript: str, language: str, n: int, roots: list[Path],
                     settings: str = "config") -> dict[Path, tuple[float, float]]:
    """Per checkout, median CPU seconds of the first measurement in a fresh process and of the same clip
    measured again; the checkouts take turns. Each process starts in its checkout (``-c`` puts the working
    directory before PYTHONPATH). ``settings``: "config" (the pydantic MeasureConfig, imported before the clock),
    "plain" (emotioncot.measure.settings, as ``analyze FILE`` runs since issue 33's third round) or "engine=NAME"
    (the MeasureConfig with ``praat_pitch_engine: NAME``)."""
    runs: dict[Path, list[tuple[float, float]]] = {root: [] for root in roots}
    for _ in range(n):
        for root in roots:
            env = {**os.environ, "PYTHONPATH": str(root)}
            out = subprocess.run([sys.executable, "-c", FIRST_CLIP, clip, transcript, language, str(ROOT / "benchmarks"),
                                  settings],
                                 check=True, capture_output=True, text=True, env=env, cwd=root).stdout.split()
            runs[root].append((float(out[0]), float(out[1])))
    return {root: (statistics.median(f for f, _ in v), statistics.median(s for _, s in v)) for root, v in runs.items()}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd: list[str], n: int, root: Path = ROOT) -> tuple[float, float]:
    """Median wall seconds and mean CPU seconds of ``cmd`` over ``n`` fresh processes of checkout ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    walls = []
    cpu0 = _children_cpu()
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=root)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), (_children_cpu() - cpu0) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n", nargs="?", type=int, default=5, help="fresh processes per figure")
    ap.add_argument("clip", nargs="?", default=str(DATA / "emodb" / "wav" / "03a01Fa.wav"))
    ap.add_argument("--against", type=Path, help="another emotioncot checkout, timed in the same run")
    args = ap.parse_args()
    n, clip = args.n, str(Path(args.clip).resolve())
    against = args.against.resolve() if args.against else None
    if not Path(clip).is_file():
        print(f"{clip}: clip not found (set EMOTIONCOT_TEST_DATA)", file=sys.stderr)
        return 2
    py = sys.executable
    floor, floor_cpu = timed([py, "-c", "pass"], n)
    now, now_cpu = timed([py, "-m", "emotioncot", "analyze", clip], n)
    before, before_cpu = timed([py, "-c", EAGER, clip], n)

    sys.path.insert(0, str(ROOT))
    from emotioncot.config import MeasureConfig
    from emotioncot.measure import measure_utterance

    row = {"id": clip, "audio_path": clip, "transcript": None, "language": None}
    measure_utterance(row, MeasureConfig())  # warm: imports, caches
    t0 = time.perf_counter()
    measure_utterance(row, MeasureConfig())
    warm = time.perf_counter() - t0

    print(f"clip: {clip}; {n} runs each, median wall (mean CPU user+sys)")
    print(f"python -c pass:                 {floor:.2f} s ({floor_cpu:.2f} s CPU)")
    print(f"emotioncot analyze (now):       {now:.2f} s ({now_cpu:.2f} s CPU)")
    print(f"baseline, eager imports:        {before:.2f} s ({before_cpu:.2f} s CPU)")
    print(f"measurement in a warm process:  {warm:.3f} s")
    print(f"ratio baseline / now: {before / now:.2f}x wall, {before_cpu / now_cpu:.2f}x CPU; "
          f"target {TARGET_S} s wall: {'met' if now < TARGET_S else 'missed'}")
    if against is not None:
        other, other_cpu = timed([py, "-m", "emotioncot", "analyze", clip], n, against)
        print(f"emotioncot analyze (--against {against.name}): {other:.2f} s ({other_cpu:.2f} s CPU)")
    english = str(DATA.resolve() / "ravdess" / "01-01-01-01-01-01-01.wav")  # English: the CMU dictionary starts up too
    roots = [ROOT] + ([against] if against is not None else [])
    figures = first_clip_extra(english, "Kids are talking by the door", "en", n, roots)
    for root, (first, later) in figures.items():
        who = "" if root == ROOT else f" (--against {root.name})"
        print(f"first clip in a fresh process{who} (RAVDESS 01-01-01-01-01-01-01, with transcript): {first:.3f} s CPU, "
              f"the same clip again {later:.3f} s; extra {first - later:.3f} s "
              f"(limit {FIRST_CLIP_LIMIT_S} s: {'met' if first - later <= FIRST_CLIP_LIMIT_S else 'missed'})")
    if (ROOT / "emotioncot" / "measure" / "settings.py").exists():
        first, later = first_clip_extra(english, "Kids are talking by the door", "en", n, [ROOT], "plain")[ROOT]
        print(f"the same with the plain settings `analyze FILE` uses (no pydantic imported): {first:.3f} s CPU, "
              f"again {later:.3f} s; extra {first - later:.3f} s")
    # the engine each checkout does not run by default (here parselmouth; in a checkout from before issue 33's sixth
    # round, the frames engine on numba)
    for root, engine in [(ROOT, "parselmouth")] + ([(against, "frames")] if against is not None else []):
        first, later = first_clip_extra(english, "Kids are talking by the door", "en", n, [root], f"engine={engine}")[root]
        who = "" if root == ROOT else f" (--against {root.name})"
        print(f"the same with praat_pitch_engine {engine}{who}: {first:.3f} s CPU, again {later:.3f} s; extra "
              f"{first - later:.3f} s (limit {FIRST_CLIP_LIMIT_S} s: {'met' if first - later <= FIRST_CLIP_LIMIT_S else 'missed'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
