"""The prosody task dataset: planning deals answers evenly, balancing holds within 5 %, the built dataset
passes validate, its answers agree with what the audio measures, and a rerun resumes."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotioncot.config import ProsodyConfig
from emotioncot.prosody.build import balance, build_tasks, plan
from emotioncot.prosody.schema import balance_problems, validate_task_rows
from emotioncot.prosody.tasks_compare import COMPARE_TASKS, ORDER_OPTIONS
from emotioncot.validate import validate_path


def _fake_records(n_per_split: int) -> list[dict]:
    recs = []
    for split in ("train", "validation", "test"):
        for i in range(n_per_split):
            recs.append({
                "id": f"{split}_{i:03d}", "audio_path": "/nonexistent.wav", "split": split, "speaker_id": split,
                "duration_s": 2.0, "f0_median_hz": 120.0, "transcript": "Kids are talking loudly",
                # every ninth source whispered-like periodic structure must not bias the dealing
                "meta": {"words": [["Kids", 0.1, 0.4], ["are", 0.4, 0.6], ["talking", 0.6, 1.0], ["loudly", 1.0, 1.4]]},
            })
    return recs


def test_plan_deals_answers_evenly():
    cfg = ProsodyConfig(per_utterance=2, tasks=("compare", "stress"))
    plans, skipped = plan(_fake_records(180), cfg)
    assert not skipped
    items = [i for per in plans.values() for i in per]
    by = Counter()
    for it in items:
        by[(it["task"], it["split"], it["balance_key"])] += 1
    for task in (*COMPARE_TASKS, "stress_word"):
        for split in ("train", "validation", "test"):
            counts = [v for (t, s, _), v in by.items() if t == task and s == split]
            assert counts, (task, split)
            assert max(counts) - min(counts) <= 1 + max(counts) // 6, (task, split, counts)
    orders = {it["answer"] for it in items if it["task"] == "compare_pitch_order"}
    assert orders == set(ORDER_OPTIONS)
    # the versions really are in the order the answer says
    for it in items:
        if it["task"] == "compare_pitch_order":
            pitch = [v.semitones for v in it["versions"]]
            ranked = "-".join(str(i + 1) for i in np.argsort(pitch))
            assert ranked == it["answer"]
        if it["task"] == "compare_speed_pair":
            faster = int(np.argmax([v.tempo for v in it["versions"]]))
            assert ("first", "second")[faster] == it["answer"]


def test_plan_skips_unusable_sources_with_reasons():
    recs = _fake_records(2)
    recs[0]["f0_median_hz"] = None
    recs[1]["duration_s"] = 30.0
    recs[2]["split"] = None
    _, skipped = plan(recs, ProsodyConfig(tasks=("compare",)))
    reasons = {s["source_id"]: s["reason"] for s in skipped}
    assert "no voiced speech" in reasons[recs[0]["id"]]
    assert "over max_source_s" in reasons[recs[1]["id"]]
    assert "no split" in reasons[recs[2]["id"]]


def _item(i, task, split, key):
    return {"id": f"{task}-{split}-{i}", "task": task, "split": split, "balance_key": key, "answer": key,
            "source_id": f"s{i}", "stem": "How high?", "vocabulary": ["low", "normal", "high", "flat"], "options": None}


def test_balance_trims_to_within_five_percent_and_finalises_options():
    items = []
    for split, counts in (("train", {"low": 150, "normal": 90, "high": 57, "flat": 3}), ("test", {"low": 30, "normal": 18, "high": 11, "flat": 1})):
        keys = [k for k, n in counts.items() for _ in range(n)]
        items += [_item(i, "attr_pitch", split, k) for i, k in enumerate(keys)]
    cfg = ProsodyConfig()
    kept, dropped = balance(items, cfg)
    assert balance_problems(kept, 0.05) == []
    assert len(kept) + len(dropped) == len(items)
    assert all(d["reason"].startswith("balance:") for d in dropped)
    counts = Counter((k["split"], k["answer"]) for k in kept)
    assert counts[("train", "low")] <= 1.05 * counts[("train", "high")]
    # "flat" is too rare to balance: left out of the answers and of the options
    assert all(k["answer"] != "flat" for k in kept)
    assert all(k["options"] == ["low", "normal", "high"] for k in kept)
    assert kept[0]["question"] == "How high? Answer with one of: low, normal, high."


def test_balance_problems_detects_imbalance():
    rows = [_item(i, "attr_pitch", "train", k) for i, k in enumerate(["low"] * 22 + ["high"] * 20)]
    assert balance_problems(rows, 0.05)  # 22 > 1.05 * 20
    rows = [_item(i, "attr_pitch", "train", k) for i, k in enumerate(["low"] * 21 + ["high"] * 20)]
    assert balance_problems(rows, 0.05) == []


@pytest.fixture(scope="module")
def small_source(demo_build):
    """Six demo utterances from each speaker (so every split is there), with their levels and word times."""
    from emotioncot.cli.prosody import load_source_records

    records = load_source_records(demo_build)
    picked = []
    for speaker in sorted({r["speaker_id"] for r in records}):
        own = sorted((r for r in records if r["speaker_id"] == speaker), key=lambda r: r["id"])
        picked += own[:: max(1, len(own) // 6)][:6]
    return picked


@pytest.fixture(scope="module")
def task_build(small_source, tmp_path_factory):
    out = tmp_path_factory.mktemp("prosody-tasks")
    # a small set: an answer needs only one item per split to count (min_per_answer 1)
    cfg = ProsodyConfig(per_utterance=3, workers=2, min_per_answer=1)
    summary = build_tasks(small_source, out, cfg, progress=False)
    return out, summary, cfg


def test_task_dataset_passes_validate(task_build):
    out, summary, _ = task_build
    report = validate_path(out)
    assert report["ok"], report["problems"][:5]
    assert "prosody tasks" in report["kind"]
    assert report["rows"] == sum(summary["splits"].values())
    families = {t.split("_")[0] for t in summary["tasks"]}
    assert {"attr", "compare", "stress"} <= families


def test_task_dataset_rows_and_audio(task_build):
    from emotioncot.export import load_dataset_dir

    out, summary, cfg = task_build
    dd = load_dataset_dir(out / "dataset")
    assert set(dd) <= {"train", "validation", "test"} and len(dd) >= 2
    assert (out / "README.md").read_text().count("compare_") >= 3
    for split, ds in dd.items():
        assert len(list((out / "parquet").glob(f"{split}-*.parquet"))) == 1
        for row in ds:
            msgs = row["messages"]
            assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
            assert msgs[1]["content"].startswith("<audio>\n")
            assert msgs[2]["content"] == row["answer"] == row["solution"]
            assert all(o in msgs[1]["content"] for o in row["options"])
            if row["audio_generated"]:
                y, sr = sf.read(io.BytesIO(row["audio"]["bytes"]))
                assert row["audio"]["path"] is None
                assert sr == cfg.sample_rate
                assert abs(len(y) / sr - row["duration_s"]) < 1e-3
            else:
                # save_to_disk embeds referenced files and keeps their base name as the path
                assert row["audio"]["path"] == Path(row["audio_path"]).name
                y, sr = sf.read(io.BytesIO(row["audio"]["bytes"]))
                assert abs(len(y) / sr - row["duration_s"]) < 0.01


def _segments(y, sr, versions, silence_s):
    """Cut a joined clip back into its versions from their known lengths."""
    out, pos, gap = [], 0, int(round(silence_s * sr))
    for n in versions:
        out.append(y[pos:pos + n])
        pos += n + gap
    assert pos - gap == len(y)  # nothing but the versions and the silences between them
    return out


def test_compare_answers_agree_with_the_audio(task_build):
    """Decode every pair item, cut it into its versions and measure them: the version the answer names is
    the higher / louder / faster one."""
    from emotioncot.export import load_dataset_dir
    from emotioncot.measure import measure_signal
    from emotioncot.prosody.verify import tempo_ratio, frame_power

    out, _, cfg = task_build
    checked = Counter()
    for ds in load_dataset_dir(out / "dataset").values():
        for row in ds:
            if not row["task"].startswith("compare_") or not row["task"].endswith("_pair"):
                continue
            measured = json.loads(row["measured"])
            y, sr = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="float32")
            segs = _segments(y, sr, measured["version_samples"], cfg.join_silence_s)
            pick = ("first", "second").index(row["answer"])
            dim = row["task"].split("_")[1]
            if dim == "pitch":
                f0 = [measure_signal(s, sr)["f0_median_hz"] for s in segs]
                assert f0[pick] > f0[1 - pick]
            elif dim == "energy":
                level = [measure_signal(s, sr)["energy_dbfs"] for s in segs]
                assert level[pick] > level[1 - pick] + 2.0
            else:
                db = [10 * np.log10(np.maximum(frame_power(s, sr), 1e-20)) for s in segs]
                # how much faster the named version runs than the other one
                assert tempo_ratio(db[1 - pick], db[pick]) > 1.1
            checked[dim] += 1
    assert set(checked) == {"pitch", "energy", "speed"}, checked


def test_every_planned_item_is_exported_or_dropped_with_reason(task_build, small_source):
    out, summary, cfg = task_build
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert all(d["reason"] for d in dropped)
    plans, _ = plan(small_source, cfg)
    planned = {i["id"] for per in plans.values() for i in per}
    exported = set()
    from emotioncot.export import load_dataset_dir

    for ds in load_dataset_dir(out / "dataset").values():
        exported |= set(ds["id"])
    dropped_ids = {d.get("id") for d in dropped}
    assert planned <= exported | dropped_ids
    # verification drops name the measured and the intended change
    for d in dropped:
        if d["task"].startswith("compare_") and not d["reason"].startswith("balance"):
            assert "intended" in d["reason"] or "failed" in d["reason"] or "samples" in d["reason"]


def test_rerun_resumes_without_regenerating(task_build, small_source):
    out, summary, cfg = task_build
    journal_lines = (out / "work" / "journal.jsonl").read_text().count("\n")
    again = build_tasks(small_source, out, cfg, progress=False)
    assert (out / "work" / "journal.jsonl").read_text().count("\n") == journal_lines
    assert again["splits"] == summary["splits"]
    assert again["seconds"]["generation"] < summary["seconds"]["generation"] / 3


def test_validate_reports_broken_task_rows(task_build):
    from emotioncot.export import load_dataset_dir

    out, _, _ = task_build
    ds = next(iter(load_dataset_dir(out / "dataset").values()))
    rows = [r for r in ds.remove_columns(["audio", "messages", "prompt", "solution"])]
    rows[0] = {**rows[0], "answer": "definitely not an option"}
    rows[1] = {**rows[1], "task": "attr_tempo"}
    rows.append(dict(rows[2]))
    report = validate_task_rows(rows, "x", "dataset")
    codes = Counter(p["code"] for p in report["problems"])
    assert not report["ok"]
    assert codes["schema"] >= 2 and codes["duplicate_id"] == 1


def test_cli_attributes_only(demo_build, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    out = tmp_path / "attr"
    result = CliRunner().invoke(app, ["prosody-tasks", "--data", str(demo_build), "--out", str(out), "--tasks", "attributes"])
    assert result.exit_code == 0, result.output
    assert "attr_pitch" in result.output
    checked = CliRunner().invoke(app, ["validate", str(out)])
    assert checked.exit_code == 0, checked.output
    bad = CliRunner().invoke(app, ["prosody-tasks", "--data", str(tmp_path / "missing"), "--out", str(out)])
    assert bad.exit_code != 0 and "does not exist" in bad.output
    bad = CliRunner().invoke(app, ["prosody-tasks", "--data", str(demo_build), "--out", str(out), "--tasks", "rhythm"])
    assert bad.exit_code != 0 and "unknown task families" in bad.output


def test_interrupted_run_redoes_only_unfinished_utterances(task_build, small_source):
    """A journal cut short by a kill (two utterances missing, a torn last line) is completed on rerun."""
    out, summary, cfg = task_build
    journal = out / "work" / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-2]) + lines[-1][: len(lines[-1]) // 2])
    again = build_tasks(small_source, out, cfg, progress=False)
    assert journal.read_text().count("\n") == len(lines)
    assert again["splits"] == summary["splits"]
    assert again["tasks"] == summary["tasks"]


def test_stress_questions_from_a_real_build_use_the_measure_stage_word_times(real_build, tmp_path):
    """Real recordings carry no word times in their metadata; the measure stage's alignment gives them, so the
    stress_word family is built (it was dropped whole: "no word times in the record's metadata")."""
    import pyarrow.parquet as pq

    from emotioncot.cli.prosody import build_measure_config, load_source_records
    from emotioncot.prosody.word_times import aligned_words

    out, _ = real_build
    records = [r for r in load_source_records(out) if r.get("split")]
    assert records and not any((r.get("meta") or {}).get("words") for r in records)
    picked = sorted(records, key=lambda r: r["id"])[::6]  # both corpora, a few sentences
    cfg = ProsodyConfig(tasks=("stress",), per_utterance=1, workers=2, min_per_answer=1, balance_tolerance=10)
    summary = build_tasks(picked, tmp_path / "tasks", cfg, progress=False, measure_config=build_measure_config(out))
    dropped = [json.loads(line) for line in (tmp_path / "tasks" / "dropped.jsonl").read_text().splitlines()]
    assert not any("no word times" in d["reason"] for d in dropped), dropped
    assert summary["tasks"].get("stress_word", 0) >= len(picked) // 2, (summary, dropped)
    rows = [r for f in (tmp_path / "tasks" / "parquet").glob("*.parquet")
            for r in pq.read_table(f, columns=["source_id", "answer", "intended", "corpus"]).to_pylist()]
    assert {r["corpus"] for r in rows} == {"emodb", "ravdess"}
    by_id = {r["id"]: r for r in picked}
    for row in rows:
        intended = json.loads(row["intended"])
        words, why = aligned_words(by_id[row["source_id"]], build_measure_config(out))
        word, start, end = words[intended["word_index"]]
        assert word.strip(".,") == row["answer"] == intended["word"]
        assert (intended["start_s"], intended["end_s"]) == pytest.approx((start, end), abs=1e-6)
    # two speakers make at most two splits: validate says which is empty, as a build's summary does
    report = validate_path(tmp_path / "tasks")
    empty = [s for s in ("train", "validation", "test") if not summary["splits"].get(s)]
    assert empty and all({"code": "small_split", "id": None, "message": f"split {s} is empty"} in report["warnings"]
                         for s in empty), report["warnings"]
