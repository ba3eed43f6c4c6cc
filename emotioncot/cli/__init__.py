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
COMMAND_MODULES = ("build", "ingest", "analyze", "calibrate", "generate", "filter", "export", "validate", "hub", "train", "prosody")

for _name in COMMAND_MODULES:
    importlib.import_module(f"emotioncot.cli.{_name}").register(app)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from emotioncot import __version__

        typer.echo(f"emotioncot {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:  # only options were given (no_args_is_help covers no arguments at all)
        typer.echo(ctx.get_help())
        raise typer.Exit(2)


_display_type = typer.core.TyperOption.display_type_rich


def _flag_without_type(self, ctx):
    # typer's help shows "<bool>" beside plain flags (--quiet, --help), which take no value: show nothing.
    return None if self.is_flag and self.metavar is None else _display_type(self, ctx)


typer.core.TyperOption.display_type_rich = _flag_without_type


def main() -> None:
    app(prog_name="emotioncot")
