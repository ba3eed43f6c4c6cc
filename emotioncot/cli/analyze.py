"""``emotioncot analyze``: measure audio files (JSON Lines out); the measure stage of a build folder.

A plain ``analyze FILE ...`` (files and only --transcript, --language, --pitch-method, --workers, --quiet, each
once, with values typer would accept) is run by ``run_plain`` without importing typer or pydantic: their
imports, the configuration models and the pydantic adapter typer builds for each option cost more CPU than
measuring a short clip (issue 33). Anything else (--help, --config, --workspace, --compare, --executor, a
value typer would reject) goes through typer, which parses, prints usage and reports errors; both paths then
measure with ``measure_files``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

from emotioncot.cli.output import echo_json

if TYPE_CHECKING:
    import typer


def _analyze_one(args: tuple) -> dict:
    # The measurement alone, not the pipeline module: files given by hand need no tables (pandas) or executors,
    # which would cost more start-up time than measuring a short clip.
    from emotioncot.audio.io import AudioError
    from emotioncot.measure import measure_utterance

    path, transcript, language, measure_config, *compare = args
    row = {"id": path, "audio_path": path, "transcript": transcript, "language": language}
    try:
        out = {"file": path, **measure_utterance(row, measure_config)}
        out.pop("id", None)
    except AudioError as exc:
        out = {"file": path, "error": str(exc)}
    except Exception as exc:  # one bad file must not stop the others
        out = {"file": path, "error": f"{path}: measurement failed ({type(exc).__name__}: {exc})"}
    if compare and compare[0] == "opensmile" and out.get("error") is None:
        from emotioncot.audio.io import read_audio
        from emotioncot.measure.opensmile_compare import egemaps

        out["opensmile"] = egemaps(*read_audio(path))
    return out


def measure_files(files: list[str], transcript: str | None, language: str | None, measure, compare: str | None) -> bool:
    """Measure the files with the measure settings ``measure`` and print one JSON object each, in input order, as
    each finishes; True when any of them failed."""
    jobs = [(path, transcript, language, measure, compare) for path in files]
    n_workers = max(1, min(measure.workers, len(jobs)))
    failed = False
    if n_workers == 1:
        results = map(_analyze_one, jobs)
    else:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=n_workers)
        results = pool.map(_analyze_one, jobs, chunksize=4)
    for out in results:
        failed |= out.get("error") is not None
        echo_json(out)
    if n_workers > 1:
        pool.shutdown()
    return failed


# the options run_plain reads (their typer definitions are in register); flags take no value
PLAIN_OPTIONS = {"--transcript": "transcript", "--language": "language", "--pitch-method": "pitch_method",
                 "--workers": "workers"}
PLAIN_FLAGS = ("--quiet", "-q")


def plain_arguments(argv: list[str]) -> dict | None:
    """The files and options of a plain ``analyze`` command line (``argv`` after the word analyze), or None when
    anything in it is for typer to parse or refuse."""
    files: list[str] = []
    options: dict[str, str] = {}
    rest = iter(argv)
    for arg in rest:
        if arg in PLAIN_FLAGS:
            continue
        name, eq, value = arg.partition("=")
        if name in PLAIN_OPTIONS and (eq or name == arg):
            if not eq:
                value = next(rest, None)
                if value is None or value.startswith("-"):
                    return None
            if PLAIN_OPTIONS[name] in options:  # given twice: typer's rule (the last one) is not repeated here
                return None
            options[PLAIN_OPTIONS[name]] = value
        elif arg.startswith("-") or not arg:
            return None
        else:
            files.append(str(Path(arg)))  # as typer hands a Path argument over
    workers = options.get("workers")
    if not files or options.get("pitch_method", "praat") not in ("praat", "pyworld") or (
            workers is not None and not (workers.isascii() and workers.isdigit())):
        return None
    return {"files": files, "transcript": options.get("transcript"), "language": options.get("language"),
            "pitch_method": options.get("pitch_method"), "workers": int(workers) if workers is not None else None}


def run_plain(argv: list[str]) -> None:
    """Measure a plain ``analyze FILE ...`` and exit as typer would (status 1 when any file failed, 1 with
    "Aborted!" on Ctrl-C, 1 without a word when the output pipe closes); return at once, having done nothing,
    when ``argv`` needs typer."""
    args = plain_arguments(argv)
    if args is None:
        return
    from emotioncot.measure.settings import MeasureSettings

    measure = MeasureSettings()
    if args["workers"]:
        measure.workers = args["workers"]
    if args["pitch_method"]:
        measure.pitch_method = args["pitch_method"]
    try:
        failed = measure_files(args["files"], args["transcript"], args["language"], measure, None)
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)
        raise SystemExit(1) from None
    except BrokenPipeError:  # the reader went away (`| head`): exit 1 quietly, as click does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        raise SystemExit(1) from None
    raise SystemExit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    import typer

    from emotioncot.cli.common import QUIET, fail, load_config
    from emotioncot.cli.executor_options import EXECUTOR, RAY_ADDRESS, apply_executor_options, check_executor_options

    @app.command()
    def analyze(
        files: List[Path] = typer.Argument(None, help="Audio files to measure (WAV, FLAC, OGG, MP3, M4A ...)."),
        transcript: Optional[str] = typer.Option(
            None, "--transcript", help="What is said (all files). Gives syllable counts for the rates and enables word stress; "
            "without it, syllables are counted acoustically and no stressed words are reported."),
        language: Optional[str] = typer.Option(
            None, "--language", help="Language code of the transcript (en, de, fr ...). English uses the CMU dictionary, "
            "other languages eSpeak NG phonemes. Default: English."),
        pitch_method: Optional[str] = typer.Option(None, "--pitch-method", help="praat (default) or pyworld."),
        workspace: Optional[Path] = typer.Option(None, "--workspace", help="Measure every utterance of a build folder instead."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes to use (default: all cores)."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML); its 'measure' section applies."),
        compare: Optional[str] = typer.Option(
            None, "--compare", help="Also measure with a reference backend and print its values beside ours under "
            "'opensmile' (only: opensmile, eGeMAPSv02; needs the opensmile package, in the test extra)."),
        executor: Optional[str] = EXECUTOR,
        ray_address: Optional[str] = RAY_ADDRESS,
        quiet: bool = QUIET,
    ) -> None:
        """Print one JSON object per file with the acoustic measurements (units in the key names: _hz, _st,
        _dbfs, _db, _s, _sps); a value that cannot be measured is null and its reason is in null_reasons.
        Exit status 1 when any file failed, after printing all of them. See docs/measurement.md."""
        # files with the defaults need no pydantic configuration (emotioncot/measure/settings.py)
        cfg = load_config(config) if config is not None or workspace is not None else None
        if cfg is None:
            from emotioncot.measure.settings import MeasureSettings

            measure = MeasureSettings()
        else:
            measure = cfg.measure
        if workers:
            measure.workers = workers
        if pitch_method:
            if pitch_method not in ("praat", "pyworld"):
                fail(f"--pitch-method must be praat or pyworld, not {pitch_method!r}")
            measure.pitch_method = pitch_method  # type: ignore[assignment]
        if cfg is None:
            check_executor_options(executor, ray_address)  # files are measured here, not by an executor
        else:
            apply_executor_options(cfg, executor, ray_address)
        if workspace is not None:
            from emotioncot.pipeline import BuildError, run_measure
            from emotioncot.schema import Utterance
            from emotioncot.tables import read_table
            from emotioncot.workspace import Workspace

            ws = Workspace(workspace)
            try:
                utterances = read_table(ws.stage_table("ingest"), Utterance)
            except FileNotFoundError as exc:
                fail(f"{exc} (run ingest first)")
            try:
                rows = run_measure(ws, utterances, cfg, progress=not quiet)
            except BuildError as exc:
                fail(str(exc))
            typer.echo(f"{len(rows)} measured -> {ws.stage_table('measure')}")
            return
        if not files:
            fail("give audio files to measure, or --workspace")
        if compare is not None:
            if compare != "opensmile":
                fail(f"--compare takes opensmile, not {compare!r}")
            from emotioncot.measure.opensmile_compare import OpenSmileMissing, _smile

            try:
                _smile("functionals")
            except OpenSmileMissing as exc:
                fail(str(exc))
        if measure_files([str(p) for p in files], transcript, language, measure, compare):
            raise typer.Exit(1)
