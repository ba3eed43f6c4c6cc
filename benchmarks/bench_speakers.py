"""Cost of clustering clips into speakers (issue 27), in CPU seconds per hour of audio, against the measure
stage on the same clips in the same run.

    PYTHONPATH=. python benchmarks/bench_speakers.py [--data ../shared/data] [--baseline-clips 12]

Prints
* embedding (read, resample, resemblyzer's silence trimming and GE2E encoder) and clustering (average linkage
  at the default threshold) of the real recordings (EmoDB speaker 03, RAVDESS actor 01, CMU ARCTIC): CPU seconds
  of this process per hour of audio (CPU time, so other load on the machine does not count);
* the measure stage's full feature set on the first ``--baseline-clips`` of the same clips, per hour of audio,
  and the ratio clustering / measuring;
* the encoder with torch's default thread count instead of one thread (how embed_clips runs it) on the
  first 15 clips, as the ratio of CPU seconds;
* average linkage alone on N random 256-d unit vectors (N = 1000, 2000, 4000): CPU seconds and the memory of
  its condensed distance matrix (N^2 / 2 doubles), which is what bounds one clustered source's size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.config import IngestConfig, MeasureConfig  # noqa: E402
from emotioncot.ingest.speakers import cluster, embed_clips  # noqa: E402
from emotioncot.measure import measure_utterance  # noqa: E402


def clips(data: Path) -> list[dict]:
    paths = sorted((data / "emodb" / "wav").glob("*.wav")) + sorted((data / "ravdess").glob("*.wav"))
    paths += sorted((data / "cmu_arctic").glob("*.wav"))
    return [{"id": p.name, "audio_path": str(p)} for p in paths]


def seconds_of_audio(rows: list[dict]) -> float:
    import soundfile as sf

    return sum(sf.info(r["audio_path"]).duration for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    parser.add_argument("--baseline-clips", type=int, default=12)
    args = parser.parse_args()
    rows = clips(args.data)
    if not rows:
        sys.exit(f"no recordings under {args.data}")
    audio_s = seconds_of_audio(rows)

    embed_clips(rows[:1])  # load the encoder once, outside the timing (it is loaded once per build too)
    t0 = time.process_time()
    vectors, kept, failed = embed_clips(rows)
    embed_cpu = time.process_time() - t0
    t0 = time.process_time()
    labels = cluster(vectors, IngestConfig().speaker_threshold)
    link_cpu = time.process_time() - t0
    per_hour = (embed_cpu + link_cpu) / audio_s * 3600
    print(f"clustering: {len(kept)} clips, {audio_s:.1f} s of audio -> {labels.max() + 1} clusters; "
          f"embedding {embed_cpu:.2f} CPU s + linkage {link_cpu:.3f} CPU s = {per_hour:.0f} CPU s per hour of audio")

    base = rows[: args.baseline_clips]
    base_s = seconds_of_audio(base)
    config = MeasureConfig()
    t0 = time.process_time()
    for row in base:
        measure_utterance(row, config)
    measure_per_hour = (time.process_time() - t0) / base_s * 3600
    print(f"measure stage (baseline): {len(base)} clips, {base_s:.1f} s of audio -> {measure_per_hour:.0f} CPU s per hour")
    print(f"ratio clustering / measure: {per_hour / measure_per_hour:.2f}")

    import torch

    import emotioncot.ingest.speakers as speakers

    one_thread = time.process_time()
    embed_clips(rows[:15])
    one_thread = time.process_time() - one_thread
    default = torch.get_num_threads()
    real_set = torch.set_num_threads
    torch.set_num_threads = lambda n: real_set(default)  # what embed_clips would do without its one-thread rule
    try:
        t0 = time.process_time()
        speakers.embed_clips(rows[:15])
        many = time.process_time() - t0
    finally:
        torch.set_num_threads = real_set
    print(f"encoder on {default} torch threads / on 1 thread, 15 clips: {many:.2f} / {one_thread:.2f} CPU s = "
          f"{many / one_thread:.1f}x")

    rng = np.random.default_rng(0)
    for n in (1000, 2000, 4000):
        x = rng.normal(size=(n, 256))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        t0 = time.process_time()
        cluster(x.astype(np.float32), 0.45)
        print(f"linkage alone, {n} clips: {time.process_time() - t0:.2f} CPU s, distance matrix "
              f"{n * (n - 1) / 2 * 8 / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
