"""``emotioncot build``: every stage, into one resumable build folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        corpus: List[str] = typer.Option(..., "--corpus", "-c", help="A source: 'demo', NAME=PATH (a corpus in its distribution layout), jsonl:PATH or csv:PATH. Repeat for several."),
        out: Path = typer.Option(..., "--out", "-o", help="The build folder (created; a rerun resumes it)."),
        config: Optional[Path] = typer.Option(None, "--config", help="A JSON/YAML file with BuildConfig sections (ingest, measure, calibrate, write, filter, export)."),
        writer: Optional[str] = typer.Option(None, "--writer", help="template (offline, the default) or openai."),
        thresholds: Optional[Path] = typer.Option(None, "--thresholds", help="Apply saved calibration thresholds instead of fitting new ones."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes for the measure stage (default: all cores)."),
        embed_audio: bool = typer.Option(False, "--embed-audio", help="Store audio bytes in the exported dataset."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    ) -> None:
        """Run ingest -> measure -> calibrate -> write -> filter -> export into OUT.

        Finished work is kept: a rerun skips it, and a killed build resumes where it stopped.
        """
        from emotioncot.pipeline import BuildError, build as run_build

        cfg = load_config(config)
        if writer:
            cfg.write.writer = writer
        if thresholds:
            cfg.calibrate.thresholds_file = thresholds
        if workers:
            cfg.measure.workers = workers
            cfg.ingest.workers = workers
        if embed_audio:
            cfg.export.embed_audio = True
        try:
            summary = run_build(corpus, out, cfg, progress=not quiet, log=lambda m: typer.echo(m, err=True))
        except (BuildError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        print_summary(out, summary)


def print_summary(out: Path, summary: dict) -> None:
    typer.echo(f"dataset: {out / 'dataset'}")
    typer.echo(f"parquet: {out / 'parquet'}")
    typer.echo(f"writer: {summary['writer'].get('writer')}")
    typer.echo("rows per split: " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items()))
    typer.echo("rows per emotion: " + ", ".join(f"{k} {v}" for k, v in summary["emotions"].items()))
    c = summary["counts"]
    typer.echo(
        f"ingested {c['ingest']}, measured {c['measure']}, written {c['write']}, kept {c['filter']}, "
        f"rejected {c['rejected']}; {summary['errors']} items in {out / 'errors.jsonl'}; "
        f"{summary['seconds']['total']:.1f} s"
    )
