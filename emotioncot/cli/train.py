"""``emotioncot train``."""

from __future__ import annotations

import typer

from emotioncot.cli.common import fail


def register(app: typer.Typer) -> None:
    @app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
    def train() -> None:
        """SFT and GRPO-PTR training on an export (not available yet)."""
        fail("train is not available yet in this version of emotioncot", code=3)
