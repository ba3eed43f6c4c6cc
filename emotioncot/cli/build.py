"""``emotioncot build``: every stage, into one resumable build folder."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import (
    OLD_SEED, PROMPT_STYLE_HELP, QUIET, SAMPLING_SEED, SOURCE_HELP, SPLIT_SEED, check_prompt_style, fail, load_config,
    os_problem, seed_alias, stopped,
)
from emotioncot.cli.estimate_options import (
    NO_GENDER_ESTIMATE, NO_LANGUAGE_ESTIMATE, NO_SPEAKER_CLUSTERS, SPEAKER_MODEL, apply_estimate_options,
)
from emotioncot.cli.executor_options import EXECUTOR, RAY_ADDRESS, apply_executor_options
from emotioncot.cli.generate import (
    API_KEY_ENV, BASE_URL, CAPTION_PROMPT, CONCURRENCY, DRY_RUN, LABEL_MODE, MAX_RETRIES, MODEL, PRICE_IN, PRICE_OUT,
    KEEP_THINK, LIMIT, RATIONALE_PROMPT, REPAIR_ROUNDS, SEND_AUDIO, STRUCTURED, TEMPERATURE, TIMEOUT, WRITER,
    apply_write_options, echo_usage,
)
from emotioncot.wording import count


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        corpus: List[str] = typer.Option(..., "--corpus", "-c", help=SOURCE_HELP),
        out: Path = typer.Option(..., "--out", "-o", help="The build folder (created; a rerun resumes it)."),
        config: Optional[Path] = typer.Option(None, "--config", help="A JSON/YAML file with BuildConfig sections (ingest, measure, calibrate, write, filter, export, report)."),
        writer: Optional[str] = WRITER,
        base_url: Optional[str] = BASE_URL,
        model: Optional[str] = MODEL,
        api_key_env: Optional[str] = API_KEY_ENV,
        concurrency: Optional[int] = CONCURRENCY,
        max_retries: Optional[int] = MAX_RETRIES,
        timeout: Optional[float] = TIMEOUT,
        temperature: Optional[float] = TEMPERATURE,
        split_seed: Optional[int] = SPLIT_SEED,
        sampling_seed: Optional[int] = SAMPLING_SEED,
        seed: Optional[int] = OLD_SEED,
        label_mode: Optional[str] = LABEL_MODE,
        rationale_prompt: Optional[Path] = RATIONALE_PROMPT,
        caption_prompt: Optional[Path] = CAPTION_PROMPT,
        price_input_per_mtok: Optional[float] = PRICE_IN,
        price_output_per_mtok: Optional[float] = PRICE_OUT,
        send_audio: Optional[bool] = SEND_AUDIO,
        repair_rounds: Optional[int] = REPAIR_ROUNDS,
        limit: Optional[int] = LIMIT,
        structured: Optional[str] = STRUCTURED,
        keep_think: Optional[bool] = KEEP_THINK,
        dry_run: int = DRY_RUN,
        thresholds: Optional[Path] = typer.Option(None, "--thresholds", help="Apply saved calibration thresholds instead of fitting new ones."),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes for the measure stage (default: all cores)."),
        executor: Optional[str] = EXECUTOR,
        ray_address: Optional[str] = RAY_ADDRESS,
        embed_audio: bool = typer.Option(False, "--embed-audio", help="Store audio bytes in the exported dataset."),
        no_report: bool = typer.Option(False, "--no-report", help="Do not write the explorer report (report/); see `emotioncot report`."),
        prompt_style: Optional[str] = typer.Option(None, "--prompt-style", help=PROMPT_STYLE_HELP),
        speaker_model: Optional[str] = SPEAKER_MODEL,
        no_speaker_clusters: bool = NO_SPEAKER_CLUSTERS,
        no_language_estimate: bool = NO_LANGUAGE_ESTIMATE,
        no_gender_estimate: bool = NO_GENDER_ESTIMATE,
        quiet: bool = QUIET,
        retry_failed: bool = typer.Option(False, "--retry-failed", help="Measure again the clips whose failure was recorded (errors.jsonl) instead of keeping it."),
    ) -> None:
        """Run ingest -> measure -> calibrate -> write -> filter -> export into OUT.

        Finished work is kept: a rerun skips it, and a killed build resumes where it stopped.
        """
        from emotioncot.pipeline import BuildError, build as run_build

        cfg = apply_write_options(
            load_config(config), writer=writer, base_url=base_url, model=model, api_key_env=api_key_env,
            concurrency=concurrency, max_retries=max_retries, timeout=timeout, temperature=temperature,
            seed=seed_alias(sampling_seed, seed, "--sampling-seed"),
            label_mode=label_mode, rationale_prompt=rationale_prompt, caption_prompt=caption_prompt,
            price_input_per_mtok=price_input_per_mtok, price_output_per_mtok=price_output_per_mtok,
            send_audio=send_audio, repair_rounds=repair_rounds, limit=limit, structured=structured,
            keep_think=keep_think,
        )
        apply_executor_options(cfg, executor, ray_address)
        apply_estimate_options(cfg, speaker_model, no_speaker_clusters, no_language_estimate, no_gender_estimate)
        if thresholds:
            cfg.calibrate.thresholds_file = thresholds
        if workers:
            cfg.measure.workers = workers
            cfg.ingest.workers = workers
        if embed_audio:
            cfg.export.embed_audio = True
        if split_seed is not None:
            cfg.ingest.seed = split_seed
        if check_prompt_style(prompt_style):
            cfg.export.prompt_style = prompt_style  # type: ignore[assignment]
        if no_report:
            cfg.report.enabled = False
        try:
            summary = run_build(corpus, out, cfg, progress=not quiet, log=lambda m: typer.echo(m, err=True),
                                dry_run=dry_run, retry_failed=retry_failed)
        except KeyboardInterrupt as exc:
            stopped(exc, out)
        except Exception as exc:
            # WriteError's module imports openai (most of a second); a template-writer build never needs it.
            from emotioncot.write.llm import WriteError

            if isinstance(exc, (BuildError, WriteError, FileNotFoundError, ValueError)):
                fail(str(exc))
            if isinstance(exc, OSError):  # disk full, unwritable folder: one line each
                fail(os_problem(exc))
            raise
        if dry_run:
            return
        print_summary(out, summary)


def print_summary(out: Path, summary: dict) -> None:
    typer.echo(f"dataset: {out / 'dataset'}")
    typer.echo(f"parquet: {out / 'parquet'}")
    typer.echo(f"writer: {summary['writer'].get('writer')}")
    echo_usage(summary["writer"])
    typer.echo("rows per split: " + ", ".join(f"{k} {v}" for k, v in summary["splits"].items()))
    typer.echo("rows per emotion: " + ", ".join(f"{k} {v}" for k, v in summary["emotions"].items()))
    from emotioncot.ingest.speakers import describe

    for line in describe((summary.get("speakers") or {}).get("clusters") or {}):
        typer.echo(f"speakers: {line}")
    c = summary["counts"]
    excluded = summary.get("excluded") or {}
    if excluded.get("total"):
        typer.echo(f"excluded by the taxonomy (measured, no record): {count(excluded['total'], 'clip')}: " + ", ".join(
            f"{e['corpus']} {e['native_label']!r} {e['clips']} ({e['why']})" for e in excluded["by_label"]))
    seconds = summary["seconds"]
    took = f"{seconds['this_run']:.1f} s"
    if seconds["total"] - seconds["this_run"] > 1:  # stages kept from an earlier run: say what they cost then
        took += f" (the kept stages took {seconds['total']:.1f} s when built)"
    failed = f"{count(summary['errors'], 'item')} failed (reasons in {out / 'errors.jsonl'})" if summary["errors"] else "no item failed"
    typer.echo(
        f"ingested {c['ingest']}, measured {c['measure']}, written {c['write']}, kept {c['filter']}, "
        f"rejected {c['rejected']}; {failed}; {took}"
    )
    if summary["errors"]:
        from emotioncot.ingest.core import failures_by_reason

        typer.echo(failures_by_reason(out / "errors.jsonl"))
