"""The filter of this checkout against an earlier revision's (default 2844aa1, before the second speed-up of
issue 32): the same kept ids, and the same rejected rows with the same reasons and explanations, on the
records of build folders, on those records with levels their text contradicts and rationales repeated, and
on the test suite's hand-written and real-model rationale files. A build's tables are checked with its
evidence table, as the build's filter stage checks them; the rationale files with none (the prior), as
``emotioncot filter`` checks a file without ``--evidence-file``. Then the per-record checks alone
(``checks.checked``) on the same tables: every row's problems in order and its inferred emotion, the rows
the near-duplicate pass or an earlier problem would hide included. Prints one line per table; exit status 1
on any difference.

    PYTHONPATH=. python benchmarks/compare_filter.py --build DEMO_BUILD --build REAL_BUILD [--rev REV]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from filter_revisions import BASELINE, ROOT, build_records, checkout, evidence_path, run_worker  # noqa: E402

RATIONALES = ROOT / "tests" / "data" / "rationales"


def contradicted(records: list[dict]) -> list[dict]:
    """Every fifth record under the levels of the record after it, every seventh again with its text barely
    changed: grounding contradictions and near-duplicates for the comparison to cover."""
    out = []
    for i, rec in enumerate(records):
        out.append(rec)
        if i % 5 == 0:
            nxt = records[(i + 1) % len(records)]
            out.append({**rec, "id": f"{rec['id']}~levels", "pitch_level": nxt["pitch_level"],
                        "energy_level": nxt["energy_level"], "speed_level": nxt["speed_level"]})
        if i % 7 == 0:
            out.append({**rec, "id": f"{rec['id']}~again", "cot_analysis": rec["cot_analysis"] + " Indeed."})
    return out


def rationale_rows() -> list[dict]:
    rows = []
    for path in sorted(RATIONALES.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="append", type=Path, default=[], help="a build folder (repeat)")
    parser.add_argument("--rev", default=BASELINE)
    args = parser.parse_args()
    differ = 0
    with tempfile.TemporaryDirectory(prefix="compare-filter-") as tmp:
        tmp = Path(tmp)
        before = checkout(args.rev, tmp / "before")
        tables = {}
        for n, build in enumerate(args.build):
            path = tmp / f"build{n}.json"
            build_records(build, path)
            tables[str(build)] = path
            records = json.loads(path.read_text(encoding="utf-8"))
            swapped = tmp / f"build{n}-contradicted.json"
            swapped.write_text(json.dumps(contradicted(records), default=str))
            evidence_path(swapped).write_text(evidence_path(path).read_text(encoding="utf-8"), encoding="utf-8")
            tables[f"{build} (levels swapped, texts repeated)"] = swapped
        (tmp / "rationales.json").write_text(json.dumps(rationale_rows(), ensure_ascii=False))
        tables["tests/data/rationales/*.jsonl"] = tmp / "rationales.json"
        for name, path in tables.items():
            old = run_worker(before, "outcome", path)
            new = run_worker(ROOT, "outcome", path)
            same = old == new
            differ += not same
            reasons = Counter(c for row in new["rejected"] for c in dict.fromkeys(row["reject_reasons"]))
            print(f"{name}: {len(new['kept'])} kept, {len(new['rejected'])} rejected "
                  f"({', '.join(f'{k} {v}' for k, v in reasons.most_common())}); "
                  f"{'identical to' if same else 'DIFFERENT from'} {args.rev}")
        for name, path in tables.items():
            old = run_worker(before, "checks", path)["rows"]
            new = run_worker(ROOT, "checks", path)["rows"]
            differ += old != new
            changed = sum(a != b for a, b in zip(old, new)) + abs(len(old) - len(new))
            print(f"{name}, per-record checks: {len(new)} rows, {sum(bool(r[1]) for r in new)} with problems; "
                  f"{'identical to' if old == new else f'{changed} rows DIFFERENT from'} {args.rev}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
