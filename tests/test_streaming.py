"""The streamed stages: tables written and read in batches, the calibration fit fed batch by batch, the
near-duplicate pass on disk, the export and the report from iterables, all giving what the whole-table code gives."""

from __future__ import annotations

import json
import random

import numpy as np
import pyarrow as pa
import pytest

from emotioncot.batches import TableWriter, iter_rows, num_rows
from emotioncot.calibrate.levels import (ThresholdFit, apply_thresholds, fit_thresholds, group_key, vocal_effort,
                                         whispered)
from emotioncot.calibrate.reliability import check, valid
from emotioncot.config import CalibrateConfig
from emotioncot.filter import duplicates
from emotioncot.filter.duplicates import MAX_CANDIDATES, NearDuplicateIndex
from emotioncot.schema import Levels, Record
from emotioncot.tables import read_table
from emotioncot.workspace import Workspace


@pytest.fixture(scope="module")
def demo_records(demo_build):
    from emotioncot.pipeline import load_records

    return load_records(Workspace(demo_build))


def test_table_written_in_batches_reads_back_as_written(tmp_path):
    rows = [{"id": f"r{i}", "pitch_level": None, "level_reasons": {}, "level_group": None} for i in range(5)]
    later = [{"id": "r9", "pitch_level": "high", "energy_level": "low", "level_reasons": {"speed_level": "too short"},
              "level_group": "demo/speaker=a", "energy_basis": "alpha_ratio"}]
    path = tmp_path / "levels.parquet"
    with TableWriter(path, Levels) as writer:
        writer.write(rows)  # every level null: the column keeps its type all the same
        writer.write(later)
    assert num_rows(path) == 6
    streamed = [r for batch in iter_rows(path, Levels, batch_rows=4) for r in batch]
    assert streamed == read_table(path, Levels)
    assert streamed[-1]["level_reasons"] == {"speed_level": "too short"} and streamed[0]["pitch_level"] is None


def test_a_table_left_by_an_error_is_never_in_place(tmp_path):
    path = tmp_path / "levels.parquet"
    with pytest.raises(RuntimeError):
        with TableWriter(path, Levels) as writer:
            writer.write([{"id": "a"}])
            raise RuntimeError("killed")
    assert not path.exists() and not list(tmp_path.iterdir())


def test_fit_fed_in_batches_is_the_fit_of_the_whole_table_and_the_naive_quantiles(demo_records):
    rows = [dict(r) for r in demo_records]
    config = CalibrateConfig()
    whole = fit_thresholds(rows, config)
    shuffled_batches = ThresholdFit(config)
    for start in range(0, len(rows), 17):
        shuffled_batches.add(rows[start:start + 17])
    assert shuffled_batches.thresholds()["groups"] == whole["groups"]
    # the cut points, recomputed the plain way: every reliable value of every row of the group
    for key, entry in whole["groups"].items():
        members = [r for r in rows if key in {group_key(r, m) for m in whole["fallback"]}]
        for level, feature in whole["features"].items():
            if feature not in entry:
                continue
            weight = entry[feature].get("level_weight", 0.0)
            values = []
            for r in members:
                if check(r, level, config) is not None:
                    continue
                if level == "energy_level" and whispered(r, config):
                    continue  # a whisper is graded by rule, not by its alpha ratio
                v = vocal_effort(r, weight) if feature == "vocal_effort_db" else r.get(feature)
                if valid(v):
                    values.append(v)
            assert entry[feature]["n"] == len(values), (key, feature)
            assert entry[feature]["cuts"] == pytest.approx([float(np.quantile(values, q)) for q in config.quantiles])
    assert apply_thresholds(rows, whole) == apply_thresholds(list(reversed(rows)), whole)[::-1]


def _texts(demo_records) -> list[str]:
    texts = [r["cot_analysis"] for r in demo_records]
    rng = random.Random(0)
    out = []
    for i, text in enumerate(texts):
        out.append(text)
        if i % 7 == 0:  # a near copy: one word changed
            words = text.split()
            words[rng.randrange(len(words))] = "indeed"
            out.append(" ".join(words))
        if i % 11 == 0:
            out.append(text)  # an exact copy
    return out


def test_near_duplicates_on_disk_decide_as_in_memory(demo_records, tmp_path):
    texts = _texts(demo_records)
    memory, disk = NearDuplicateIndex(), NearDuplicateIndex(path=tmp_path / "nd.sqlite")
    found_memory = [memory.check(f"t{i}", t) for i, t in enumerate(texts)]
    found_disk = [disk.check(f"t{i}", t) for i, t in enumerate(texts)]
    disk.close()
    assert not (tmp_path / "nd.sqlite").exists()
    assert found_disk == found_memory
    repeats = [f for f in found_memory if f is not None]
    assert len(repeats) >= len(texts) // 11  # every exact copy at least


def test_near_duplicates_on_disk_across_signature_blocks_decide_as_in_memory(demo_records, tmp_path, monkeypatch):
    """The low bits of the signatures held in many small blocks: the rows gathered from several blocks are the
    representatives' own (a wrong row would screen out a repeat, or let a wrong one through)."""
    monkeypatch.setattr(duplicates._SignatureNibbles, "BLOCK", 8)
    texts = _texts(demo_records)
    memory, disk = NearDuplicateIndex(), NearDuplicateIndex(path=tmp_path / "nd.sqlite")
    found_memory = [memory.check(f"t{i}", t) for i, t in enumerate(texts)]
    found_disk = [disk.check(f"t{i}", t) for i, t in enumerate(texts)]
    assert len(disk.store.low_bits.blocks) > 10
    disk.close()
    assert found_disk == found_memory and sum(f is not None for f in found_memory) >= len(texts) // 11


def test_the_low_bits_screen_keeps_every_signature_that_agrees_and_no_other(tmp_path):
    """Signatures built to sit on either side of the floor, half of them with values whose low bits agree with the
    new text's while the full values differ: the store on disk, which screens by low bits, gives exactly the
    agreements the memory store computes from the full signatures."""
    rng = np.random.default_rng(5)
    width, floor = 64, 41.6
    signature = rng.integers(0, 2**32, size=width, dtype=np.uint64).astype(np.uint32)
    memory, disk = duplicates._MemoryStore(), duplicates._SqliteStore(tmp_path / "nd.sqlite")
    keys = [11, 22, 33]
    for n in range(100):  # fewer than MAX_SCAN and MAX_BUCKET: every one is a candidate
        other = rng.integers(0, 2**32, size=width, dtype=np.uint64).astype(np.uint32)
        same = rng.choice(width, size=int(rng.integers(30, 55)), replace=False)
        other[same] = signature[same]
        if n % 2:  # low bits that agree everywhere else: the screen lets it through, the full values must not
            rest = np.setdiff1d(np.arange(width), same)
            other[rest] = (other[rest] & np.uint32(0xFFFFFF00)) | (signature[rest] & np.uint32(0xFF))
            other[rest] ^= np.uint32(0x100)  # and never the full value
        for store in (memory, disk):
            store.add(f"r{n}", np.arange(3, dtype=np.uint64), other, keys)
    agree_memory, sizes_memory = memory.candidates(keys, signature, floor)
    agree_disk, sizes_disk = disk.candidates(keys, signature, floor)
    disk.close()
    assert sorted(agree_disk) == sorted(agree_memory)
    assert sizes_disk == sizes_memory == {k: 100 for k in keys}
    assert 10 < len(agree_memory) < 90  # both sides of the floor are represented


@pytest.mark.parametrize("width", [64, 63, 1])
def test_the_low_bits_agreement_counts_the_values_whose_low_4_bits_agree(width):
    rng = np.random.default_rng(width)
    nibbles = duplicates._SignatureNibbles(width)
    others = rng.integers(0, 2**32, size=(50, width), dtype=np.uint64).astype(np.uint32)
    signature = rng.integers(0, 2**32, size=width, dtype=np.uint64).astype(np.uint32)
    others[:, ::3] = signature[::3]  # some values equal
    others[::2, 1::3] = (others[::2, 1::3] & ~np.uint32(0xF)) | (signature[1::3] & 0xF)  # some equal in the low bits
    for other in others:
        nibbles.add(other)
    got = nibbles.agreement(np.arange(50), signature)
    assert got.tolist() == [int(np.count_nonzero((o & 0xF) == (signature & 0xF))) for o in others]
    assert all(got >= np.count_nonzero(others == signature, axis=1))


def test_a_duplicate_is_found_among_more_similar_texts_than_are_compared():
    """Many texts that share band buckets with a new text: the one it repeats shares the most bands, so the
    bound on comparisons keeps it."""
    base = ("the speaker sounds calm and the pitch is low while the words are spoken slowly with long pauses between "
            "them so the evidence points towards a quiet state of mind rather than any strong feeling at all today")
    rng = random.Random(1)
    index = NearDuplicateIndex(threshold=0.85)
    words = base.split()
    vocabulary = "soft loud bright dark warm cold quick slow sharp dull even rough smooth tense loose".split()
    for i in range(3 * MAX_CANDIDATES):  # similar, not duplicates: a few words of each replaced
        variant = list(words)
        for j in rng.sample(range(len(words)), 6):
            variant[j] = rng.choice(vocabulary)
        assert index.check(f"v{i}", " ".join(variant)) is None
    assert index.check("original", base) is None
    found = index.check("copy", base + " indeed")
    assert found is not None and found[0] == "original"


def test_export_of_a_stream_writes_what_the_list_writes(demo_build, tmp_path):
    from emotioncot.export import export_records

    kept = read_table(Workspace(demo_build).stage_table("filter"), Record)
    a, b = tmp_path / "list", tmp_path / "stream"
    counts_a = export_records(kept, a)
    counts_b = export_records(iter(kept), b, total=len(kept))
    assert counts_a == counts_b
    assert (a / "emotioncot.jsonl").read_text() == (b / "emotioncot.jsonl").read_text()
    assert (a / "README.md").read_text() == (b / "README.md").read_text()
    ids = [json.loads(line)["id"] for line in (a / "emotioncot.jsonl").read_text().splitlines()]
    splits = [next(r["split"] for r in kept if r["id"] == i) for i in ids]
    assert splits == sorted(splits, key=["train", "validation", "test"].index)  # split by split, as the dataset


def test_card_from_a_tally_counts_every_record(demo_build):
    from emotioncot.export.card import render_card
    from emotioncot.summary import RecordTally

    kept = read_table(Workspace(demo_build).stage_table("filter"), Record)
    tally = RecordTally()
    for start in range(0, len(kept), 50):
        tally.add(kept[start:start + 50])
    assert tally.total == len(kept) and len(tally.rows()) < len(kept)
    counts = {"train": 1, "validation": 1, "test": 1}
    assert render_card(tally.rows(), counts, embedded=False) == render_card(kept, counts, embedded=False)


def test_report_sample_depends_on_ids_not_on_table_order(demo_records):
    from emotioncot.report.summary import ReportSummary

    records = [{**r, "status": "kept", "reject_reasons": []} for r in demo_records]
    one, other = ReportSummary({}, 20, seed=3), ReportSummary({}, 20, seed=3)
    one.add(records)
    other.add(list(reversed(records)))
    assert [r["id"] for r in one.sampled()] == [r["id"] for r in other.sampled()]
    assert len(one.sampled()) == 20 and len({(r["emotion"]) for r in one.sampled()}) == 9
    third = ReportSummary({}, 20, seed=4)
    third.add(records)
    assert [r["id"] for r in third.sampled()] != [r["id"] for r in one.sampled()]
    assert one.kept == len(records) and sum(one.fields["emotion"]["kept"].values()) == len(records)


def test_filter_stage_rejections_stream_to_disk(demo_build, tmp_path):
    """rejected.jsonl and the errors are written as the pass goes; the stage's counts match the files. The demo
    rejects nothing, so five of its rationales are turned against their pitch first."""
    import shutil

    import pyarrow.parquet as pq

    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import load_records, run_filter

    root = tmp_path / "build"
    shutil.copytree(demo_build, root, symlinks=True)
    ws = Workspace(root)
    low = [r["id"] for r in load_records(ws, with_texts=False) if r.get("pitch_level") == "low"][:5]
    assert len(low) == 5
    table = pq.read_table(ws.stage_table("write"))
    texts = table.column("cot_analysis").to_pylist()
    for i, rid in enumerate(table.column("id").to_pylist()):
        if rid in low:
            first = texts[i].find(". ") + 2  # after the opening sentence
            texts[i] = texts[i][:first] + "Her pitch is very high. " + texts[i][first:]
    index = table.schema.get_field_index("cot_analysis")
    pq.write_table(table.set_column(index, table.schema.field(index), pa.array(texts, pa.string())), ws.stage_table("write"))
    ws.stage_meta("filter").unlink()  # the tampered text is not part of any key: make the filter run again
    shutil.rmtree(root / "stages" / "filter")
    run_filter(ws, None, BuildConfig())

    info = ws.stage_info("filter")
    rejected = [json.loads(line) for line in (root / "rejected.jsonl").read_text().splitlines() if line]
    assert sorted(r["id"] for r in rejected) == sorted(low)
    assert all("grounding_pitch" in r["reject_reasons"] for r in rejected)
    assert info["rejected"] == 5 and info["rows"] == num_rows(ws.stage_table("filter")) == table.num_rows - 5
    assert sum(info["emotions"].values()) == info["rows"]
    errors = ws.stage_errors("filter")
    assert sorted(e["id"] for e in errors) == sorted(low) and all(e["reason"].startswith("rejected: ") for e in errors)


def test_shard_index_finds_each_key_the_newest_shard_wins_and_missing_keys_are_none(tmp_path):
    from emotioncot.executors.shards import ShardStore, key64, write_shard

    store = ShardStore(tmp_path / "measure")

    def entry(key: str, value: int, ok: bool = True) -> dict:
        return {"id": f"id-{key}", "key": key, "ok": ok, "reason": None if ok else "broken",
                "result": json.dumps({"v": value}) if ok else None, "worker": "w", "seconds": 0.0}

    write_shard(store.folder / "shard-00000.parquet", [entry(f"k{i}", i) for i in range(50)] + [entry("bad", 0, ok=False)])
    write_shard(store.folder / "shard-00001.parquet", [entry(f"k{i}", 1000 + i) for i in range(50, 80)])
    write_shard(store.folder / "shard-00002.parquet", [entry("bad", 7)])  # a failure tried again: this one wins
    index = store.index()
    assert len(index) == 81 and store.next_number() == 3 and store.failed_keys() == {"bad"}
    keys = ["k79", "missing", "bad", "k3", "k50"]
    got = index.entries(keys)
    assert [e and e["result"] for e in got] == [{"v": 1079}, None, {"v": 7}, {"v": 3}, {"v": 1050}]
    assert [e and e["id"] for e in got] == ["id-k79", None, "id-bad", "id-k3", "id-k50"]
    digests = np.array([key64(k) for k in keys], dtype=np.uint64)
    assert index.contains(digests).tolist() == [True, False, True, True, True]
    assert index.entries_at(digests) == got
    assert ShardStore(tmp_path / "empty").index().contains(digests).tolist() == [False] * 5
