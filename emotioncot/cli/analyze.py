"""``emotioncot analyze``: measure audio files (JSON Lines out); the measure stage of a build folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import QUIET, echo_json, fail, load_config
from emotioncot.cli.executor_options import EXECUTOR, RAY_ADDRESS, apply_executor_options


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


def register(app: typer.Typer) -> None:
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
        cfg = load_config(config)
        if workers:
            cfg.measure.workers = workers
        if pitch_method:
            if pitch_method not in ("praat", "pyworld"):
                fail(f"--pitch-method must be praat or pyworld, not {pitch_method!r}")
            cfg.measure.pitch_method = pitch_method  # type: ignore[assignment]
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
        jobs = [(str(p), transcript, language, cfg.measure, compare) for p in files]
        n_workers = max(1, min(cfg.measure.workers, len(jobs)))
        failed = False
        if n_workers == 1:
            results = map(_analyze_one, jobs)
        else:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=n_workers)
            results = pool.map(_analyze_one, jobs, chunksize=4)
        for out in results:  # input order, printed as each finishes
            failed |= out.get("error") is not None
            echo_json(out)
        if n_workers > 1:
            pool.shutdown()
        if failed:
            raise typer.Exit(1)
