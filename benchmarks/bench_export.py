"""Export at the 35K-record scale (synthetic text rows, every row referencing one small WAV file).

Prints the wall time and memory of ``export_records`` (Parquet shards + DatasetDict + JSONL + card) and,
as the in-process baseline, of writing the same records as a plain stage table (``tables.write_table``).
Budget from the issue: under 60 s and under 2 GB; the script exits 1 when a budget is exceeded.

    PYTHONPATH=. python benchmarks/bench_export.py [N]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.export import export_records  # noqa: E402
from emotioncot.export.synthetic import synthetic_records  # noqa: E402
from emotioncot.schema import Record  # noqa: E402
from emotioncot.tables import validate_rows, write_table  # noqa: E402

TIME_BUDGET_S = 60.0
MEMORY_BUDGET_MB = 2048.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(n: int = 35_000) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wav = tmp / "clip.wav"
        sf.write(wav, np.zeros(1600, dtype=np.float32), 16000, subtype="PCM_16")
        records = validate_rows(synthetic_records(n, str(wav), seed=0), Record)
        rss_before = rss_mb()
        peak_before = peak_mb()

        t0 = time.perf_counter()
        write_table(tmp / "baseline" / "filter.parquet", records, Record)
        baseline_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        counts = export_records(records, tmp / "export")
        export_s = time.perf_counter() - t0
        peak_after = peak_mb()
        size_mb = sum(p.stat().st_size for p in (tmp / "export").rglob("*") if p.is_file()) / 1e6
        shards = sorted(p.name for p in (tmp / "export" / "parquet").glob("*.parquet"))

    print(f"records: {n} ({counts})")
    print(f"baseline (write the stage table): {baseline_s:.2f} s")
    print(f"export (shards + DatasetDict + JSONL + card): {export_s:.2f} s = {export_s / baseline_s:.1f}x baseline "
          f"({n / export_s:,.0f} records/s); budget {TIME_BUDGET_S:.0f} s")
    print(f"memory: RSS with the records loaded {rss_before:.0f} MB; process peak before export {peak_before:.0f} MB, "
          f"after {peak_after:.0f} MB (export adds at most {peak_after - rss_before:.0f} MB); budget {MEMORY_BUDGET_MB:.0f} MB")
    print(f"output: {size_mb:.1f} MB, parquet shards: {', '.join(shards)}")
    ok = export_s < TIME_BUDGET_S and peak_after < MEMORY_BUDGET_MB
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 35_000))
