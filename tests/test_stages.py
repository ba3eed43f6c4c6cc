"""The stage protocol (emotioncot/stages.py): chained keys, an unchanged rerun that reads no table, stale stages
named by validate after a stage command run on its own, an export run alone that keeps the build's card, and the
cheap per-item stages (template write, filter checks) resuming from their shards."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from emotioncot.cli import app


def _copy(build: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(build, out, symlinks=True)
    return out


def _shifted_thresholds(build: Path, tmp_path: Path) -> Path:
    """The build's own thresholds with every cut point moved: levels change, nothing else does."""
    thresholds = json.loads((build / "thresholds.json").read_text())
    moved = 0

    def shift(node):
        nonlocal moved
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "cuts" and isinstance(value, list):
                    node[key] = [cut * 1.07 for cut in value]
                    moved += 1
                else:
                    shift(value)

    shift(thresholds["groups"])
    assert moved, "no cut point found to move"
    path = tmp_path / "other-thresholds.json"
    path.write_text(json.dumps(thresholds))
    return path


def test_stages_run_alone_make_validate_name_the_stale_ones_until_the_build_is_rerun(demo_build, tmp_path):
    from emotioncot.pipeline import build

    copy = _copy(demo_build, tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(copy), "--no-check-text"]).exit_code == 0
    levels_before = pq.read_table(copy / "stages" / "calibrate.parquet")

    result = runner.invoke(app, ["calibrate", str(copy), "--thresholds", str(_shifted_thresholds(demo_build, tmp_path)),
                                 "--no-report"])
    assert result.exit_code == 0, result.output
    assert not pq.read_table(copy / "stages" / "calibrate.parquet").equals(levels_before)  # the levels did change
    assert "now out of date: write, filter, export, report" in result.output
    assert f"--corpus demo --out {copy}" in result.output

    report = runner.invoke(app, ["validate", str(copy), "--no-check-text", "--json"])
    assert report.exit_code == 1
    stale = [p for p in json.loads(report.output)["problems"] if p["code"] == "stale_stage"]
    assert [p["message"].split()[2] for p in stale] == ["write", "filter", "export", "report"]
    assert "calibrate was run again after it" in stale[0]["message"]

    summary = build(["demo"], copy, progress=False, log=lambda m: None)
    assert "calibrate" not in summary["skipped"]
    assert pq.read_table(copy / "stages" / "calibrate.parquet").equals(levels_before)
    assert runner.invoke(app, ["validate", str(copy), "--no-check-text"]).exit_code == 0


def test_an_unchanged_rerun_reads_no_table(demo_build, tmp_path, monkeypatch):
    import emotioncot.pipeline as pipeline
    import emotioncot.tables as tables

    copy = _copy(demo_build, tmp_path)

    def refuse(path, *args, **kwargs):
        raise AssertionError(f"an unchanged rerun read {path}")

    monkeypatch.setattr(tables, "read_table", refuse)
    monkeypatch.setattr(pipeline, "read_table", refuse)
    monkeypatch.setattr(pq, "read_table", refuse)
    summary = pipeline.build(["demo"], copy, progress=False, log=lambda m: None)
    assert set(summary["skipped"]) == {"ingest", "measure", "calibrate", "write", "filter", "export", "report"}
    first = json.loads((demo_build / "build.json").read_text())
    assert summary["counts"] == first["counts"]
    # each stage keeps the time its work took; only this run's own wall time is new
    assert {**summary["seconds"], "this_run": None} == {**first["seconds"], "this_run": None}


def test_an_export_run_alone_writes_the_same_card_as_the_build(real_build, tmp_path):
    out, _ = real_build
    copy = _copy(out, tmp_path)
    card_before = (copy / "README.md").read_text()
    assert "No clip was left out by the taxonomy." not in card_before  # EmoDB boredom, RAVDESS calm
    result = CliRunner().invoke(app, ["export", str(copy), "--shard-max-mb", "64", "-q"])  # other settings: it runs
    assert result.exit_code == 0, result.output
    card = (copy / "README.md").read_text()
    taxonomy = card_before.split("### Left out by the taxonomy", 1)[1].split("###", 1)[0]
    assert taxonomy.strip() and taxonomy in card


@pytest.mark.parametrize("stage", ["write", "filter"])
def test_a_stage_killed_after_some_shards_resumes_without_redoing_them(demo_corpus, tmp_path, stage):
    """A kill mid-stage leaves the shards that were written and no table: the rerun does only the missing shards
    (what the workers ran is counted) and ends with the same table as an uninterrupted build."""
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import build

    cfg = BuildConfig()
    cfg.report.enabled = False
    out = tmp_path / "b"
    build(["demo"], out, cfg, progress=False, log=lambda m: None)
    table = pq.read_table(out / "stages" / f"{stage}.parquet")
    shards = sorted((out / "stages" / stage).glob("shard-*.parquet"))
    assert len(shards) >= 3  # several shards, so both cores work on the demo
    lost = shards[1]
    lost_items = pq.read_metadata(lost).num_rows
    # as a kill leaves it: one shard not yet written, the stage's table and record not yet there
    lost.unlink()
    (out / "stages" / f"{stage}.parquet").unlink()
    (out / "stages" / f"{stage}.meta.json").unlink()
    build(["demo"], out, cfg, progress=False, log=lambda m: None)
    info = json.loads((out / "stages" / f"{stage}.meta.json").read_text())
    assert info["run"]["items_run"] == lost_items
    assert pq.read_table(out / "stages" / f"{stage}.parquet").equals(table)


def test_a_setting_that_changes_no_output_leaves_the_stage_key_alone():
    # how many Batch API chunks wait at the provider at once changes no row: a build with another value is current,
    # while a setting that does change the text (the model) makes the write stage stale
    from emotioncot.config import BuildConfig
    from emotioncot.stages import STAGES, section_settings

    write = STAGES["write"]
    base = BuildConfig()
    more_in_flight = base.model_copy(update={"write": base.write.model_copy(update={"batch_chunks_in_flight": 9})})
    other_model = base.model_copy(update={"write": base.write.model_copy(update={"model": "another-model"})})
    assert section_settings(write, more_in_flight) == section_settings(write, base)
    assert section_settings(write, other_model) != section_settings(write, base)
