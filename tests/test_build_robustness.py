"""The build as a user meets it, through real `emotioncot build` processes: malformed list rows, two builds
into one folder, Ctrl-C, damaged exports, other sources, a stale lock, an unchanged rerun.

One small build (a JSONL and a CSV list over 12 demo clips, with every kind of bad row) is made by two
processes started at once; the other tests read copies of it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "emotioncot", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def lists(demo_corpus, tmp_path_factory) -> list[str]:
    """A JSONL list (BOM, CRLF) and a CSV list (BOM, CRLF) with good rows and one of each bad kind."""
    folder = tmp_path_factory.mktemp("lists")
    (folder / "wav").symlink_to(demo_corpus / "wav")  # relative paths inside the list's folder
    meta = [json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines()]
    good = meta[::18]  # 12 clips, every emotion
    keep = ("id", "audio_path", "transcript", "emotion", "speaker_id", "gender")
    jsonl = [json.dumps({k: r[k] for k in keep}).encode() for r in good[:8]]
    bad = [
        b"[1, 2, 3]",  # line 9: not an object
        json.dumps({**{k: good[8][k] for k in keep}, "id": "bad_start", "start_s": "abc"}).encode(),  # 10
        b'{"id": "bad_utf8", "audio_path": "wav/x.wav", "transcript": "caf\xe9"}',  # 11: Latin-1, not UTF-8
        b'{"id": "bad_json", ',  # 12
        json.dumps({"id": "outside", "audio_path": "../../etc/passwd", "emotion": "happy"}).encode(),  # 13
        json.dumps({"id": "no_audio", "emotion": "sad"}).encode(),  # 14
    ]
    (folder / "clips.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(jsonl + bad) + b"\r\n")
    header = ",".join(keep).encode()
    rows = [",".join(f'"{r[k]}"' for k in keep).encode() for r in good[8:]]
    csv_bad = [b'bad_csv_utf8,wav/x.wav,"d\xe9j\xe0 vu",happy,m1,Male', b"too,many,fields,a,b,c,d,e"]
    (folder / "more.csv").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join([header, *rows, *csv_bad]) + b"\r\n")
    return [f"jsonl:{folder / 'clips.jsonl'}", f"csv:{folder / 'more.csv'}"]


def _build_args(lists: list[str], out: Path) -> list[str]:
    args = ["build", "--out", str(out), "-q", "--workers", "2"]
    for spec in lists:
        args += ["--corpus", spec]
    return _cli(*args)


@pytest.fixture(scope="module")
def built(lists, tmp_path_factory):
    """Two builds of the same lists started at once into one folder: one builds, the other stops."""
    out = tmp_path_factory.mktemp("robust") / "build"
    procs = [subprocess.Popen(_build_args(lists, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in procs]
    return out, results


def test_two_builds_into_one_folder_one_builds_the_other_says_why(built):
    out, results = built
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, _, err in results if code == 2)
    assert f"{out} is in use by another build (pid " in loser and "Traceback" not in loser
    report = _validate(out)
    assert report.exit_code == 0, report.output
    ids = [json.loads(line)["id"] for line in (out / "emotioncot.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 12  # every good row once, none twice


def test_every_malformed_row_is_named_by_file_and_line_and_the_good_rows_build(built, lists):
    out, _ = built
    jsonl, csv = (spec.split(":", 1)[1] for spec in lists)
    reasons = [e["reason"] for e in map(json.loads, (out / "errors.jsonl").read_text().splitlines())
               if e["stage"] == "ingest"]
    expected = [
        f"{jsonl}:9: not a JSON object (a list)",
        f"{jsonl}:10: start_s is 'abc', expected a number",
        f"{jsonl}:11: not valid UTF-8 (byte 0xe9",
        f"{jsonl}:12: not valid JSON",
        f"{jsonl}:13: audio_path '../../etc/passwd' leads outside the list's folder",
        f"{jsonl}:14: no audio_path",
        f"{csv}:6: not valid UTF-8 (byte 0xe9",
        f"{csv}:7: 8 fields, the header has 6",
    ]
    for want in expected:
        assert sum(r.startswith(want) for r in reasons) == 1, (want, reasons)
    assert len(reasons) == len(expected)
    printed = next(stdout for code, stdout, _ in built[1] if code == 0)
    assert "8 items failed" in printed and f"{jsonl}:14: no audio_path" in printed  # the reasons, not just a count
    rows = [json.loads(line) for line in (out / "emotioncot.jsonl").read_text().splitlines()]
    assert sum(r["corpus"] == "more" for r in rows) == 4  # the CSV's BOM did not cost its header
    assert all(r["transcription"] and not r["transcription"].endswith("\r") for r in rows)


def test_outside_paths_are_allowed_when_the_list_says_so(lists, tmp_path):
    from emotioncot.ingest.core import read_source

    rows, errors = read_source(lists[0] + "?allow_outside=1")
    assert not any("outside" in e["reason"] for e in errors)
    assert any(r["id"] == "outside" and r["audio_path"].endswith("/etc/passwd") for r in rows)


def _validate(path: Path):
    from emotioncot.cli import app

    return CliRunner().invoke(app, ["validate", str(path)])


def _copy(built, tmp_path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(built[0], copy, symlinks=True)
    return copy


def _relabel(shard: Path) -> None:
    table = pq.read_table(shard)
    emotions = table.column("emotion").to_pylist()
    emotions[0] = "happy" if emotions[0] != "happy" else "sad"
    table = table.set_column(table.column_names.index("emotion"), "emotion", pa.array(emotions, table.schema.field("emotion").type))
    pq.write_table(table, shard)


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("damage", ["relabelled shard", "truncated shard", "deleted shard", "truncated arrow"])
def test_validate_names_the_damaged_file_and_push_refuses(built, tmp_path, damage):
    from emotioncot.export import hub

    copy = _copy(built, tmp_path)
    shard = sorted((copy / "parquet").glob("train-*.parquet"))[0]
    arrow = sorted((copy / "dataset" / "train").glob("*.arrow"))[0]
    {"relabelled shard": lambda: _relabel(shard), "truncated shard": lambda: _truncate(shard),
     "deleted shard": shard.unlink, "truncated arrow": lambda: _truncate(arrow)}[damage]()
    result = _validate(copy)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    named = arrow if damage == "truncated arrow" else shard
    assert f"[damaged_file] {named}:" in result.output
    with pytest.raises(hub.HubError, match="does not validate"):
        hub.push_export(copy, "me/emo", token=None, dry_run=True, log=lambda m: None)


def test_an_unchanged_rerun_skips_every_stage_and_a_stale_lock_is_taken_over(built, lists, tmp_path):
    from emotioncot.pipeline import STAGES, build

    copy = _copy(built, tmp_path)
    (copy / ".lock").write_text("pid 999999 on a-machine-that-crashed, since 2026-01-01 00:00:00\n")
    files = {p: p.stat().st_mtime_ns for p in copy.rglob("*") if p.is_file() and p.name not in (".lock", "build.json")}
    before = json.loads((copy / "build.json").read_text())
    logs: list[str] = []
    summary = build(lists, copy, progress=False, log=logs.append)
    assert any("taking over the lock left by a build that stopped (pid 999999" in m for m in logs), logs
    assert {p: p.stat().st_mtime_ns for p in files} == files  # nothing rewritten: every stage was skipped
    assert set(summary["seconds"]) == {*STAGES, "report", "total", "this_run"}
    # the figures are those of the run that made each stage, not the skipped stages' few milliseconds
    assert summary["seconds"] == {**before["seconds"], "this_run": summary["seconds"]["this_run"]}
    assert json.loads((copy / "build.json").read_text())["seconds"] == summary["seconds"]
    assert summary["seconds"]["this_run"] < summary["seconds"]["total"]
    assert (copy / ".lock").read_text() == ""  # released


def test_a_build_of_other_sources_into_the_folder_stops(built, tmp_path):
    from emotioncot.errors import BuildError
    from emotioncot.pipeline import build

    copy = _copy(built, tmp_path)
    with pytest.raises(BuildError, match="holds a build of .*clips.jsonl.* it will not take demo"):
        build(["demo"], copy, progress=False, log=lambda m: None)


def test_out_naming_a_file_is_one_clear_line(tmp_path):
    from emotioncot.cli import app

    target = tmp_path / "a-file"
    target.write_text("not a folder")
    result = CliRunner().invoke(app, ["build", "--corpus", "demo", "--out", str(target), "-q"])
    assert result.exit_code == 2
    assert f"error: {target} is a file, not a build folder" in result.output
    assert target.read_text() == "not a folder"


def test_outputs_get_the_users_umask(built):
    mask = os.umask(0o022)
    os.umask(mask)
    out, _ = built
    for name in ("emotioncot.jsonl", "README.md", "build.json", "checksums.json", "stages/measure.parquet"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_sigint_stops_with_one_line_and_the_rerun_gives_the_same_bytes(built, lists, tmp_path):
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(_build_args(lists, out), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / "stages" / "ingest.meta.json").exists():
        time.sleep(0.05)
    time.sleep(0.5)  # into the measure stage
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
    code = proc.wait(timeout=120)
    _, err = proc.communicate()
    assert code == 130, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("writer:")]
    assert len(lines) == 1 and lines[0].startswith(f"stopped by SIGINT; kept in {out}: finished stages: ingest")
    assert lines[0].endswith("Run the same command again to resume.")
    rerun = subprocess.run(_build_args(lists, out), env=_env(), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert (out / "emotioncot.jsonl").read_bytes() == (built[0] / "emotioncot.jsonl").read_bytes()


def test_wrong_corpus_name_says_each_items_reason_leaves_no_folder_and_the_corrected_build_runs(test_data, tmp_path):
    from emotioncot.cli import app

    out = tmp_path / "b"
    wrong = CliRunner().invoke(app, ["build", "--corpus", f"ravdess={test_data / 'emodb'}", "--out", str(out), "-q"])
    assert wrong.exit_code != 0
    assert "49 items failed" in wrong.output and "not a RAVDESS file name" in wrong.output, wrong.output
    assert "errors.jsonl" not in wrong.output  # it named a file that the tidy-up then removed
    assert not out.exists()  # nothing was kept, so nothing is left to resume or to refuse the corrected command
    right = CliRunner().invoke(app, ["build", "--corpus", f"emodb={test_data / 'emodb'}", "--out", str(out), "-q",
                                     "--workers", "2"])
    assert right.exit_code == 0, right.output
    assert "holds a build of" not in right.output and (out / "dataset").is_dir()
