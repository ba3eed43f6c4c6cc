"""Size of the explorer report at the 35K-record scale, against the same report of a 2,000-record build.

The records are synthetic (``export.synthetic``: text and levels only), each pointing at one synthesised
3-second voice clip so that record pages carry a real encoded clip and a real contour. The overview is
computed over every record; only the sampled records (``report.sample`` kept, ``report.max_rejected``
rejected; both builds have enough for every page) get pages, so the size should not grow with the build. Prints both sizes, their ratio, the
parts of the big one, and the size of the build's own JSONL as a yardstick. Exits 1 when the 35K report is
over 1.2x the small one or over 20 MB.

    PYTHONPATH=. python benchmarks/bench_report_size.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.config import ReportConfig  # noqa: E402
from emotioncot.export.jsonl import write_jsonl  # noqa: E402
from emotioncot.export.synthetic import synthetic_records  # noqa: E402
from emotioncot.measure.synthetic import voice  # noqa: E402
from emotioncot.report.data import ReportData  # noqa: E402
from emotioncot.report.site import folder_bytes, write_report  # noqa: E402

MAX_RATIO = 1.2
MAX_MB = 20.0
BASELINE_N = 2_000  # 40 rejected: as many rejected pages as the big build gets


def records(n: int, wav: Path, duration_s: float) -> list[dict]:
    rows = synthetic_records(n, str(wav), seed=0)
    for i, r in enumerate(rows):
        r["duration_s"] = duration_s
        r["alpha_ratio_db"] = -10.0 - (i % 13)
        rejected = i % 50 == 0  # 2 % rejected, like a real LLM build
        r["status"] = "rejected" if rejected else "kept"
        r["reject_reasons"] = ["grounding_pitch"] if rejected else []
        r["explanation"] = "grounding_pitch: says “high” but pitch_level is low" if rejected else None
    return rows


def report_size(rows: list[dict], out: Path) -> tuple[int, float, dict]:
    data = ReportData(out.parent, rows, [], {"version": "synthetic", "groups": {}}, {"tool_version": "bench"})
    t0 = time.perf_counter()
    info = write_report(out.parent, out, ReportConfig(), data=data)
    return info["bytes"], time.perf_counter() - t0, info


def main(n: int = 35_000) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wav = tmp / "clip.wav"
        y = voice(np.linspace(140, 190, 300), 3.0, syllables_per_s=4.0)
        sf.write(wav, y, 16000, subtype="PCM_16")
        small_bytes, small_s, _ = report_size(records(BASELINE_N, wav, 3.0), tmp / "small" / "report")
        big_rows = records(n, wav, 3.0)
        big_bytes, big_s, info = report_size(big_rows, tmp / "big" / "report")
        parts = {sub: folder_bytes(tmp / "big" / "report" / sub) for sub in ("audio", "img", "records", "assets")}
        pages_html = sum(p.stat().st_size for p in (tmp / "big" / "report").glob("*.html"))
        write_jsonl(tmp / "big.jsonl", [{k: v for k, v in r.items() if k not in ("status", "reject_reasons", "explanation")} for r in big_rows])
        jsonl = (tmp / "big.jsonl").stat().st_size

    ratio = big_bytes / small_bytes
    print(f"report of {BASELINE_N} records: {small_bytes / 1e6:.2f} MB in {small_s:.1f} s (baseline)")
    print(f"report of {n} records: {big_bytes / 1e6:.2f} MB in {big_s:.1f} s = {ratio:.2f}x the baseline; "
          f"{info['pages']} record pages")
    print("  parts: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in parts.items()) + f", top pages {pages_html / 1e6:.2f} MB")
    print(f"the same records as EmotionCoT JSONL: {jsonl / 1e6:.1f} MB (report = {big_bytes / jsonl:.1%} of it)")
    ok = ratio <= MAX_RATIO and big_bytes / 1e6 <= MAX_MB
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 35_000))
