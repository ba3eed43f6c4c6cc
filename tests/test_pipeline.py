"""The whole pipeline end to end on the offline demo corpus: outputs, validation, reruns, bad input, SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import soundfile as sf

from emotioncot.export import load_dataset_dir
from emotioncot.pipeline import build
from emotioncot.taxonomy import EMOTIONS
from emotioncot.validate import validate_path

REPO = Path(__file__).resolve().parent.parent


def _cli(*args, env=None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "emotioncot", *args], capture_output=True, text=True, env=env or os.environ.copy(), cwd=REPO, **kw
    )


def _final_rows(out: Path) -> list[dict]:
    rows = []
    for f in sorted((out / "parquet").glob("*.parquet")):
        rows.extend(pq.read_table(f).to_pylist())
    return sorted(rows, key=lambda r: r["id"])


def test_demo_build_has_every_output(demo_build):
    info = json.loads((demo_build / "build.json").read_text())
    assert info["writer"]["writer"] == "template"
    assert info["counts"]["ingest"] >= 200
    assert set(info["seconds"]) >= {"ingest", "measure", "calibrate", "write", "filter", "export", "total"}
    assert (demo_build / "errors.jsonl").read_text() == ""
    assert set(info["splits"]) == {"train", "validation", "test"} and all(info["splits"].values())
    assert set(info["emotions"]) == set(EMOTIONS)

    dd = load_dataset_dir(demo_build / "dataset", decode_audio=True)
    assert set(dd) == {"train", "validation", "test"}
    first = dd["test"][0]
    y, sr = sf.read(first["audio_path"], dtype="float32")
    assert first["audio"]["sampling_rate"] == sr
    np.testing.assert_allclose(first["audio"]["array"], y, atol=1e-6)
    assert sum(len(d) for d in dd.values()) == info["counts"]["export"] == len(_final_rows(demo_build))


def test_validate_accepts_the_demo_build(demo_build):
    report = validate_path(demo_build)
    assert report["ok"], report["problems"][:5]
    result = _cli("validate", str(demo_build))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rerun_redoes_nothing(demo_build):
    journals = {p.name: p.read_text() for p in (demo_build / "journal").glob("*.jsonl")}
    table_mtime = (demo_build / "stages" / "measure.parquet").stat().st_mtime_ns
    dataset_mtime = (demo_build / "dataset" / "dataset_dict.json").stat().st_mtime_ns
    summary = build(["demo"], demo_build, progress=False, log=lambda m: None)
    assert {p.name: p.read_text() for p in (demo_build / "journal").glob("*.jsonl")} == journals
    assert (demo_build / "stages" / "measure.parquet").stat().st_mtime_ns == table_mtime
    assert (demo_build / "dataset" / "dataset_dict.json").stat().st_mtime_ns == dataset_mtime
    assert summary["counts"]["export"] == json.loads((demo_build / "build.json").read_text())["counts"]["export"]


def test_corrupt_and_empty_audio_are_recorded_and_the_rest_is_built(demo_corpus, tmp_path):
    meta = [json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines()]
    chosen = [m for m in meta if m["speaker_id"] in ("m1", "f2", "f4")][:: 3]
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    lines = [
        {"audio_path": str(demo_corpus / m["audio_path"]), "transcription": m["transcript"], "emotion": m["emotion"],
         "speaker_id": m["speaker_id"], "gender": m["gender"]}
        for m in chosen
    ]
    lines += [
        {"id": "bad_corrupt", "audio_path": str(corrupt), "transcription": "x", "emotion": "angry", "speaker_id": "m1"},
        {"id": "bad_empty", "audio_path": str(empty), "transcription": "x", "emotion": "sad", "speaker_id": "f2"},
    ]
    listing = tmp_path / "clips.jsonl"
    listing.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "build"
    summary = build([f"jsonl:{listing}"], out, progress=False, log=lambda m: None)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    by_id = {e["id"]: e for e in errors}
    assert set(by_id) == {"bad_corrupt", "bad_empty"}
    assert "empty" in by_id["bad_empty"]["reason"] and str(empty) in by_id["bad_empty"]["reason"]
    assert "not a readable audio file" in by_id["bad_corrupt"]["reason"]
    assert summary["counts"]["export"] == len(chosen)


def test_sigkill_mid_build_then_rerun_matches_an_uninterrupted_build(demo_build, tmp_path):
    out = tmp_path / "killed"
    env = os.environ.copy()
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [sys.executable, "-m", "emotioncot", "build", "--corpus", "demo", "--out", str(out), "--workers", "1", "-q"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shards = out / "stages" / "measure"  # shard-NNNNN.parquet, 64 clips each, written as they finish

    def shard_ids() -> list[str]:
        import pyarrow.parquet as pq

        return [i for p in sorted(shards.glob("shard-*.parquet")) for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]

    deadline = time.time() + 120
    while time.time() < deadline:
        if shards.is_dir() and any(shards.glob("shard-*.parquet")):
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "build.json").exists(), "the build finished before it could be killed"
    measured_before = len(shard_ids())
    assert 64 <= measured_before < 216

    result = _cli("build", "--corpus", "demo", "--out", str(out), "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    ids = shard_ids()
    assert len(ids) == len(set(ids)) == 216  # nothing measured twice, nothing lost
    assert _final_rows(out) == _final_rows(demo_build)
    assert validate_path(out)["ok"]


def test_demo_corpus_is_the_same_bytes_whatever_ran_before(demo_corpus, tmp_path):
    """eSpeak NG keeps state between utterances in a process (and measuring renders speech with it): the
    corpus is synthesised in a fresh process, so a second synthesis after other work gives the same files."""
    import hashlib

    from emotioncot.demo.corpus import ensure_demo_corpus
    from emotioncot.espeak import ESpeak

    ESpeak.get().synthesize("Something else first, to disturb this process's engine.", "en-us+m3", 150, 40, 40, 100)
    again = ensure_demo_corpus(tmp_path / "again", progress=False)

    def digest(root):
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.wav"))}

    first, second = digest(demo_corpus), digest(again)
    assert len(first) == 216 and first == second
