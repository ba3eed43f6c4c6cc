"""``emotioncot calibrate``: measurements -> levels, thresholds saved (or re-applied)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def calibrate(
        workspace: Path = typer.Argument(..., help="A build folder with ingest and measure tables."),
        thresholds: Optional[Path] = typer.Option(None, "--thresholds", help="Re-apply these saved thresholds instead of fitting."),
        group_by: Optional[str] = typer.Option(None, "--group-by", help="auto, corpus, corpus_gender or speaker."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
    ) -> None:
        """Fit percentile cut points per group and label each utterance low / normal / high."""
        from emotioncot.pipeline import _joined, run_calibrate
        from emotioncot.schema import Measurements, Utterance
        from emotioncot.tables import read_table
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        if thresholds:
            cfg.calibrate.thresholds_file = thresholds
        if group_by:
            cfg.calibrate.group_by = group_by
        ws = Workspace(workspace)
        try:
            joined = _joined(read_table(ws.stage_table("ingest"), Utterance), read_table(ws.stage_table("measure"), Measurements))
        except FileNotFoundError as exc:
            fail(f"{exc} (run ingest and analyze --workspace first)")
        levels, th = run_calibrate(ws, joined, cfg)
        typer.echo(f"{len(levels)} labelled (groups by {th['group_by']}: {len(th['groups'])}) -> {ws.thresholds_path}")
