"""Header reading speed of ingest: N generated WAV files (a RAVDESS-style tree) read through the one ingest
path with 1 worker (baseline) and with the default thread pool, in the same process; prints files per
second and the ratio. Usage: python benchmarks/ingest_headers.py [N]"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from emotioncot.config import IngestConfig
from emotioncot.ingest import ingest_sources


def make_tree(root: Path, n: int) -> None:
    data = np.zeros(16000, dtype=np.int16)
    for i in range(n):
        actor = i % 24 + 1
        emotion, intensity, statement, rep = i % 8 + 1, (i // 8) % 2 + 1, (i // 16) % 2 + 1, (i // 32) % 50 + 1
        path = root / f"Actor_{actor:02d}" / f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{rep:02d}-{actor:02d}.wav"
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            sf.write(str(path), data, 16000)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_tree(root, n)
        files = len(list(root.rglob("*.wav")))
        timings = {}
        from emotioncot.ingest import core

        rows, _ = core.read_source(f"ravdess={root}")  # file names and labels only, no audio opened
        default_workers = max(4, IngestConfig().workers * 4)  # what ingest_sources uses
        for label, workers in (("1 thread (baseline)", 1), (f"{default_workers} threads", default_workers)):
            start = time.perf_counter()
            core.read_headers([dict(r) for r in rows], workers, progress=False)
            timings[label] = time.perf_counter() - start
            print(f"{label:22s} {files} headers in {timings[label]:.2f} s = {files / timings[label]:.0f} files/s")
        start = time.perf_counter()
        ingest_sources([f"ravdess={root}"], IngestConfig(), progress=False)
        whole = time.perf_counter() - start
        print(f"whole ingest           {files} files in {whole:.2f} s = {files / whole:.0f} files/s")
        pool = timings[f"{default_workers} threads"]
        base = timings["1 thread (baseline)"]
        print(f"ratio (baseline / pool): {base / pool:.2f}x; 100,000 files at the whole-ingest rate: {100_000 * whole / files / 60:.1f} min")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
