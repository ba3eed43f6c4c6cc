"""``emotioncot generate``: captions and rationales for a build folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def generate(
        workspace: Path = typer.Argument(..., help="A build folder with ingest, measure and calibrate tables."),
        writer: str = typer.Option("template", "--writer", help="template (offline, deterministic) or openai."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
    ) -> None:
        """Write a caption and a chain-of-thought rationale for every measured utterance."""
        from emotioncot.pipeline import load_records, run_write
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        cfg.write.writer = writer
        ws = Workspace(workspace)
        try:
            records = load_records(ws, with_texts=False)
        except FileNotFoundError as exc:
            fail(f"{exc} (run ingest, analyze and calibrate first, or use build)")
        rows, info = run_write(ws, records, cfg)
        typer.echo(f"{len(rows)} written by {info.get('writer')} -> {ws.stage_table('write')}")
