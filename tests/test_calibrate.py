"""Calibration: grouping, fallbacks, reliability, vocal effort, saved thresholds and the report."""

from __future__ import annotations

import json
import random
import shutil

import pytest

from emotioncot.calibrate import apply_thresholds, fit_thresholds, write_report
from emotioncot.config import CalibrateConfig
from emotioncot.schema import Levels


def _rows(n_per_speaker=30, speakers=("a", "b"), corpus="c", seed=0, peak=-6.0):
    """Speaker a speaks around 110 Hz, speaker b around 220 Hz: same spread, different baselines."""
    rng = random.Random(seed)
    rows = []
    for s_idx, spk in enumerate(speakers):
        base = 110.0 * (2 ** s_idx)
        for i in range(n_per_speaker):
            rows.append({
                "id": f"{corpus}-{spk}-{i}", "corpus": corpus, "speaker_id": spk, "gender": "Male" if s_idx == 0 else "Female",
                "f0_median_hz": base * 2 ** (rng.uniform(-3, 3) / 12), "voiced_fraction": 0.6,
                "alpha_ratio_db": rng.uniform(-20, -5), "energy_dbfs": rng.uniform(-35, -15), "peak_dbfs": peak,
                "snr_db": 30.0, "articulation_rate_sps": rng.uniform(3, 7), "speech_s": 2.0, "error": None,
            })
    return rows


def test_per_speaker_levels_are_relative_to_the_speaker():
    rows = _rows()
    th = fit_thresholds(rows, CalibrateConfig())
    assert th["group_by"] == "speaker"
    levels = apply_thresholds(rows, th)
    for spk in ("a", "b"):
        got = [lv["pitch_level"] for lv, r in zip(levels, rows) if r["speaker_id"] == spk]
        # tertiles inside each speaker: each speaker gets all three levels, about a third each
        assert all(8 <= got.count(name) <= 12 for name in ("low", "normal", "high")), got
    for lv in levels:
        Levels.model_validate(lv)
        assert lv["level_group"].startswith("c/speaker=")
    # pooled by corpus, the high-voiced speaker would be "high" almost always
    pooled = apply_thresholds(rows, fit_thresholds(rows, CalibrateConfig(group_by="corpus")))
    assert sum(lv["pitch_level"] == "high" for lv, r in zip(pooled, rows) if r["speaker_id"] == "b") >= 19


def test_thresholds_are_json_and_reapplying_them_does_not_depend_on_the_batch():
    rows = _rows()
    th = json.loads(json.dumps(fit_thresholds(rows, CalibrateConfig())))
    assert th["version"] and th["group_by"] == "speaker"
    full = {lv["id"]: lv for lv in apply_thresholds(rows, th)}
    subset = rows[5:12] + rows[40:44]
    for lv in apply_thresholds(subset, th):
        assert lv == full[lv["id"]]
    # a new batch fitted on its own would shift; the saved thresholds do not
    refit = {lv["id"]: lv["pitch_level"] for lv in apply_thresholds(subset, fit_thresholds(subset, CalibrateConfig(min_group_size=3)))}
    assert any(refit[i] != full[i]["pitch_level"] for i in refit)


def test_small_speaker_groups_fall_back_to_corpus_and_gender():
    rows = _rows() + _rows(n_per_speaker=3, speakers=("a2",), seed=5)
    for r in rows[-3:]:
        r["gender"] = "Male"
        r["id"] += "-x"
    th = fit_thresholds(rows, CalibrateConfig())
    assert "c/speaker=a2" not in th["groups"]
    lv = apply_thresholds(rows[-3:], th)
    assert all(x["pitch_level"] is not None and x["level_group"] == "c/gender=Male" for x in lv)


def test_unreliable_values_are_excluded_from_fitting_and_labelled_null():
    rows = _rows()
    clean = fit_thresholds(rows, CalibrateConfig())
    bad = [dict(rows[0], id="bad-voicing", voiced_fraction=0.02, f0_median_hz=900.0),
           dict(rows[0], id="bad-snr", snr_db=1.0, alpha_ratio_db=10.0),
           dict(rows[0], id="bad-rate", articulation_rate_sps=30.0),
           dict(rows[0], id="failed", error="digital silence (no signal)", f0_median_hz=None)]
    for row, feat in zip(bad, ("f0_median_hz", "vocal_effort_db", "articulation_rate_sps", "f0_median_hz")):
        th = fit_thresholds(rows + [row] * 5, CalibrateConfig())  # five extreme, unreliable values
        assert th["groups"]["c/speaker=a"][feat]["cuts"] == clean["groups"]["c/speaker=a"][feat]["cuts"], row["id"]
        assert th["groups"]["c/speaker=a"][feat]["excluded"] == 5
    th = fit_thresholds(rows + bad * 5, CalibrateConfig())
    levels = {lv["id"]: lv for lv in apply_thresholds(bad, th)}
    assert levels["bad-voicing"]["pitch_level"] is None and "voicing" in levels["bad-voicing"]["level_reasons"]["pitch_level"]
    assert levels["bad-snr"]["energy_level"] is None and "noisy" in levels["bad-snr"]["level_reasons"]["energy_level"]
    assert levels["bad-rate"]["speed_level"] is None and "implausible" in levels["bad-rate"]["level_reasons"]["speed_level"]
    assert all(levels["failed"][k] is None for k in ("pitch_level", "energy_level", "speed_level"))
    assert levels["bad-voicing"]["energy_level"] is not None  # one bad value does not void the others


def test_energy_ignores_level_in_peak_normalised_corpora():
    rows = _rows(peak=0.0)
    th = fit_thresholds(rows, CalibrateConfig())
    cut = th["groups"]["c/speaker=a"]["vocal_effort_db"]
    assert cut["peak_normalised"] and cut["level_weight"] == 0.0
    louder = [dict(r, energy_dbfs=r["energy_dbfs"] + 20) for r in rows]
    assert [lv["energy_level"] for lv in apply_thresholds(rows, th)] == [lv["energy_level"] for lv in apply_thresholds(louder, th)]
    # where level means something, a louder take of the same effort is graded higher
    th2 = fit_thresholds(_rows(peak=-6.0), CalibrateConfig())
    assert th2["groups"]["c/speaker=a"]["vocal_effort_db"]["level_weight"] > 0
    base = apply_thresholds(rows, th2)
    loud = apply_thresholds(louder, th2)
    order = {"low": 0, "normal": 1, "high": 2}
    assert sum(order[b["energy_level"]] for b in loud) > sum(order[a["energy_level"]] for a in base)


def test_whispered_speech_is_graded_low_energy():
    rows = _rows()
    whisper = dict(rows[0], id="w", voiced_fraction=0.0, f0_median_hz=None, alpha_ratio_db=5.0)
    th = fit_thresholds(rows + [whisper], CalibrateConfig())
    lv = apply_thresholds([whisper], th)[0]
    assert lv["energy_level"] == "low" and "whisper" in lv["level_reasons"]["energy_level"]
    assert lv["pitch_level"] is None


def test_report_text_and_plot(tmp_path):
    rows = _rows()
    th = fit_thresholds(rows, CalibrateConfig())
    levels = apply_thresholds(rows, th)
    paths = write_report(rows, th, levels, tmp_path)
    text = paths["text"].read_text()
    cut = th["groups"]["c/speaker=b"]["f0_median_hz"]["cuts"]
    assert "[c/speaker=b]" in text and f"{cut[0]:.2f}" in text and f"{cut[1]:.2f}" in text
    assert "pitch_level" in text and "labels given" in text
    pytest.importorskip("matplotlib")
    assert paths["plot"] is not None and paths["plot"].read_bytes()[:4] == b"\x89PNG"


def test_cli_calibrate_reapplies_saved_thresholds(demo_build, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app
    from emotioncot.tables import read_table

    ws = tmp_path / "ws"
    shutil.copytree(demo_build, ws)
    saved = tmp_path / "saved.json"
    shutil.copy(ws / "thresholds.json", saved)
    before = {lv["id"]: lv for lv in read_table(ws / "stages" / "calibrate.parquet", Levels)}
    result = CliRunner().invoke(app, ["calibrate", str(ws), "--thresholds", str(saved)])
    assert result.exit_code == 0, result.output
    after = {lv["id"]: lv for lv in read_table(ws / "stages" / "calibrate.parquet", Levels)}
    assert after == before
    assert json.loads((ws / "thresholds.json").read_text())["version"] == json.loads(saved.read_text())["version"]
    assert (ws / "calibration_report.txt").exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = CliRunner().invoke(app, ["calibrate", str(ws), "--thresholds", str(bad)])
    assert result.exit_code != 0 and "thresholds" in result.output
