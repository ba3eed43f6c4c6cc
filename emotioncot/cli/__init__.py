"""The ``emotioncot`` command line: a thin layer over the stage functions. One module per command group.

``emotioncot.cli.app`` is the Typer app with every command registered (``typer_app.py``). The ``emotioncot``
entry point (``main``) registers only the module of the command it runs, so ``emotioncot analyze one.wav`` does
not pay for importing every other command's dependencies (pandas, datasets, openai ...) before it starts; and a
plain ``analyze FILE ...`` runs without importing typer at all (``analyze.run_plain``): typer and the pydantic
adapters it builds for every option cost more CPU than measuring a short clip.
"""

from __future__ import annotations

# Each module defines ``register(app)``; the commands each one registers, in the order help lists them.
COMMAND_MODULES = {
    "build": ("build",), "ingest": ("ingest", "corpora", "pull"), "analyze": ("analyze",), "calibrate": ("calibrate",),
    "generate": ("generate",), "filter": ("filter",), "export": ("export",), "validate": ("validate",),
    "hub": ("push-to-hub",), "train": ("train", "evaluate"), "prosody": ("prosody-tasks",),
    "report": ("report",),
}


def __getattr__(name: str):
    if name == "app":
        from emotioncot.cli.typer_app import register_commands

        return register_commands()
    if name in ("register_commands", "_app"):
        from emotioncot.cli import typer_app

        return getattr(typer_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    import sys

    argv = sys.argv[1:]
    if argv[:1] == ["analyze"]:
        from emotioncot.cli.analyze import run_plain

        run_plain(argv[1:])  # exits when it measured; returns when the arguments need typer (help, errors ...)
    from emotioncot.cli.typer_app import register_commands

    register_commands(argv)(prog_name="emotioncot")
