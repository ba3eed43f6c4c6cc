"""``emotioncot prosody-tasks``: prosody-perception training data from a build folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import QUIET, fail, load_config
from emotioncot.wording import count


def load_source_records(data: Path) -> list[dict]:
    """The records of a build folder: its stage tables (every measured utterance, with levels) or, when
    only an export is there, the exported dataset."""
    from emotioncot.workspace import Workspace

    ws = Workspace(data)
    if ws.stage_table("calibrate").exists():
        from emotioncot.pipeline import load_records

        return load_records(ws, with_texts=False)
    dataset = data / "dataset" if (data / "dataset").is_dir() else data
    if (dataset / "dataset_dict.json").exists():
        import json

        from emotioncot.export import load_dataset_dir

        rows = []
        for ds in load_dataset_dir(dataset).values():
            for row in ds.remove_columns([c for c in ("audio", "messages", "prompt", "solution") if c in ds.column_names]):
                for key in ("meta", "null_reasons", "level_reasons", "soft_labels"):
                    if isinstance(row.get(key), str):
                        row[key] = json.loads(row[key]) if row[key] else {}
                rows.append(row)
        return rows
    raise FileNotFoundError(f"{data}: not a build folder (no stages/calibrate.parquet) and no saved dataset in it")


def build_measure_config(data: Path):
    """The measure settings the build in ``data`` recorded (build.json), so that word times are aligned as its
    measure stage aligned them; the defaults when there is no build.json."""
    import json

    from emotioncot.config import MeasureConfig

    try:
        return MeasureConfig.model_validate(json.loads((data / "build.json").read_text())["config"]["measure"])
    except (OSError, ValueError, KeyError, TypeError):
        return MeasureConfig()


def register(app: typer.Typer) -> None:
    @app.command("prosody-tasks")
    def prosody_tasks(
        data: Path = typer.Option(..., "--data", help="A build folder made by `emotioncot build` (its levels, measurements and splits are used)."),
        out: Path = typer.Option(..., "--out", help="Output folder: dataset/, parquet/, README.md, dropped.jsonl, prosody_tasks.json."),
        tasks: Optional[str] = typer.Option(None, "--tasks", help="Comma-separated task families: attributes, compare, stress (default: all)."),
        per_utterance: Optional[int] = typer.Option(None, "--per-utterance", help="Compare items (and stress items) made from each source utterance."),
        embed_audio: bool = typer.Option(False, "--embed-audio", help="Also store the unmodified clips of attribute questions as bytes."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes for resynthesis (default: all cores)."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML); its `prosody` section sets steps and tolerances."),
        quiet: bool = QUIET,
    ) -> None:
        """Build prosody-perception questions (pitch, energy, speed, intonation, stress; attribute, comparative
        and stress tasks) with WORLD resynthesis, re-measure every generated clip, drop mismatches with reasons,
        balance the answers and export a DatasetDict + Parquet + card. Rerunning resumes finished utterances."""
        from emotioncot.prosody.build import build_tasks

        build_config = load_config(config)
        cfg = build_config.prosody
        if tasks:
            cfg.tasks = tuple(t.strip() for t in tasks.split(",") if t.strip())
        if per_utterance is not None:
            if per_utterance < 1:
                fail("--per-utterance must be at least 1")
            cfg.per_utterance = per_utterance
        if workers is not None:
            cfg.workers = workers
        cfg.embed_audio = embed_audio or cfg.embed_audio
        if not data.exists():
            fail(f"{data}: does not exist")
        try:
            records = load_source_records(data)
        except FileNotFoundError as exc:
            fail(str(exc))
        if not records:
            fail(f"{data}: no records")
        try:
            summary = build_tasks(records, out, cfg, progress=not quiet, measure_config=build_measure_config(data),
                                  executor_config=build_config.executor)
        except ValueError as exc:
            fail(str(exc))
        typer.echo(
            f"{count(sum(summary['splits'].values()), 'question')} ({summary['splits']}) from {count(summary['sources'], 'utterance')}; "
            f"{summary['dropped']} dropped (reasons in {out / 'dropped.jsonl'}) -> {out / 'dataset'}"
        )
        for task, n in summary["tasks"].items():
            typer.echo(f"  {task}: {n}")
        if summary["drop_reasons"]:  # "148 dropped" alone hid that a whole family was gone, and why
            typer.echo("dropped, by reason: " + "; ".join(f"{why} {n}" for why, n in summary["drop_reasons"].items()))
