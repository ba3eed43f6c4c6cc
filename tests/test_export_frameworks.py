"""Framework exports (``export --for``), read back with plain json / pyarrow / soundfile against the documented
layout, and with lhotse's own loader: real recordings (EmoDB 16 kHz mono, RAVDESS 48 kHz stereo), a segment, a
channel of a two-speaker recording, a record whose audio is gone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from emotioncot.audio.io import read_audio
from emotioncot.export.frameworks import INFO_FILE, export_for_framework
from emotioncot.export.synthetic import synthetic_records
from emotioncot.export.views import ANSWER_PATTERN, AUDIO_PLACEHOLDER, PROMPT_STYLES
from emotioncot.measure.signal import resample
from emotioncot.schema import Record
from emotioncot.tables import write_table
from emotioncot.taxonomy import SPLITS
from emotioncot.workspace import Workspace

RATE = 16000
QUANTUM = 1.0 / 32768  # the clips are 16-bit PCM


@pytest.fixture(scope="module")
def build(test_data, tmp_path_factory) -> tuple[Path, dict]:
    """A build folder whose filter stage holds 7 records: whole files, a segment, both channels of a conversation
    whose channels differ, and one whose file is missing. Returns (folder, records by id)."""
    root = tmp_path_factory.mktemp("fw-build")
    emodb = sorted((test_data / "emodb" / "wav").glob("*.wav"))
    ravdess = sorted((test_data / "ravdess").glob("*.wav"))
    left, _ = read_audio(emodb[0])
    right, _ = read_audio(emodb[1])
    n = min(len(left), len(right))
    conversation = root / "conversation.wav"
    sf.write(conversation, np.stack([left[:n], right[:n]], axis=1), 16000, subtype="PCM_16")
    recs = synthetic_records(7, str(emodb[0]), seed=5)
    splits = ["train", "train", "train", "validation", "test", "train", "train"]
    sources = [emodb[0], emodb[1], ravdess[0], conversation, conversation, ravdess[1], root / "gone.wav"]
    for rec, split, source in zip(recs, splits, sources):
        rec["split"], rec["audio_path"] = split, str(source)
    recs[2]["start_s"], recs[2]["end_s"] = 0.5, 1.25
    recs[3]["meta"] = {"channel": 0, "synthesis": {"word_starts_s": [0.1, 0.5]}}
    recs[4]["meta"] = {"channel": 1, "synthesis": {"word_starts_s": ["n/a"]}}
    write_table(Workspace(root).stage_table("filter"), recs, Record)
    return root, {r["id"]: r for r in recs}


def _expected(rec: dict) -> np.ndarray:
    """The record's audio as the export promises it: its span, its channel (else the channel mean), at 16 kHz."""
    channel = rec["meta"].get("channel")
    y, sr = read_audio(rec["audio_path"], rec.get("start_s"), rec.get("end_s"), channel=channel)
    return resample(y.astype(np.float64), sr, RATE)


def _check_clip(out: Path, rel: str, rec: dict) -> None:
    assert not Path(rel).is_absolute() and ".." not in Path(rel).parts, rel
    info = sf.info(str(out / rel))
    assert (info.samplerate, info.channels) == (RATE, 1), rel
    y, _ = sf.read(str(out / rel), dtype="float64")
    want = _expected(rec)
    assert len(y) == len(want)
    assert np.max(np.abs(y - np.clip(want, -1, 1))) <= QUANTUM, rec["id"]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _export(build, framework, tmp_path, **kwargs) -> tuple[Path, dict]:
    root, _ = build
    out = tmp_path / framework
    info = export_for_framework(root, framework, out, **kwargs)
    assert json.loads((out / INFO_FILE).read_text()) == info
    return out, info


def _check_left_out(info: dict, recs: dict) -> None:
    assert info["counts"] == {"train": 4, "validation": 1, "test": 1}
    [gone] = info["left_out"]
    assert gone["id"] == [r["id"] for r in recs.values() if r["audio_path"].endswith("gone.wav")][0]
    assert "gone.wav" in gone["reason"] and "does not exist" in gone["reason"]


def _check_conversation(rows: list[dict], recs: dict, key=lambda row: row["id"]) -> None:
    rows = [r for r in rows if recs[key(r)]["meta"].get("channel") is not None]
    assert len(rows) == 2  # both speakers of the conversation, each on their own clip


def test_llamafactory_export(build, tmp_path):
    _, recs = build
    out, info = _export(build, "llamafactory", tmp_path)
    _check_left_out(info, recs)
    dataset_info = json.loads((out / "dataset_info.json").read_text())
    assert sorted(dataset_info) == sorted(f"emotioncot_{s}" for s in SPLITS)
    for split in SPLITS:
        entry = dataset_info[f"emotioncot_{split}"]
        assert entry["formatting"] == "sharegpt"
        assert entry["columns"] == {"messages": "messages", "audios": "audios"}
        assert entry["tags"]["role_tag"] == "role" and entry["tags"]["system_tag"] == "system"
        rows = _jsonl(out / entry["file_name"])
        assert len(rows) == info["counts"][split]
        for row in rows:
            rec = recs[row["id"]]
            assert rec["split"] == split
            assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
            assert row["messages"][1]["content"].count(AUDIO_PLACEHOLDER) == len(row["audios"]) == 1
            match = ANSWER_PATTERN.match(row["messages"][2]["content"])
            assert match and match["answer"] == rec["emotion"]
            _check_clip(out, row["audios"][0], rec)
    _check_conversation(_jsonl(out / "validation.jsonl") + _jsonl(out / "test.jsonl"), recs)


def test_ms_swift_export_with_the_emotionthinker_prompt(build, tmp_path):
    _, recs = build
    out, info = _export(build, "ms-swift", tmp_path, style="emotionthinker")
    style = PROMPT_STYLES["emotionthinker"]
    for split in SPLITS:
        sft, grpo = _jsonl(out / f"{split}.jsonl"), _jsonl(out / f"grpo_{split}.jsonl")
        assert len(sft) == len(grpo) == info["counts"][split]
        for row, rl in zip(sft, grpo):
            rec = recs[row["id"]]
            assert row["messages"][0]["content"] == style.system
            assert row["messages"][1]["content"] == style.user_turn()
            assert rl["messages"] == row["messages"][:2]  # no answer in the GRPO prompt
            assert rl["solution"] == rl["emotion"] == rec["emotion"] and rl["id"] == rec["id"]
            assert rl["pitch_level"] == rec["pitch_level"] and rl["caption"] == rec["caption"]
            assert rl["audios"] == row["audios"]
            _check_clip(out, row["audios"][0], rec)


def test_verl_export_holds_16khz_arrays(build, tmp_path):
    _, recs = build
    out, info = _export(build, "verl", tmp_path)
    for split in SPLITS:
        table = pq.read_table(out / f"{split}.parquet")
        assert table.column_names == ["data_source", "prompt", "audios", "ability", "reward_model", "extra_info"]
        rows = table.to_pylist()
        assert len(rows) == info["counts"][split]
        for row in rows:
            extra = row["extra_info"]
            rec = recs[extra["id"]]
            assert row["data_source"] == "emotioncot" and extra["split"] == split
            assert row["reward_model"] == {"style": "rule", "ground_truth": rec["emotion"]}
            assert [m["role"] for m in row["prompt"]] == ["system", "user"]
            assert row["prompt"][1]["content"].count(AUDIO_PLACEHOLDER) == len(row["audios"]) == 1
            assert extra["sampling_rate"] == RATE
            _check_clip(out, extra["audio"], rec)
            clip, _ = sf.read(str(out / extra["audio"]), dtype="float32")
            assert np.array_equal(np.asarray(row["audios"][0], dtype=np.float32), clip)


def test_lhotse_export_loads_with_lhotse(build, tmp_path):
    from lhotse import CutSet

    _, recs = build
    out, info = _export(build, "lhotse", tmp_path)
    moved = tmp_path / "moved"  # relative paths: the folder works wherever it is put
    shutil.move(str(out), moved)
    for split in SPLITS:
        cuts = CutSet.from_file(moved / "lhotse" / f"{split}_cuts.jsonl.gz").with_recording_path_prefix(str(moved))
        assert len(cuts) == info["counts"][split]
        for cut in cuts:
            [sup] = cut.supervisions
            rec = recs[sup.custom["id"]]
            assert sup.custom["emotion"] == rec["emotion"] and sup.custom["split"] == split
            assert sup.custom["cot_analysis"] == rec["cot_analysis"] and "audio_path" not in sup.custom
            assert json.loads(sup.custom["meta"]) == rec["meta"]
            assert sup.text == rec["transcript"] and sup.speaker == rec["speaker_id"]
            audio = cut.load_audio()
            assert cut.sampling_rate == RATE and audio.shape[0] == 1
            want = np.clip(_expected(rec), -1, 1)
            assert audio.shape[1] == len(want) and np.max(np.abs(audio[0] - want)) <= QUANTUM


def test_lhotse_webdataset_shards_read_back_like_the_manifests(build, tmp_path):
    from lhotse import CutSet
    from lhotse.dataset.webdataset import LazyWebdatasetIterator

    out, info = _export(build, "lhotse", tmp_path, webdataset_shard_size=2)
    moved = tmp_path / "moved"  # the shards are listed relative to the folder, which works wherever it is put
    shutil.move(str(out), moved)
    shards = [f for f in info["files"] if f.endswith(".tar")]
    assert info["webdataset_shard_size"] == 2
    for split in SPLITS:
        manifest = CutSet.from_file(moved / "lhotse" / f"{split}_cuts.jsonl.gz").with_recording_path_prefix(str(moved))
        mine = sorted(f for f in shards if f.startswith(f"lhotse/webdataset/{split}/"))
        assert len(mine) == max(1, -(-info["counts"][split] // 2)), mine  # 2 cuts a shard; an empty split: one
        paths = [str(moved / f) for f in mine]
        # ignore_error_shards=False: a shard that does not read fails here rather than yielding no cuts
        sharded = list(CutSet.from_webdataset(paths, ignore_error_shards=False))
        assert [c.id for c in sharded] == [c.id for c in manifest] and len(sharded) == info["counts"][split]
        assert [c.id for c in LazyWebdatasetIterator(paths, ignore_error_shards=False)] == [c.id for c in manifest]
        for got, want in zip(sharded, manifest):
            assert got.recording.sources[0].type == "memory"  # the audio travels inside the shard
            assert got.supervisions[0].custom == want.supervisions[0].custom
            assert got.supervisions[0].to_dict() == want.supervisions[0].to_dict()
            assert got.sampling_rate == RATE and got.num_channels == 1
            audio, expected = got.load_audio(), want.load_audio()
            assert audio.shape == expected.shape == (1, want.num_samples)
            assert np.array_equal(audio, expected), got.id
    # a later export without --webdataset removes the shards, which would no longer match its manifests
    export_for_framework(build[0], "lhotse", moved)
    assert not (moved / "lhotse" / "webdataset").exists()
    with pytest.raises(ValueError, match="lhotse only"):
        export_for_framework(build[0], "verl", tmp_path / "verl", webdataset_shard_size=2)


def test_resumed_export_reuses_clips_and_a_new_rate_makes_new_ones(build, tmp_path):
    out, _ = _export(build, "llamafactory", tmp_path)
    clips = sorted(out.glob("audio/*/*.wav"))
    stamps = [p.stat().st_mtime_ns for p in clips]
    export_for_framework(build[0], "llamafactory", out)
    assert [p.stat().st_mtime_ns for p in sorted(out.glob("audio/*/*.wav"))] == stamps
    export_for_framework(build[0], "llamafactory", out, sample_rate=24000)
    rows = _jsonl(out / "train.jsonl")
    assert {sf.info(str(out / r["audios"][0])).samplerate for r in rows} == {24000}


def test_cli_export_for(build, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    root, _ = build
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, ["export", str(root), "--for", "ms-swift", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "exported 6 records" in result.output and "1 records left out" in result.output
    assert (out / "grpo_train.jsonl").exists()
    bad = CliRunner().invoke(app, ["export", str(root), "--for", "keras", "--out", str(out)])
    assert bad.exit_code != 0 and "keras" in bad.output
    alone = CliRunner().invoke(app, ["export", str(root), "--for", "verl"])
    assert alone.exit_code != 0 and "--out" in alone.output
    shards = CliRunner().invoke(app, ["export", str(root), "--for", "lhotse", "--out", str(out), "--webdataset", "-q"])
    assert shards.exit_code == 0, shards.output
    assert "lhotse/webdataset/train/shard-000000.tar" in shards.output and "# writing" not in shards.output
    assert (out / "lhotse" / "webdataset" / "train" / "shard-000000.tar").is_file()
    wrong = CliRunner().invoke(app, ["export", str(root), "--for", "verl", "--out", str(out), "--webdataset"])
    assert wrong.exit_code != 0 and "--webdataset" in wrong.output


def test_jsonl_meta_is_json_text_and_reads_back(build, tmp_path):
    from emotioncot.export.jsonl import read_jsonl, write_jsonl

    _, recs = build
    path = tmp_path / "emotioncot.jsonl"
    write_jsonl(path, recs.values())
    for line, rec in zip(_jsonl(path), recs.values()):
        assert isinstance(line["meta"], str) and json.loads(line["meta"]) == rec["meta"]
        assert not any(isinstance(v, dict) and k == "meta" for k, v in line.items())
    back = {r["id"]: r for r in read_jsonl(path)}
    assert {k: back[k]["meta"] for k in recs} == {k: r["meta"] for k, r in recs.items()}
