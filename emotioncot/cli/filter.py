"""``emotioncot filter``: keep or reject each record, with reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import fail, load_config


def register(app: typer.Typer) -> None:
    @app.command(name="filter")
    def filter_command(
        workspace: Path = typer.Argument(..., help="A build folder with generated text."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
    ) -> None:
        """Check schema, length and format; write kept records and rejected.jsonl with reasons."""
        from collections import Counter

        from emotioncot.pipeline import load_records, run_filter
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        ws = Workspace(workspace)
        try:
            records = load_records(ws)
        except FileNotFoundError as exc:
            fail(f"{exc} (run the earlier stages first, or use build)")
        kept, rejected = run_filter(ws, records, cfg)
        typer.echo(f"kept {len(kept)}, rejected {len(rejected)} (reasons in {ws.root / 'rejected.jsonl'})")
        for code, n in Counter(c for r in rejected for c in r["reject_reasons"]).most_common():
            typer.echo(f"  {code}: {n}")
