"""``emotioncot push-to-hub``."""

from __future__ import annotations

from pathlib import Path

import typer

from emotioncot.cli.common import fail


def register(app: typer.Typer) -> None:
    @app.command(name="push-to-hub")
    def push_to_hub(
        workspace: Path = typer.Argument(..., help="A build folder with an export."),
        repo_id: str = typer.Argument(..., help="OWNER/NAME of the dataset repository."),
    ) -> None:
        """Upload the exported dataset and its card to the Hugging Face Hub (not available yet)."""
        fail("push-to-hub is not available yet in this version of emotioncot", code=3)
