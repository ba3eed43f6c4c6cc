"""``emotioncot export``: the filtered records -> Parquet shards, DatasetDict, EmotionCoT JSONL, dataset card."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import PROMPT_STYLE_HELP, QUIET, check_prompt_style, fail, load_config
from emotioncot.wording import count


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        workspace: Path = typer.Argument(..., help="A build folder whose filter stage has run."),
        embed_audio: bool = typer.Option(
            False, "--embed-audio",
            help="Store the audio bytes in the dataset (self-contained; needed before push-to-hub if the audio should "
                 "travel). Default: the Audio column references the corpus files. Segments are always embedded.",
        ),
        shard_max_mb: Optional[float] = typer.Option(
            None, "--shard-max-mb", help="Largest Parquet shard, in MB (default from the config: 256)."
        ),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
        prompt_style: Optional[str] = typer.Option(None, "--prompt-style", help=PROMPT_STYLE_HELP),
        quiet: bool = QUIET,
    ) -> None:
        """Write parquet/, dataset/, emotioncot.jsonl and README.md (the dataset card) into the build folder.
        Records that cannot be exported are listed in errors.jsonl with their reason."""
        from emotioncot.pipeline import run_export
        from emotioncot.schema import Record
        from emotioncot.tables import read_table
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        cfg.export.embed_audio = embed_audio or cfg.export.embed_audio
        if shard_max_mb is not None:
            if shard_max_mb <= 0:
                fail("--shard-max-mb must be positive")
            cfg.export.shard_max_mb = shard_max_mb
        if check_prompt_style(prompt_style):
            cfg.export.prompt_style = prompt_style  # type: ignore[assignment]
        ws = Workspace(workspace)
        try:
            kept = read_table(ws.stage_table("filter"), Record)
        except FileNotFoundError as exc:
            fail(f"{exc} (run filter first, or use build)")
        counts = run_export(ws, kept, cfg, progress=not quiet)
        failed = len(ws.stage_errors("export"))
        typer.echo(
            f"exported {count(sum(counts.values()), 'record')} ({counts}) -> {ws.root / 'parquet'}, {ws.root / 'dataset'}, "
            f"{ws.root / 'emotioncot.jsonl'}, {ws.root / 'README.md'}"
            + (f"; {count(failed, 'record')} left out (see {ws.errors_path})" if failed else "")
        )
