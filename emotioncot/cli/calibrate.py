"""``emotioncot calibrate``: measurements -> levels, thresholds saved (or re-applied), with a report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import echo_stale, fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def calibrate(
        workspace: Path = typer.Argument(..., help="A build folder with ingest and measure tables."),
        thresholds: Optional[Path] = typer.Option(
            None, "--thresholds", help="Re-apply these saved thresholds (a thresholds.json from an earlier fit) instead of "
            "fitting, so labels do not depend on the batch."),
        group_by: Optional[str] = typer.Option(
            None, "--group-by", help="auto (per speaker when speaker ids exist, else corpus+gender), speaker, corpus_gender "
            "or corpus. Groups with too few reliable values fall back to the next coarser grouping."),
        report: bool = typer.Option(True, "--report/--no-report", help="Write calibration_report.txt and .png."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
    ) -> None:
        """Fit percentile cut points (tertiles by default) per group on reliable measurements and label each
        utterance's pitch, energy (vocal effort) and speed; unreliable values get a null level with the reason."""
        from emotioncot.pipeline import BuildError, run_calibrate
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        if thresholds:
            cfg.calibrate.thresholds_file = thresholds
        if group_by:
            if group_by not in ("auto", "speaker", "corpus_gender", "corpus"):
                fail(f"--group-by must be auto, speaker, corpus_gender or corpus, not {group_by!r}")
            cfg.calibrate.group_by = group_by  # type: ignore[assignment]
        ws = Workspace(workspace)
        for stage in ("ingest", "measure"):
            if not ws.stage_table(stage).exists():
                fail(f"{ws.stage_table(stage)}: table not found (run ingest and analyze --workspace first)")
        cfg.calibrate.report = cfg.calibrate.report and report
        try:
            levels, th = run_calibrate(ws, None, cfg)
        except (BuildError, ValueError) as exc:
            fail(str(exc))
        typer.echo(f"{len(levels)} labelled (groups by {th['group_by']}: {len(th['groups'])}) -> {ws.thresholds_path}")
        if cfg.calibrate.report:
            png = ws.root / "calibration_report.png"
            typer.echo(f"report -> {ws.root / 'calibration_report.txt'}" + (f", {png}" if png.exists() else " (no plot: matplotlib missing)"))
        echo_stale(ws.root)
