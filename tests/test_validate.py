"""`emotioncot validate`: a clean build passes; each kind of problem fails with its name in the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emotioncot.cli import app
from emotioncot.validate import validate_path

runner = CliRunner()


@pytest.fixture()
def demo_rows(demo_build):
    return [json.loads(line) for line in (demo_build / "emotioncot.jsonl").read_text().splitlines()]


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_clean_build_folder_dataset_and_jsonl_pass(demo_build):
    for target in (demo_build, demo_build / "dataset", demo_build / "emotioncot.jsonl"):
        result = runner.invoke(app, ["validate", str(target)])
        assert result.exit_code == 0, result.output
        assert "OK: no problems found" in result.output and "216 rows" in result.output


def _speaker_in_two_splits(rows):
    a = rows[0]
    b = next(r for r in rows if r["speaker_id"] != a["speaker_id"])
    b["speaker_id"], b["split"] = a["speaker_id"], ("test" if a["split"] != "test" else "train")
    return "speaker_leak", f"speaker '{a['speaker_id']}'"


def _missing_audio(rows):
    rows[5]["audio_path"] = "/no/such/clip.wav"
    return "audio_missing", "/no/such/clip.wav"


def _label_outside_vocabulary(rows):
    rows[7]["emotion"] = "boredom"
    return "label_vocabulary", "boredom"


@pytest.mark.parametrize("spoil", [_speaker_in_two_splits, _missing_audio, _label_outside_vocabulary])
def test_each_problem_fails_validation_and_is_named(tmp_path, demo_rows, spoil):
    code, detail = spoil(demo_rows)
    path = _write(tmp_path / "bad.jsonl", demo_rows)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert f"[{code}]" in result.output and detail in result.output
    report = json.loads(runner.invoke(app, ["validate", str(path), "--json"]).output)
    assert report["ok"] is False and report["problem_counts"] == {code: 1}


def test_release_format_jsonl_with_aliases_and_relative_audio(tmp_path, demo_rows):
    import shutil

    rows = []
    for i, r in enumerate(demo_rows[:3]):
        clip = tmp_path / f"clip{i}.wav"
        shutil.copy(r["audio_path"], clip)
        rows.append({"audio_path": clip.name, "transcription": r["transcription"], "gt": r["emotion"].upper(),
                     "gender_new": r["gender"], "age_group": r["age_level"], "stress": "", "cot_analysis": r["cot_analysis"]})
    path = _write(tmp_path / "release.jsonl", rows)
    report = validate_path(path, check_audio=True)
    assert report["ok"], report["problems"]
    rows[1]["age_group"] = "Ancient"
    rows[2]["audio_path"] = "missing.wav"
    report = validate_path(_write(path, rows))
    assert sorted(report["problem_counts"]) == ["audio_missing", "label_vocabulary"]


def test_check_audio_finds_undecodable_file_and_duplicate_ids(tmp_path, demo_rows):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF0000WAVEnot really audio" * 10)
    demo_rows[3]["audio_path"] = str(broken)
    demo_rows[4]["id"] = demo_rows[5]["id"]
    path = _write(tmp_path / "bad.jsonl", demo_rows)
    assert "audio_undecodable" not in validate_path(path)["problem_counts"]  # existence only without --check-audio
    result = runner.invoke(app, ["validate", str(path), "--check-audio"])
    assert result.exit_code == 1
    assert "[audio_undecodable]" in result.output and "[duplicate_id]" in result.output


def test_jsonl_with_splits_warns_of_an_empty_split_as_a_build_does(tmp_path, demo_rows):
    rows = [r for r in demo_rows if r["split"] != "test"]
    report = validate_path(_write(tmp_path / "no-test.jsonl", rows))
    assert report["ok"] and {"code": "small_split", "id": None, "message": "split test is empty"} in report["warnings"]
    result = runner.invoke(app, ["validate", str(tmp_path / "no-test.jsonl")])
    assert result.exit_code == 0 and "split test is empty" in result.output


def test_check_audio_json_says_how_many_clips_were_decoded(tmp_path, demo_rows):
    path = _write(tmp_path / "few.jsonl", demo_rows[:4])
    plain = json.loads(runner.invoke(app, ["validate", str(path), "--json"]).output)
    checked = json.loads(runner.invoke(app, ["validate", str(path), "--json", "--check-audio"]).output)
    assert plain["audio_check"] == {"requested": False, "decoded": 0}
    assert checked["audio_check"] == {"requested": True, "decoded": 4} and checked["ok"]


def test_saved_dataset_with_a_bad_label(tmp_path, demo_build):
    from emotioncot.export import load_dataset_dir

    dd = load_dataset_dir(demo_build / "dataset")
    dd["test"] = dd["test"].map(lambda r, i: {"emotion": "bored" if i == 0 else r["emotion"]}, with_indices=True)
    dd.save_to_disk(str(tmp_path / "ds"))
    report = validate_path(tmp_path / "ds")
    assert report["kind"] == "dataset" and report["problem_counts"] == {"label_vocabulary": 1}


def test_class_imbalance_is_a_warning_not_a_failure(tmp_path, demo_rows):
    rows = [r for r in demo_rows if r["emotion"] != "fear"] + [r for r in demo_rows if r["emotion"] == "fear"][:1]
    report = validate_path(_write(tmp_path / "imb.jsonl", rows), max_imbalance=10)
    assert report["ok"]
    assert [w["code"] for w in report["warnings"]] == ["class_imbalance"]
    assert report["class_balance"]["fear"] == 1


def test_not_a_dataset(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2 and "not a build folder" in result.output


def test_build_folder_without_export_reads_the_filter_table(tmp_path, demo_build):
    import shutil

    (tmp_path / "stages").mkdir()
    shutil.copy(demo_build / "stages" / "filter.parquet", tmp_path / "stages" / "filter.parquet")
    report = validate_path(tmp_path)
    assert report["kind"] == "build" and report["rows"] == 216 and report["ok"], report["problems"][:3]


def _misquote_pitch_number(rows):
    """The rationale quotes a median F0 three times the measured one."""
    import re

    row = next(r for r in rows if re.search(r"about (\d+) Hz", r["cot_analysis"]))
    hz = re.search(r"about (\d+) Hz", row["cot_analysis"]).group(1)
    row["cot_analysis"] = row["cot_analysis"].replace(f"about {hz} Hz", f"about {int(hz) * 3} Hz")
    return row["id"]


def _contradict_pitch_level(rows, avoid: str):
    """The record's pitch level is changed under a rationale that states the measured one."""
    row = next(r for r in rows if r["pitch_level"] == "low" and r["id"] != avoid)
    row["pitch_level"] = "high"
    return row["id"]


def test_validate_reads_every_rationale_again_with_the_filters_checks(tmp_path, demo_rows):
    wrong_number = _misquote_pitch_number(demo_rows)
    wrong_level = _contradict_pitch_level(demo_rows, avoid=wrong_number)
    path = _write(tmp_path / "edited.jsonl", demo_rows)
    assert validate_path(path)["ok"]  # a JSONL file is not read for text unless asked
    result = runner.invoke(app, ["validate", str(path), "--check-text", "-q"])
    assert result.exit_code == 1, result.output
    assert f"[text_numeric] {wrong_number}: " in result.output
    assert f"[text_grounding_pitch] {wrong_level}: " in result.output
    report = validate_path(path, check_text=True)
    codes: dict[str, set] = {}
    for p in report["problems"]:
        codes.setdefault(p["id"], set()).add(p["code"])
    assert set(codes) == {wrong_number, wrong_level}  # the other 214 rows still pass
    assert codes[wrong_number] == {"text_numeric"} and "text_grounding_pitch" in codes[wrong_level]
    assert report["text_check"] == {"checked": True, "rows": 216, "filter_config": "defaults"}


def test_saved_dataset_is_read_for_text_by_default(tmp_path, demo_build):
    from emotioncot.export import load_dataset_dir

    dd = load_dataset_dir(demo_build / "dataset")
    target = next(i for i, t in enumerate(dd["train"]["cot_analysis"]) if "Hz)" in t)

    def spoil(row, i):
        if i != target:
            return {}
        import re

        return {"cot_analysis": re.sub(r"about (\d+) Hz", lambda m: f"about {int(m.group(1)) * 3} Hz", row["cot_analysis"])}

    dd["train"] = dd["train"].map(spoil, with_indices=True)
    dd.save_to_disk(str(tmp_path / "ds"))
    report = validate_path(tmp_path / "ds")
    assert report["problem_counts"] == {"text_numeric": 1}, report["problems"][:3]
    assert report["problems"][0]["id"] == dd["train"][target]["id"]
    assert validate_path(tmp_path / "ds", check_text=False)["ok"]
    clean = validate_path(demo_build)
    assert clean["ok"] and clean["text_check"]["filter_config"] == str(demo_build / "build.json")


def test_text_check_uses_the_builds_own_filter_settings(tmp_path, demo_build):
    import shutil

    (tmp_path / "stages").mkdir()
    shutil.copy(demo_build / "stages" / "filter.parquet", tmp_path / "stages" / "filter.parquet")
    config = json.loads((demo_build / "build.json").read_text())["config"]
    config["filter"]["min_words"] = 201  # stricter than any rationale: the template writes 50 to 200 words
    (tmp_path / "build.json").write_text(json.dumps({"config": config}))
    report = validate_path(tmp_path)
    assert report["problem_counts"] == {"text_length_short": 216}  # every demo rationale
    assert all(p["message"].endswith("fewer than 201") for p in report["problems"])
    assert report["text_check"]["filter_config"] == str(tmp_path / "build.json")
