"""``emotioncot push-to-hub``: upload an export (Parquet shards, JSONL, dataset card) to the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import fail


def register(app: typer.Typer) -> None:
    @app.command(name="push-to-hub")
    def push_to_hub(
        workspace: Path = typer.Argument(..., help="A build folder with an export (README.md and parquet/)."),
        repo_id: str = typer.Argument(..., help="OWNER/NAME of the dataset repository (created if missing)."),
        private: bool = typer.Option(False, "--private", help="Create the repository as private (an existing one keeps its visibility)."),
        revision: Optional[str] = typer.Option(None, "--revision", help="Branch to commit to (created if missing); default main."),
        token_env: str = typer.Option("HF_TOKEN", "--token-env", help="NAME of the environment variable holding the token (the token itself is never printed)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be uploaded, to which repository and branch, in which commits; send nothing."),
        max_commit_mb: float = typer.Option(2048.0, "--max-commit-mb", help="Upload in commits of at most this size, so an interrupted push resumes after the last finished commit."),
    ) -> None:
        """Upload the export to a Hub dataset repository. Files already on the Hub with the same content are
        skipped (a rerun resumes a broken upload); transient failures are retried."""
        from emotioncot.export import hub

        token = hub.token_from_env(token_env)
        try:
            plan = hub.push_export(
                workspace, repo_id, token=token, api=None if dry_run else hub.make_api(), private=private,
                revision=revision, dry_run=dry_run, max_commit_mb=max_commit_mb, log=typer.echo,
            )
        except hub.HubError as exc:
            fail(hub.scrub(str(exc), token))
        except Exception as exc:  # anything unexpected: still never print the token
            fail(hub.scrub(f"push failed ({type(exc).__name__}: {exc})", token))
        if dry_run:
            typer.echo("dry run: nothing was sent")
            typer.echo(f"token: from ${token_env} ({'set' if token else 'NOT set: a real push would fail'})")
        typer.echo(plan.describe())
        if not dry_run:
            from huggingface_hub import constants

            where = f"{constants.ENDPOINT}/datasets/{repo_id}" + (f"/tree/{plan.revision}" if plan.revision != "main" else "")
            typer.echo(f"done: {where}")
