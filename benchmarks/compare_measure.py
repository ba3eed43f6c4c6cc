"""Measurement outputs before and after a change: every field of every clip of the demo corpus (216 clips)
and of the real recordings in ../shared/data (66 files), full features (stress and relative rate included).

    python CHECKOUT/benchmarks/compare_measure.py dump OUT.json [--data ../shared/data] [--praat-pitch-engine frames]
    python benchmarks/compare_measure.py diff BEFORE.json AFTER.json

``dump`` measures with the ``emotioncot`` of the checkout the script lies in (copy this script,
``bench_measure.py`` and ``profile_measure.py`` into an old checkout's ``benchmarks/`` to dump the old code's
outputs); the demo corpus comes from ``$EMOTIONCOT_CACHE``. ``diff`` prints, per field, how many clips differ and the largest difference (numbers compared
to 1e-9 relative, everything else exactly), and lists every clip whose non-numeric field changed."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def dump(out: Path, data: Path, engine: str | None = None) -> None:
    from bench_measure import real_recordings
    from profile_measure import demo_items

    from emotioncot.config import MeasureConfig
    from emotioncot.measure import measure_signal

    real = real_recordings(data)
    if not real:
        sys.exit(f"{data}: no real recordings there (give --data)")
    cfg = MeasureConfig(relative_rate=True, **({"praat_pitch_engine": engine} if engine else {}))
    rows = {}
    for source, items in (("demo", demo_items()), ("real", real)):
        for name, y, sr, text, lang in items:
            rows[f"{source}/{name}"] = measure_signal(y, sr, text, cfg, language=lang)
    out.write_text(json.dumps(rows, indent=0, sort_keys=True, default=str))
    print(f"{len(rows)} clips -> {out}")


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def diff(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    if set(a) != set(b):
        print(f"clip sets differ: only before {sorted(set(a) - set(b))[:5]}, only after {sorted(set(b) - set(a))[:5]}")
    changed_clips = 0
    per_field: dict[str, list] = {}
    for clip in sorted(set(a) & set(b)):
        ra, rb = a[clip], b[clip]
        moved = False
        for key in sorted(set(ra) | set(rb)):
            va, vb = ra.get(key), rb.get(key)
            if _same(va, vb):
                continue
            moved = True
            per_field.setdefault(key, []).append((clip, va, vb))
        changed_clips += moved
    print(f"{len(set(a) & set(b))} clips compared, {changed_clips} with any field changed")
    for key, rows in sorted(per_field.items()):
        nums = [(c, x, y) for c, x, y in rows if isinstance(x, (int, float)) and isinstance(y, (int, float))]
        if nums and len(nums) == len(rows):
            c, x, y = max(nums, key=lambda r: abs(r[2] - r[1]))
            print(f"  {key:28s} {len(rows):4d} clips, largest change {y - x:+.6g} ({c}: {x:.6g} -> {y:.6g})")
        else:
            print(f"  {key:28s} {len(rows):4d} clips:")
            for c, x, y in rows:
                print(f"      {c}: {json.dumps(x)[:150]} -> {json.dumps(y)[:150]}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--praat-pitch-engine", default=None, help="parselmouth or frames (a checkout that has the setting)")
    d.add_argument("--data", type=Path, default=Path(os.environ.get("EMOTIONCOT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")))
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out, args.data, args.praat_pitch_engine)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
