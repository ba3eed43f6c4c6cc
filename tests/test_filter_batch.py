"""The filter split for shards (issue 32): ``filter_batch`` depends only on its batch, and the global
near-duplicate pass fed batch by batch in table order gives what one ``filter_records`` call gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emotioncot.config import FilterConfig
from emotioncot.filter import drop_near_duplicates, duplicate_index, filter_batch, filter_records

RATIONALES = Path(__file__).resolve().parent / "data" / "rationales"


@pytest.fixture(scope="module")
def table(demo_build) -> list[dict]:
    """Demo records, some with levels that their text contradicts, some repeating another's rationale,
    among the hand-written and real-model rationale files: every kind of outcome, in one table."""
    from emotioncot.pipeline import load_records
    from emotioncot.workspace import Workspace

    demo = load_records(Workspace(demo_build))
    rows = []
    for i, rec in enumerate(demo[:90]):
        rows.append(rec)
        if i % 9 == 4:  # another record's levels under this text: grounding contradictions
            other = demo[(i + 40) % len(demo)]
            rows.append({**rec, "id": rec["id"] + "_swapped",
                         **{k: other[k] for k in ("pitch_level", "energy_level", "speed_level", "intonation")}})
        if i % 11 == 3:  # the same rationale again, a word changed: a near-duplicate of the earlier one
            rows.append({**rec, "id": rec["id"] + "_again", "cot_analysis": rec["cot_analysis"].replace(" is ", " was ", 1)})
    for path in sorted(RATIONALES.glob("heldout*.jsonl")) + [RATIONALES / "real_smollm2.jsonl"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append({**row, "id": f"{path.stem}/{row.get('id')}"})
    return rows


def _sharded(rows: list[dict], size: int, config: FilterConfig) -> tuple[list[dict], list[dict]]:
    index = duplicate_index(config)
    kept, rejected = [], []
    for start in range(0, len(rows), size):
        batch_kept, batch_rejected = filter_batch(rows[start : start + size], config)
        batch_kept, repeated = drop_near_duplicates(batch_kept, index)
        kept += batch_kept
        rejected += batch_rejected + repeated
    return kept, rejected


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_shards_give_the_rows_of_one_pass(table, size):
    config = FilterConfig()
    kept, rejected = filter_records(table, config)
    codes = {code for row in rejected for code in row["reject_reasons"]}
    # the table exercises the per-record checks and the global pass, and keeps most demo records
    assert {"near_duplicate", "grounding_pitch", "label_conclusion"} <= codes, codes
    assert len(kept) > 60 and len(rejected) > 60
    shard_kept, shard_rejected = _sharded(table, size, config)
    assert shard_kept == kept
    order = {row["id"]: n for n, row in enumerate(table)}
    assert sorted(shard_rejected, key=lambda r: order[r["id"]]) == rejected


def test_a_batch_is_judged_on_its_own(table):
    config = FilterConfig(check_duplicates=False)
    whole_kept, whole_rejected = filter_batch(table, config)
    half = len(table) // 2
    first, second = filter_batch(table[:half], config), filter_batch(table[half:], config)
    assert first[0] + second[0] == whole_kept
    assert first[1] + second[1] == whole_rejected
    # filter_batch leaves near-duplicates to the global pass: the repeated rationale is kept by it
    assert any(row["id"].endswith("_again") for row in whole_kept)
    assert filter_records(table, config) == (whole_kept, whole_rejected)


def test_the_global_pass_names_the_first_kept_rationale(table):
    config = FilterConfig()
    kept, _ = filter_batch(table, config)
    index = duplicate_index(config)
    _, repeated = drop_near_duplicates(kept[:40], index)
    later, repeated_later = drop_near_duplicates(kept[40:], index)
    for row in repeated + repeated_later:
        assert row["reject_reasons"] == ["near_duplicate"]
        original = row["id"].removesuffix("_again")
        assert f"repeats the rationale of {original} (Jaccard" in row["explanation"], row["explanation"]
    assert len(repeated + repeated_later) >= 5
