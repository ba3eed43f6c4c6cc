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


def test_plain_measure_settings_are_the_configs_defaults():
    # `analyze FILE` without --config measures with MeasureSettings (no pydantic); MeasureConfig is made from its
    # fields: the same names, the same values, and the dataclass's types validated
    from dataclasses import asdict

    import pydantic

    from emotioncot.config import BuildConfig, MeasureConfig
    from emotioncot.measure.settings import MeasureSettings

    assert asdict(MeasureSettings()) == MeasureConfig().model_dump() == BuildConfig().measure.model_dump()
    assert list(asdict(MeasureSettings())) == list(MeasureConfig.model_fields)
    assert MeasureConfig(f0_min_hz="60").f0_min_hz == 60.0
    for bad in ({"pitch_method": "crepe"}, {"f0_min_hz": "low"}, {"no_such_setting": 1}):
        with pytest.raises(pydantic.ValidationError):
            MeasureConfig(**bad)


def test_plain_analyze_runs_without_typer_or_pydantic_and_prints_what_typer_prints(tmp_path):
    import subprocess
    import sys

    wav = tmp_path / "v.wav"
    sf.write(wav, pad(voice(150, 1.2), 16000, 0.2, 0.2), 16000)
    silent = tmp_path / "s.wav"
    sf.write(silent, np.zeros(16000), 16000)
    code = (
        "import sys; import emotioncot.cli as c; sys.argv = ['emotioncot', 'analyze'] + sys.argv[1:]\n"
        "try:\n    c.main()\nexcept SystemExit as e:\n    print('exit', e.code)\n"
        "print(sorted(m for m in ('typer', 'pydantic', 'click') if m in sys.modules))"
    )
    argv = [str(wav), str(silent), "--transcript=one two", "--workers", "1", "-q"]
    plain = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    *lines, status, loaded = plain.stdout.strip().splitlines()
    assert loaded == "[]" and status == "exit 1"  # the silent file failed
    typed = CliRunner().invoke(app, ["analyze", *argv])
    assert typed.exit_code == 1
    assert _lines("\n".join(lines)) == _lines(typed.stdout)
    assert _lines(typed.stdout)[0]["stressed_words"] is not None
    # a config file goes through typer and pydantic, and applies
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"measure": {"stress_method": "none"}}))
    configured = subprocess.run([sys.executable, "-c", code, str(wav), "--config", str(cfg)], capture_output=True,
                                text=True, check=True)
    *lines, status, loaded = configured.stdout.strip().splitlines()
    assert status == "exit 0" and "typer" in loaded and "pydantic" in loaded
    (out,) = _lines("\n".join(lines))
    assert out["null_reasons"]["stressed_words"] == "stress detection off"


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["a.wav", "--config", "c.json"], ["a.wav", "--workspace", "w"], ["a.wav", "--compare", "opensmile"],
    ["a.wav", "--workers", "x"], ["a.wav", "--workers", "-1"], ["a.wav", "--workers"], ["a.wav", "--pitch-method", "crepe"],
    ["a.wav", "--language", "en", "--language", "de"], ["a.wav", "--executor", "local"], ["a.wav", "--"], ["-"],
    ["a.wav", "--quiet=1"], ["a.wav", "--transcript", "--language"], ["a.wav", "--version"],
])
def test_plain_analyze_leaves_everything_else_to_typer(argv):
    from emotioncot.cli.analyze import plain_arguments

    assert plain_arguments(argv) is None


def test_plain_analyze_reads_the_plain_options():
    from emotioncot.cli.analyze import plain_arguments

    got = plain_arguments(["./a.wav", "--transcript", "Kids are -- talking", "b.wav", "--language=de", "-q",
                           "--pitch-method", "pyworld", "--workers=3"])
    assert got == {"files": ["a.wav", "b.wav"], "transcript": "Kids are -- talking", "language": "de",
                   "pitch_method": "pyworld", "workers": 3}


def test_analyze_files_checks_the_executor_options():
    bad = CliRunner().invoke(app, ["analyze", "x.wav", "--executor", "cloud"])
    assert bad.exit_code == 2 and "--executor must be local or ray" in bad.output
    bad = CliRunner().invoke(app, ["analyze", "x.wav", "--executor", "local", "--ray-address", "auto"])
    assert bad.exit_code == 2 and "--ray-address needs --executor ray" in bad.output


def test_plain_analyze_exits_quietly_when_the_reader_goes_away(tmp_path):
    import subprocess
    import sys

    wav = tmp_path / "v.wav"
    sf.write(wav, pad(voice(150, 0.6), 16000, 0.1, 0.1), 16000)
    proc = subprocess.Popen([sys.executable, "-m", "emotioncot", "analyze", *[str(wav)] * 300, "--workers", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("{")
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err, err
