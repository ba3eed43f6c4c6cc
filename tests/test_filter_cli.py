"""`emotioncot filter` on EmotionCoT JSONL and on a build folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from emotioncot.cli import app

DATA = Path(__file__).parent / "data" / "rationales"
runner = CliRunner()


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_filter_jsonl_writes_kept_and_rejected_with_reasons(tmp_path):
    rows = [json.loads(line) for line in (DATA / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    src = _write(tmp_path / "in.jsonl", rows)
    kept, rejected = tmp_path / "kept.jsonl", tmp_path / "rejected.jsonl"
    result = runner.invoke(app, ["filter", str(src), "--kept", str(kept), "--rejected", str(rejected)])
    assert result.exit_code == 0, result.output
    kept_rows = [json.loads(line) for line in kept.read_text().splitlines()]
    rejected_rows = [json.loads(line) for line in rejected.read_text().splitlines()]
    assert len(kept_rows) + len(rejected_rows) == len(rows)
    assert {r["id"] for r in kept_rows} == {r["id"] for r in rows if r["expected"] == "faithful"}
    for r in rejected_rows:
        assert r["expected"] in r["reject_reasons"] and r["explanation"]
    # the summary counts records per reason
    assert f"kept {len(kept_rows)}, rejected {len(rejected_rows)}" in result.output
    n_pitch = sum("grounding_pitch" in r["reject_reasons"] for r in rejected_rows)
    assert any(line.split()[:2] == ["grounding_pitch", str(n_pitch)] for line in result.output.splitlines())


def test_filter_jsonl_options_and_errors(tmp_path):
    cases = [json.loads(line) for line in (DATA / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    src = _write(tmp_path / "in.jsonl", cases)
    out = ["--kept", str(tmp_path / "k.jsonl"), "--rejected", str(tmp_path / "r.jsonl")]
    result = runner.invoke(app, ["filter", str(src), *out, "--skip", "duplicates", "--skip", "label"])
    assert result.exit_code == 0, result.output
    codes = {c for line in (tmp_path / "r.jsonl").read_text().splitlines() for c in json.loads(line)["reject_reasons"]}
    assert "near_duplicate" not in codes and not any(c.startswith("label_") for c in codes)
    assert "grounding_energy" in codes
    result = runner.invoke(app, ["filter", str(src)])
    assert result.exit_code == 2 and "--kept" in result.output
    result = runner.invoke(app, ["filter", str(src), *out, "--skip", "nonsense"])
    assert result.exit_code == 2 and "unknown check" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"cot_analysis": "x"}\n{not json\n')
    result = runner.invoke(app, ["filter", str(bad), *out])
    assert result.exit_code == 2 and "bad.jsonl:2" in result.output


def test_filter_build_folder_keeps_the_template_writer_output(demo_build):
    result = runner.invoke(app, ["filter", str(demo_build)])
    assert result.exit_code == 0, result.output
    rejected = (demo_build / "rejected.jsonl").read_text().splitlines()
    assert rejected == [], rejected[:3]
    assert "kept 216, rejected 0" in result.output
