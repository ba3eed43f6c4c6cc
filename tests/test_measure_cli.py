"""``emotioncot analyze``: JSON Lines with the documented keys, nulls with reasons, exit status 1 on failure."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from emotioncot.cli import app
from emotioncot.measure.synthetic import pad, voice

KEYS = ("duration_s", "speech_s", "pause_count", "pause_total_s", "f0_median_hz", "f0_p5_hz", "f0_p95_hz", "f0_range_st",
        "f0_std_st", "voiced_fraction", "energy_dbfs", "snr_db", "alpha_ratio_db", "articulation_rate_sps",
        "speaking_rate_sps", "intonation", "intonation_confidence", "jitter_local", "shimmer_local", "hnr_db",
        "stressed_words", "error")


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_analyze_prints_every_file_and_fails_when_one_failed(tmp_path):
    good = tmp_path / "good.wav"
    y = pad(voice(np.geomspace(120, 180, 10), 1.5, sr=44100), 44100, 0.3, 0.3)
    sf.write(good, np.stack([y, y], axis=1), 44100)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000), 16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    result = CliRunner().invoke(app, ["analyze", str(good), str(silent), str(broken), "--transcript", "one two three",
                                      "--workers", "1"])
    assert result.exit_code == 1
    out = _lines(result.stdout)
    assert [o["file"] for o in out] == [str(good), str(silent), str(broken)]
    assert all(k in out[0] for k in KEYS)
    assert out[0]["error"] is None and abs(out[0]["f0_median_hz"] - 147) < 10
    assert out[0]["syllable_source"] == "cmudict" and out[0]["syllable_count"] == 3
    assert "silence" in out[1]["error"] and out[1]["null_reasons"]["f0_median_hz"]
    assert str(broken) in out[2]["error"]


def test_analyze_in_parallel_gives_the_same_numbers_in_input_order(tmp_path):
    files = []
    for i, f0 in enumerate((100, 150, 210)):
        p = tmp_path / f"v{i}.wav"
        sf.write(p, pad(voice(f0, 1.0), 16000, 0.2, 0.2), 16000)
        files.append(str(p))
    one = CliRunner().invoke(app, ["analyze", *files, "--workers", "1"])
    two = CliRunner().invoke(app, ["analyze", *files, "--workers", "2", "--pitch-method", "praat"])
    assert one.exit_code == 0 and two.exit_code == 0
    a, b = _lines(one.stdout), _lines(two.stdout)
    assert [o["file"] for o in b] == files
    assert [o["f0_median_hz"] for o in a] == [o["f0_median_hz"] for o in b]
    assert [round(o["f0_median_hz"]) for o in a] == [100, 150, 210]


def test_analyze_compare_opensmile_prints_both(test_data):
    pytest.importorskip("opensmile", reason="openSMILE cross-check needs the test extra")
    wav = test_data / "emodb" / "wav" / "03a02Ta.wav"
    result = CliRunner().invoke(app, ["analyze", str(wav), "--language", "de", "--transcript",
                                      "Das will sie am Mittwoch abgeben.", "--compare", "opensmile", "--workers", "1"])
    assert result.exit_code == 0, result.output
    (out,) = _lines(result.output)
    ref = out["opensmile"]
    assert abs(12 * np.log2(out["f0_median_hz"] / ref["f0_median_hz"])) < 0.5
    assert set(ref) >= {"f0_median_hz", "f0_range_st", "hnr_db", "alpha_ratio_db"}
    bad = CliRunner().invoke(app, ["analyze", str(wav), "--compare", "praat"])
    assert bad.exit_code != 0 and "opensmile" in bad.output
