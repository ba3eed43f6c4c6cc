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
