"""Helpers shared by commands: config from options, workspace loading, error reporting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from emotioncot.cli.output import echo_json  # noqa: F401 (the commands import it from here)

if TYPE_CHECKING:  # imported where a config is loaded: `analyze FILE` runs without pydantic (measure/settings.py)
    from emotioncot.config import BuildConfig


# Options that mean the same thing in every command that has them.
QUIET = typer.Option(False, "--quiet", "-q", help="No progress bars.")
SPLIT_SEED = typer.Option(None, "--split-seed", help="Seed of the speaker-disjoint train/validation/test split (same seed, same split).")
SAMPLING_SEED = typer.Option(None, "--sampling-seed", help="Sampling seed sent to the LLM endpoint with each request (default 0).")
PROMPT_STYLE_HELP = (
    "System prompt, question and answer format of the training views: emotioncot (ours) or emotionthinker "
    "(the released EmotionThinker model's, string for string)."
)
# The old spelling: --seed meant the split seed in ingest and the LLM seed in generate and build.
OLD_SEED = typer.Option(None, "--seed", hidden=True)


def seed_alias(new: int | None, old: int | None, new_name: str) -> int | None:
    """The value of ``new_name``, or of the deprecated ``--seed`` (with a warning on stderr)."""
    if old is None:
        return new
    if new is not None and new != old:
        fail(f"--seed (deprecated) and {new_name} disagree; give {new_name} only")
    typer.secho(f"warning: --seed is deprecated here; write {new_name}", fg=typer.colors.YELLOW, err=True)
    return old


def check_prompt_style(value: str | None) -> str | None:
    if value is not None and value not in ("emotioncot", "emotionthinker"):
        fail(f"--prompt-style must be emotioncot or emotionthinker, not {value!r}")
    return value


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
    from emotioncot.config import BuildConfig

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


def echo_stale(workspace: Path) -> None:
    """After a stage command run on its own: name the later stages that now show an older result, and the
    command that brings the folder up to date (``validate`` fails on such a folder until then)."""
    from emotioncot.stages import stale_stages
    from emotioncot.validate_build import rebuild_command
    from emotioncot.workspace import Workspace

    stale = [s["stage"] for s in stale_stages(Workspace(workspace))]
    if stale:
        typer.secho(f"now out of date: {', '.join(stale)} (they were made from the earlier result); run "
                    f"`{rebuild_command(workspace)}` to redo just those", fg=typer.colors.YELLOW)


# --corpus of build and ingest: one text, so that neither leaves out a kind of source the other takes
SOURCE_HELP = (
    "A source: 'demo'; NAME=PATH for a corpus in its distribution layout (see `emotioncot corpora`); "
    "jsonl:PATH or csv:PATH (EmotionThinker columns audio_path, transcription, emotion, or emotioncot's); "
    "hf:OWNER/NAME[:CONFIG] or hf:PATH (a save_to_disk folder). Options after '?', e.g. "
    "'iemocap=/data/IEMOCAP_full_release?fold=4' or 'hf:org/set?emotion=style&transcript=text'. Repeatable."
)
