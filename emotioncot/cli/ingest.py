"""``emotioncot ingest``: sources -> the utterance table (``stages/ingest.parquet``)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        corpus: List[str] = typer.Option(..., "--corpus", "-c", help="'demo', NAME=PATH, jsonl:PATH or csv:PATH; repeatable."),
        out: Path = typer.Option(..., "--out", "-o", help="The build folder."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the speaker-disjoint split."),
        text_disjoint: bool = typer.Option(False, "--text-disjoint", help="Also keep sentences out of more than one split."),
    ) -> None:
        """Read corpora in their distribution layouts into one table of utterances with splits."""
        from emotioncot.pipeline import BuildError, run_ingest
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        if seed is not None:
            cfg.ingest.seed = seed
        cfg.ingest.text_disjoint = text_disjoint or cfg.ingest.text_disjoint
        ws = Workspace(out)
        try:
            rows = run_ingest(ws, corpus, cfg)
        except (BuildError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        errors = ws.stage_errors("ingest")
        summary: dict = {}
        for r in rows:
            key = (r["corpus"], r.get("emotion") or f"(none: {r.get('native_label')})", r.get("split") or "(left out)")
            summary[key] = summary.get(key, 0) + 1
        typer.echo(f"{len(rows)} utterances -> {ws.stage_table('ingest')}")
        for (c, e, s), n in sorted(summary.items()):
            typer.echo(f"  {c:12s} {e:24s} {s:10s} {n}")
        if errors:
            typer.echo(f"{len(errors)} items left out (reasons in {ws.errors_path})")
