"""``emotioncot validate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import QUIET, fail
from emotioncot.wording import count


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        path: Path = typer.Argument(..., help="A build folder, a saved dataset (save_to_disk) or a JSONL file (EmotionCoT fields)."),
        check_audio: bool = typer.Option(False, "--check-audio", help="Also decode every audio file (slower)."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        max_problems: int = typer.Option(20, "--max-problems", help="How many problems to list in the text report."),
        max_imbalance: float = typer.Option(10.0, "--max-imbalance", help="Warn when the largest class is this many times the smallest."),
        check_text: Optional[bool] = typer.Option(
            None, "--check-text/--no-check-text", help="Read every rationale and caption again with the filter's "
            "checks (numbers, levels, label, format ...), with the build's own filter settings from build.json. "
            "Default: on for build folders and saved datasets, off for JSONL files."),
        quiet: bool = QUIET,
    ) -> None:
        """Check every row against the schema and label vocabularies, duplicate ids, speakers in more than
        one split, audio references (exist; decode with --check-audio), class balance, and every rationale
        and caption against today's filter (problems text_<reason>). Exit 0 only when no problem is found
        (warnings do not fail)."""
        from emotioncot.validate import validate_path

        if not path.exists():
            fail(f"{path}: does not exist")
        try:
            report = validate_path(path, check_audio=check_audio, max_imbalance=max_imbalance, check_text=check_text,
                                   progress=not quiet and not as_json)
        except ValueError as exc:
            fail(str(exc))
        if as_json:
            typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            typer.echo(f"{report['path']} ({report['kind']}): {count(report['rows'], 'row')}")
            typer.echo("splits: " + ", ".join(f"{k} {v}" for k, v in report["splits"].items()))
            typer.echo("classes: " + ", ".join(f"{k} {v}" for k, v in report["class_balance"].items()))
            text = report.get("text_check") or {}
            if text.get("checked"):
                typer.echo(f"text: {count(text['rows'], 'row')} read again by the filter's checks (settings: {text['filter_config']})")
            for w in report["warnings"]:
                typer.secho(f"warning [{w['code']}] {w['message']}", fg=typer.colors.YELLOW)
            if report["ok"]:
                typer.secho("OK: no problems found", fg=typer.colors.GREEN)
            else:
                counts = ", ".join(f"{k} {v}" for k, v in report["problem_counts"].items())
                typer.secho(f"{len(report['problems'])} problems ({counts})", fg=typer.colors.RED)
                for p in report["problems"][:max_problems]:
                    rid = f"{p['id']}: " if p["id"] else ""
                    typer.echo(f"  [{p['code']}] {rid}{p['message']}")
                if len(report["problems"]) > max_problems:
                    typer.echo(f"  ... and {len(report['problems']) - max_problems} more (--json lists all)")
        if not report["ok"]:
            raise typer.Exit(1)
