"""The Typer app behind ``emotioncot.cli``: the root callback and the registration of command modules (each
defines ``register(app)``). ``register_commands`` registers only the module of the command being run, so
``emotioncot ingest ...`` does not pay for importing every other command's dependencies (pandas, datasets,
openai ...) before it starts."""

from __future__ import annotations

import importlib

import typer

from emotioncot.cli import COMMAND_MODULES

_app = typer.Typer(
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

_registered: list[str] = []


def register_commands(argv: list[str] | None = None) -> typer.Typer:
    """Register the module of the command ``argv`` names, or every module (no argv, the top-level help,
    --version, a name we do not know: click then lists or suggests from all of them)."""
    wanted = None
    if argv:
        first = next((a for a in argv if not a.startswith("-")), None)
        wanted = [m for m, commands in COMMAND_MODULES.items() if first in commands] or None
    for name in wanted or COMMAND_MODULES:
        if name not in _registered:
            importlib.import_module(f"emotioncot.cli.{name}").register(_app)
            _registered.append(name)
    return _app


@_app.callback(invoke_without_command=True)
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
