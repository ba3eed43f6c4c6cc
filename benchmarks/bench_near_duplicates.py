"""The filter's near-duplicate pass on disk (the build's ``NearDuplicateIndex(path=...)``), this checkout against
another revision, on the same texts in the same run: CPU microseconds per text in windows as the index grows
(a pass whose cost per text grows with the table is what makes a million records cost more per record than
100,000), the process's peak memory, and whether both give the same decisions.

    python benchmarks/bench_near_duplicates.py --texts BUILD/stages/write.parquet --records 100000 [--rev 796115a]

``--texts``: any Parquet table with a ``cot_analysis`` column (the write stage of
``benchmarks/bench_pipeline_scale.py`` gives a million template rationales). Each side runs in a fresh process whose
``emotioncot`` is its own (``filter_revisions.checkout``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# What each side runs (its own emotioncot first on the path): prints one JSON line per window, then the decisions'
# digest and the peak memory.
SIDE = r"""
import hashlib, json, random, resource, sys, time
import pyarrow.parquet as pq
from emotioncot.filter.duplicates import NearDuplicateIndex

texts_path, records, window, scratch, repeats_too = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
rng = random.Random(7)
earlier = []


def with_repeats(text):
    yield text
    if not repeats_too:
        return
    earlier.append(text) if len(earlier) < 10000 else None
    if rng.random() < 1 / 7:  # a near copy: a few words replaced
        words = text.split()
        for _ in range(rng.randrange(1, 4)):
            words[rng.randrange(len(words))] = rng.choice(["indeed", "quite", "rather", "so"])
        yield " ".join(words)
    if rng.random() < 1 / 13:
        yield rng.choice(earlier)  # an exact copy of an earlier text


index = NearDuplicateIndex(path=scratch)
digest, n, found = hashlib.sha256(), 0, 0
start = time.process_time()
table = pq.ParquetFile(texts_path)
for group in range(table.metadata.num_row_groups):
    for source in table.read_row_group(group, columns=["cot_analysis"]).column(0).to_pylist():
      for text in with_repeats(source or ""):
        repeats = index.check(f"t{n}", text)
        digest.update(repr(repeats).encode())
        found += repeats is not None
        n += 1
        if n % window == 0:
            now = time.process_time()
            print(json.dumps({"at": n, "cpu_us": 1e6 * (now - start) / window}), flush=True)
            start = now
        if n == records:
            break
      if n == records:
          break
    if n == records:
        break
index.close()
print(json.dumps({"texts": n, "repeats": found, "digest": digest.hexdigest(),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


def run_side(root: Path, texts: Path, records: int, window: int, scratch: Path, repeats: bool) -> tuple[list[dict], dict]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", SIDE, str(texts), str(records), str(window), str(scratch),
                           "1" if repeats else "0"],
                          env=env, cwd=root, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"near-duplicate pass on {root} failed:\n{done.stderr[-2000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return lines[:-1], lines[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=Path, required=True, help="a Parquet table with a cot_analysis column")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--windows", type=int, default=10, help="how many windows to report")
    parser.add_argument("--no-repeats", action="store_true",
                        help="the texts as they are (by default, after about one text in 7 comes a copy with a few "
                             "words replaced, and after one in 13 an exact copy of an earlier text)")
    parser.add_argument("--rev", default="796115a", help="the revision to compare with (default: before the store's rework)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from filter_revisions import checkout

    window = max(1, args.records // args.windows)
    with tempfile.TemporaryDirectory(prefix="bench-nd-") as tmp:
        tmp = Path(tmp)
        base = checkout(args.rev, tmp / "base")
        repeats = not args.no_repeats
        windows_now, end_now = run_side(ROOT, args.texts, args.records, window, tmp / "now.sqlite", repeats)
        windows_base, end_base = run_side(base, args.texts, args.records, window, tmp / "base.sqlite", repeats)
    print(f"{end_now['texts']} texts from {args.texts}{' with repeats' if repeats else ''}; "
          "CPU microseconds per text, window by window")
    print(f"{'texts':>10} {args.rev:>10} {'now':>10} {'ratio':>7}")
    for b, c in zip(windows_base, windows_now):
        print(f"{c['at']:>10} {b['cpu_us']:>10.0f} {c['cpu_us']:>10.0f} {b['cpu_us'] / c['cpu_us']:>6.2f}x")
    mean = lambda ws: sum(w["cpu_us"] for w in ws) / max(1, len(ws))  # noqa: E731
    last_over_first = lambda ws: ws[-1]["cpu_us"] / ws[0]["cpu_us"] if ws else float("nan")  # noqa: E731
    print(f"{'mean':>10} {mean(windows_base):>10.0f} {mean(windows_now):>10.0f} "
          f"{mean(windows_base) / mean(windows_now):>6.2f}x")
    print(f"last window / first: {args.rev} {last_over_first(windows_base):.2f}x, now {last_over_first(windows_now):.2f}x")
    print(f"peak memory: {args.rev} {end_base['peak_mb']:.0f} MB, now {end_now['peak_mb']:.0f} MB")
    same = end_base["digest"] == end_now["digest"]
    print(f"repeats found: {args.rev} {end_base['repeats']}, now {end_now['repeats']}; "
          f"decisions {'identical' if same else 'DIFFERENT'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
