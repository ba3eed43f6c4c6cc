"""The ``emotioncot`` command line: a thin layer over the stage functions. One module per command group."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="emotioncot",
    help=(
        "Build speech-emotion reasoning datasets (EmotionCoT style) from emotional-speech corpora.\n\n"
        "Stages: ingest -> analyze (measure) -> calibrate -> generate (write) -> filter -> export.\n"
        "`emotioncot build` runs them all into one resumable build folder."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines ``register(app)``.
COMMAND_MODULES = ("build", "ingest", "analyze", "calibrate", "generate", "filter", "export", "validate", "hub", "train", "prosody", "report")

for _name in COMMAND_MODULES:
    importlib.import_module(f"emotioncot.cli.{_name}").register(app)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from emotioncot import __version__

        typer.echo(f"emotioncot {__version__}")
        raise typer.Exit()


def main() -> None:
    app()
