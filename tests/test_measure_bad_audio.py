"""Bad and unbounded input: a truncated WAV, over-long clips, a transcript far too long for its audio."""

from __future__ import annotations

import json
import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from emotioncot.audio.io import AudioError, audio_info, read_audio
from emotioncot.config import BuildConfig
from emotioncot.measure import measure_signal
from emotioncot.measure.long_clips import cut_points
from emotioncot.pipeline import build


def _truncate(src, dst, keep: float = 0.6):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])


def test_a_truncated_wav_is_an_error_naming_the_file(tmp_path):
    y = (0.1 * np.sin(np.arange(32000) * 0.05)).astype(np.float32)
    whole, cut = tmp_path / "whole.wav", tmp_path / "cut.wav"
    sf.write(whole, y, 16000, subtype="PCM_16")
    _truncate(whole, cut)
    assert audio_info(whole).frames == 32000  # an intact file passes
    for reader in (audio_info, read_audio):
        with pytest.raises(AudioError, match="truncated WAV") as exc:
            reader(cut)
        assert str(cut) in str(exc.value) and "32000 frames" in str(exc.value)


def test_cuts_fall_in_pauses_and_respect_the_limit():
    # 10 ms frames: 3 s speech, 0.5 s pause, 3 s speech, 0.5 s pause, 3 s speech (-20 dB vs -70 dB)
    level = np.concatenate([np.full(300, -20.0), np.full(50, -70.0)] * 2 + [np.full(300, -20.0)])
    pieces = cut_points(level, 5.0)
    assert len(pieces) == 3 and all(b - a <= 5.0 for a, b in pieces)
    assert 3.0 <= pieces[0][1] <= 3.5 and 6.5 <= pieces[1][1] <= 7.0  # inside the pauses
    assert pieces[-1][1] == pytest.approx(len(level) * 0.01)


def test_truncated_and_over_long_clips_in_a_build_end_up_where_they_belong(demo_corpus, tmp_path):
    meta = [json.loads(line) for line in (demo_corpus / "metadata.jsonl").read_text().splitlines()]
    chosen = [m for m in meta if m["speaker_id"] in ("m1", "f2", "f4")][::3]
    truncated = tmp_path / "truncated.wav"
    _truncate(demo_corpus / chosen[0]["audio_path"], truncated)
    # a long clip: four demo clips with 0.6 s of silence between them
    parts = []
    for m in chosen[1:5]:
        y, sr = sf.read(demo_corpus / m["audio_path"])
        parts += [y, np.zeros(int(0.6 * sr))]
    long_clip = tmp_path / "long.wav"
    sf.write(long_clip, np.concatenate(parts), sr)
    long_s = sum(len(p) for p in parts) / sr
    max_s = 0.45 * long_s
    lines = [
        {"audio_path": str(demo_corpus / m["audio_path"]), "transcription": m["transcript"], "emotion": m["emotion"],
         "speaker_id": m["speaker_id"], "gender": m["gender"]}
        for m in chosen
    ]
    lines += [
        {"id": "bad_truncated", "audio_path": str(truncated), "transcription": chosen[0]["transcript"],
         "emotion": "angry", "speaker_id": "m1"},
        {"id": "long_text", "audio_path": str(long_clip), "transcription": "one two three", "emotion": "sad",
         "speaker_id": "f2"},
        {"id": "long_bare", "audio_path": str(long_clip), "emotion": "sad", "speaker_id": "f2"},
    ]
    listing = tmp_path / "clips.jsonl"
    listing.write_text("".join(json.dumps(x) + "\n" for x in lines))
    config = BuildConfig()
    config.ingest.max_clip_s = max_s
    out = tmp_path / "build"
    build([f"jsonl:{listing}"], out, config, progress=False, log=lambda m: None)
    errors = {e["id"]: e for e in map(json.loads, (out / "errors.jsonl").read_text().splitlines())}
    assert "truncated WAV" in errors["bad_truncated"]["reason"] and str(truncated) in errors["bad_truncated"]["reason"]
    assert "max_clip_s" in errors["long_text"]["reason"] and "transcript" in errors["long_text"]["reason"]
    assert "long_bare" not in errors
    import pyarrow.parquet as pq

    ingested = pq.read_table(out / "stages" / "ingest.parquet").to_pylist()
    pieces = sorted((r for r in ingested if r["id"].startswith("long_bare-part")), key=lambda r: r["start_s"])
    assert len(pieces) >= 3
    assert all(r["end_s"] - r["start_s"] <= max_s + 1e-6 for r in pieces)
    assert pieces[0]["start_s"] == 0 and pieces[-1]["end_s"] == pytest.approx(long_s, abs=0.02)
    assert len({r["split"] for r in pieces}) == 1  # one clip, one split
    assert not any(r["id"] in ("long_text", "bad_truncated") for r in ingested)


def test_validate_check_audio_catches_a_truncated_wav(demo_build, tmp_path):
    """validate --check-audio reads every clip: one truncated after the build is a named problem."""
    import shutil

    from emotioncot.validate import _rows_from, validate_path

    rows, _, _, _ = _rows_from(demo_build)
    victim = tmp_path / "victim.wav"
    shutil.copy(rows[0]["audio_path"], victim)
    listing = tmp_path / "records.jsonl"

    def write(path):
        rows[0]["audio_path"] = str(path)
        listing.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))

    write(victim)
    before = validate_path(listing, check_audio=True)
    assert not [p for p in before["problems"] if p["code"] == "audio_undecodable"]
    _truncate(victim, victim.with_name("cut.wav"))
    write(victim.with_name("cut.wav"))
    after = validate_path(listing, check_audio=True)
    bad = [p for p in after["problems"] if p["code"] == "audio_undecodable"]
    assert len(bad) == 1 and "truncated WAV" in bad[0]["message"] and "cut.wav" in bad[0]["message"]


def test_a_megabyte_transcript_finishes_in_seconds_with_bounded_memory(test_data):
    y, sr = sf.read(test_data / "cmu_arctic" / "arctic_a0009_slt.wav")
    sentence = "He turned sharply, and faced Gregson across the table. "
    measure_signal(y, sr, sentence, language="en")  # warm: imports, dictionary, eSpeak
    text = (sentence * 20000)[:1_000_000]
    tracemalloc.start()
    t0 = time.perf_counter()
    m = measure_signal(y, sr, text, language="en")
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert m["error"] is None and m["syllable_source"] == "acoustic-nuclei"
    assert "words for" in m["null_reasons"]["stressed_words"]
    assert seconds < 10 and peak < 200e6, (seconds, peak)
