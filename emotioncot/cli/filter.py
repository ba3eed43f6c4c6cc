"""``emotioncot filter``: keep or reject each record, with reasons."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import QUIET, echo_stale, fail, load_config

CHECK_NAMES = ("schema", "length", "format", "language", "grounding", "label", "transcript", "duplicates")


def _print_summary(kept: int, rejected: list[dict], where: str) -> None:
    from emotioncot.filter import REASON_CODES, reason_counts

    typer.echo(f"kept {kept}, rejected {len(rejected)} ({where})")
    for code, n in reason_counts(rejected).items():
        typer.echo(f"  {code:<22} {n:>6}  {REASON_CODES.get(code, '')}")


def register(app: typer.Typer) -> None:
    @app.command(name="filter")
    def filter_command(
        source: Path = typer.Argument(
            ..., help="A build folder (stage tables), or a JSONL file in the EmotionCoT field format "
            "(transcription, emotion/gt/label, pitch_level, ..., cot_analysis)."
        ),
        kept_path: Optional[Path] = typer.Option(None, "--kept", help="JSONL input: where the kept rows go."),
        rejected_path: Optional[Path] = typer.Option(
            None, "--rejected", help="JSONL input: where the rejected rows go, each with reject_reasons and explanation."
        ),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML); its `filter` section is used."),
        skip: List[str] = typer.Option(
            [], "--skip", help=f"Turn a check off (repeatable): {', '.join(CHECK_NAMES)}."
        ),
        label_mode: Optional[str] = typer.Option(
            None, "--label-mode", help="JSONL input: 'aware' or 'blind' for rows without a label_mode field."
        ),
        strictness: Optional[str] = typer.Option(
            None, "--strictness", help="Grounding: 'strict' (also 'high' said of a normal level) or 'opposite' (high vs low only)."
        ),
        quiet: bool = QUIET,
    ) -> None:
        """Check grounding against the measurements, label use, transcription quote, length, language,
        format and near-duplicates; write kept rows and rejected rows with machine-readable reasons.

        Build folder: writes the filter stage table and DIR/rejected.jsonl.
        JSONL file: writes --kept and --rejected (rows as they came in, plus reject_reasons and explanation).
        """
        cfg = load_config(config)
        updates = {}
        for name in skip:
            if name not in CHECK_NAMES:
                fail(f"--skip {name}: unknown check (choose from {', '.join(CHECK_NAMES)})")
            updates[f"check_{name}"] = False
        if label_mode is not None:
            if label_mode not in ("aware", "blind"):
                fail("--label-mode must be 'aware' or 'blind'")
            updates["label_mode"] = label_mode
        if strictness is not None:
            if strictness not in ("strict", "opposite"):
                fail("--strictness must be 'strict' or 'opposite'")
            updates["grounding_strictness"] = strictness
        cfg.filter = cfg.filter.model_copy(update=updates)

        if not source.exists():
            fail(f"{source}: does not exist")
        if source.is_dir():
            _filter_build(source, cfg)
        else:
            _filter_jsonl(source, kept_path, rejected_path, cfg, progress=not quiet)


def _filter_build(folder: Path, cfg) -> None:
    from emotioncot.pipeline import run_filter
    from emotioncot.workspace import Workspace

    ws = Workspace(folder)
    missing = [ws.stage_table(s) for s in ("ingest", "measure", "calibrate", "write") if not ws.stage_table(s).exists()]
    if missing:
        fail(f"{missing[0]}: table not found (run the earlier stages first, or use build)")
    kept, rejected = run_filter(ws, None, cfg)  # the stage streams the build's records
    _print_summary(len(kept), rejected, f"reasons in {ws.root / 'rejected.jsonl'}")
    echo_stale(ws.root)


def _filter_jsonl(path: Path, kept_path: Optional[Path], rejected_path: Optional[Path], cfg, progress: bool = True) -> None:
    from emotioncot.filter import filter_records
    from emotioncot.filter.io import read_jsonl, write_jsonl

    if kept_path is None or rejected_path is None:
        fail("a JSONL input needs --kept KEPT.jsonl and --rejected REJECTED.jsonl")
    try:
        rows = [row for _, row in read_jsonl(path)]
    except (ValueError, UnicodeDecodeError) as exc:
        fail(str(exc))
    if not rows:
        fail(f"{path}: no rows")
    kept, rejected = filter_records(rows, cfg.filter, progress=progress and len(rows) > 2000)
    write_jsonl(kept_path, kept)
    write_jsonl(rejected_path, rejected)
    _print_summary(len(kept), rejected, f"{kept_path}, {rejected_path}")
