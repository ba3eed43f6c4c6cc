"""``emotioncot analyze``: measure audio files (JSON Lines out); the measure stage of a build folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import echo_json, fail, load_config
from emotioncot.cli.executor_options import EXECUTOR, RAY_ADDRESS, apply_executor_options


def register(app: typer.Typer) -> None:
    @app.command()
    def analyze(
        files: List[Path] = typer.Argument(None, help="Audio files to measure."),
        transcript: Optional[str] = typer.Option(None, "--transcript", help="Transcript (for rate from syllables)."),
        language: Optional[str] = typer.Option(None, "--language", help="Language code of the transcript."),
        workspace: Optional[Path] = typer.Option(None, "--workspace", help="Measure every utterance of a build folder instead."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes to use."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
        executor: Optional[str] = EXECUTOR,
        ray_address: Optional[str] = RAY_ADDRESS,
    ) -> None:
        """Print one JSON object per file with the acoustic measurements; exit 1 if any file failed."""
        cfg = load_config(config)
        if workers:
            cfg.measure.workers = workers
        apply_executor_options(cfg, executor, ray_address)
        if workspace is not None:
            from emotioncot.pipeline import BuildError, run_measure
            from emotioncot.schema import Utterance
            from emotioncot.tables import read_table
            from emotioncot.workspace import Workspace

            ws = Workspace(workspace)
            try:
                rows = run_measure(ws, read_table(ws.stage_table("ingest"), Utterance), cfg)
            except BuildError as exc:
                fail(str(exc))
            typer.echo(f"{len(rows)} measured -> {ws.stage_table('measure')}")
            return
        from emotioncot.pipeline import _measure_one

        failed = False
        for path in files or []:
            row = {"id": str(path), "audio_path": str(path), "transcript": transcript, "language": language}
            res = _measure_one(row, cfg.measure)
            if res["ok"]:
                out = {"file": str(path), **res["result"]}
                out.pop("id", None)
                failed |= out.get("error") is not None
            else:
                out = {"file": str(path), "error": res["reason"]}
                failed = True
            echo_json(out)
        if failed:
            raise typer.Exit(1)
