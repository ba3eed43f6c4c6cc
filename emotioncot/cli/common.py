"""Helpers shared by commands: config from options, workspace loading, error reporting."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from emotioncot.config import BuildConfig


def fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def os_problem(exc: OSError) -> str:
    """One line for a machine-side failure (disk full, folder not writable), naming the path."""
    import errno

    where = exc.filename or "the build folder"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device while writing {where}; free some space and rerun to resume"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {where}: {exc.strerror}; choose a folder you can write (--out)"
    return f"{where}: {exc.strerror or exc}"


def stopped(exc: KeyboardInterrupt, out: Path, command: str = "the same command") -> None:
    """SIGINT / SIGTERM: one line on what is kept and how to resume, exit 128 + signal number."""
    import signal

    from emotioncot.workspace import Workspace

    signum = getattr(exc, "signum", signal.SIGINT)
    try:
        kept = Workspace(out).kept_summary()
    except Exception:  # the folder itself may be what failed
        kept = f"kept in {out}"
    typer.secho(f"stopped by {signal.Signals(signum).name}; {kept}. Run {command} again to resume.", err=True)
    raise typer.Exit(128 + signum)


def load_config(path: Path | None) -> BuildConfig:
    """A BuildConfig from a JSON or YAML file (any subset of sections), or the defaults."""
    if path is None:
        return BuildConfig()
    if not path.exists():
        fail(f"{path}: config file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        return BuildConfig.model_validate(data)
    except Exception as exc:
        fail(f"{path}: not a valid emotioncot config ({exc})")


def echo_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
