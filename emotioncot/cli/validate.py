"""``emotioncot validate``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from emotioncot.cli.common import fail


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(
        path: Path = typer.Argument(..., help="A build folder, a saved dataset (save_to_disk) or a JSONL file."),
        check_audio: bool = typer.Option(False, "--check-audio", help="Also decode every audio file."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        max_problems: int = typer.Option(20, "--max-problems", help="How many problems to list in the text report."),
    ) -> None:
        """Check every row against the schema and vocabularies, ids, speaker leakage, audio; exit 0 only if clean."""
        from emotioncot.validate import validate_path

        if not path.exists():
            fail(f"{path}: does not exist")
        try:
            report = validate_path(path, check_audio=check_audio)
        except ValueError as exc:
            fail(str(exc))
        if as_json:
            typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            typer.echo(f"{report['path']} ({report['kind']}): {report['rows']} rows")
            typer.echo("splits: " + ", ".join(f"{k} {v}" for k, v in report["splits"].items()))
            typer.echo("classes: " + ", ".join(f"{k} {v}" for k, v in report["class_balance"].items()))
            if report["ok"]:
                typer.secho("OK: no problems found", fg=typer.colors.GREEN)
            else:
                typer.secho(f"{len(report['problems'])} problems: {report['problem_counts']}", fg=typer.colors.RED)
                for p in report["problems"][:max_problems]:
                    typer.echo(f"  [{p['code']}] {p['id'] or ''} {p['message']}")
        if not report["ok"]:
            raise typer.Exit(1)
