"""``emotioncot export``: the filtered records -> DatasetDict, Parquet, EmotionCoT JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        workspace: Path = typer.Argument(..., help="A build folder whose filter stage has run."),
        embed_audio: bool = typer.Option(False, "--embed-audio", help="Store the audio bytes in the dataset."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
    ) -> None:
        """Write dataset/, parquet/ and emotioncot.jsonl into the build folder."""
        from emotioncot.pipeline import run_export
        from emotioncot.schema import Record
        from emotioncot.tables import read_table
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        cfg.export.embed_audio = embed_audio or cfg.export.embed_audio
        ws = Workspace(workspace)
        try:
            kept = read_table(ws.stage_table("filter"), Record)
        except FileNotFoundError as exc:
            fail(f"{exc} (run filter first, or use build)")
        counts = run_export(ws, kept, cfg)
        typer.echo(f"exported {sum(counts.values())} records ({counts}) -> {ws.root / 'dataset'}")
