"""``emotioncot generate``: captions and rationales for a build folder.

The write options are declared here once (``WriteOptions``) and shared with ``emotioncot build``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError

from emotioncot.cli.common import OLD_SEED, QUIET, SAMPLING_SEED, echo_stale, fail, load_config, seed_alias
from emotioncot.cli.executor_options import EXECUTOR, RAY_ADDRESS
from emotioncot.config import BuildConfig
from emotioncot.wording import count

# Option declarations shared by ``generate`` and ``build``. None means "keep the config file's value".
WRITER = typer.Option(None, "--writer", help="template (offline, deterministic; the default), openai (live requests to any OpenAI-compatible endpoint) or openai-batch (the same requests as Batch API jobs: half the price, answers within 24 h).")
BASE_URL = typer.Option(None, "--base-url", help="Endpoint base URL, e.g. http://localhost:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama. Default: api.openai.com.")
MODEL = typer.Option(None, "--model", help="Model name as the endpoint knows it (required by --writer openai).")
API_KEY_ENV = typer.Option(None, "--api-key-env", help="Name of the environment variable that holds the API key (default OPENAI_API_KEY). The key itself is never written anywhere.")
CONCURRENCY = typer.Option(None, "--concurrency", min=1, help="Requests in flight at once (default 8).")
MAX_RETRIES = typer.Option(None, "--max-retries", min=0, help="Retries per request after 429/5xx/timeouts/bad answers (default 4).")
TIMEOUT = typer.Option(None, "--timeout", min=0.1, help="Seconds before one request times out (default 60).")
TEMPERATURE = typer.Option(None, "--temperature", min=0.0, help="Sampling temperature (default 0.7).")
LABEL_MODE = typer.Option(None, "--label-mode", help="aware: the gold label is in the prompt (post-hoc rationales); blind: the model infers the emotion, stored as inferred_emotion.")
RATIONALE_PROMPT = typer.Option(None, "--rationale-prompt", help="Your own rationale prompt file (see prompts/rationale.md for the format).")
CAPTION_PROMPT = typer.Option(None, "--caption-prompt", help="Your own caption prompt file (see prompts/caption.md).")
PRICE_IN = typer.Option(None, "--price-input-per-mtok", min=0.0, help="Price per million prompt tokens; turns token usage into a cost in the summary and build.json.")
PRICE_OUT = typer.Option(None, "--price-output-per-mtok", min=0.0, help="Price per million completion tokens.")
SEND_AUDIO = typer.Option(None, "--send-audio/--no-send-audio", help="Attach each clip as base64 WAV (input_audio) for audio-capable models.")
REPAIR_ROUNDS = typer.Option(None, "--repair-rounds", min=0, metavar="N", help="Send a record the filter rejects for fixable reasons back with the reasons, up to N times (default 1; 0: never).")
LIMIT = typer.Option(None, "--limit", min=1, metavar="N", help="Write only the first N records (to try a model or a prompt).")
STRUCTURED = typer.Option(None, "--structured", help="auto: ask for JSON fields (response_format), plain text where the endpoint refuses; off: plain text.")
KEEP_THINK = typer.Option(None, "--keep-think/--strip-think", help="Keep a reasoning model's <think> block in the text (stripped by default).")
BATCH_FILE = typer.Option(None, "--batch-file", metavar="OUT.jsonl", help="Write the requests still unanswered (and the next repair round) as a batch request file for the OpenAI Batch API or 'vllm run-batch'; send nothing.")
BATCH_RESULTS = typer.Option(None, "--batch-results", metavar="RESULTS.jsonl", help="Read the answers from a batch results file made anywhere (vllm run-batch, a provider console), matched by custom_id; give the same --model and prompts as for --batch-file.")
DRY_RUN = typer.Option(0, "--dry-run", min=0, metavar="N", help="Print the first N records' filled prompts and the estimated tokens (and cost) of the whole stage; send nothing.")


def apply_write_options(cfg: BuildConfig, **options) -> BuildConfig:
    """Copy the options given on the command line into ``cfg.write`` and re-validate it."""
    mapping = {
        "writer": "writer", "base_url": "base_url", "model": "model", "api_key_env": "api_key_env",
        "concurrency": "concurrency", "max_retries": "max_retries", "timeout": "timeout_s",
        "temperature": "temperature", "seed": "seed", "label_mode": "label_mode",
        "rationale_prompt": "rationale_prompt", "caption_prompt": "caption_prompt",
        "price_input_per_mtok": "price_input_per_mtok", "price_output_per_mtok": "price_output_per_mtok",
        "send_audio": "send_audio", "repair_rounds": "repair_rounds", "limit": "limit", "structured": "structured",
        "keep_think": "keep_think", "batch_results": "batch_results",
    }
    data = cfg.write.model_dump()
    for name, value in options.items():
        if value is not None:
            data[mapping[name]] = value
    if data.get("batch_results") and data["writer"] == "template":
        data["writer"] = "openai"  # the answers of a results file were written by an LLM
    try:
        cfg.write = type(cfg.write).model_validate(data)
    except ValidationError as exc:
        fail("invalid write option: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    if cfg.write.writer != "template" and not cfg.write.model:
        fail(f"--writer {cfg.write.writer} needs --model (and --base-url unless you use api.openai.com)")
    if cfg.write.unusable():
        fail(cfg.write.unusable())
    return cfg


def echo_usage(info: dict) -> None:
    """One line on requests, tokens and cost for an LLM write."""
    if info.get("writer") != "openai":
        return
    req, now, kept = info["requests"], info["usage_this_run"], info["usage_of_kept_answers"]
    line = (f"requests: {req['to_send']} to send, {req['answered_before']} answered before, {req['failed']} failed; "
            f"{now['requests']} HTTP requests, {now['prompt_tokens']} prompt + {now['completion_tokens']} completion tokens this run")
    if "cost" in now:
        line += f", cost {now['cost']:.4f} (dataset total {kept.get('cost', 0):.4f})"
    typer.echo(line)


def register(app: typer.Typer) -> None:
    @app.command()
    def generate(
        workspace: Path = typer.Argument(..., help="A build folder with ingest, measure and calibrate tables."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
        writer: Optional[str] = WRITER,
        base_url: Optional[str] = BASE_URL,
        model: Optional[str] = MODEL,
        api_key_env: Optional[str] = API_KEY_ENV,
        concurrency: Optional[int] = CONCURRENCY,
        max_retries: Optional[int] = MAX_RETRIES,
        timeout: Optional[float] = TIMEOUT,
        temperature: Optional[float] = TEMPERATURE,
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
        batch_file: Optional[Path] = BATCH_FILE,
        batch_results: Optional[Path] = BATCH_RESULTS,
        executor: Optional[str] = EXECUTOR,
        ray_address: Optional[str] = RAY_ADDRESS,
        quiet: bool = QUIET,
    ) -> None:
        """Write a caption and a chain-of-thought rationale for every measured utterance.

        With --writer openai, every answer is stored as it arrives: a rerun, or a resume after a kill, sends only the requests that have no answer yet. Try --dry-run 3 first to see the prompts and the estimated tokens. --writer openai-batch sends them as Batch API jobs; --batch-file / --batch-results write the requests for a batch run elsewhere (vllm run-batch) and read its results back.
        """
        from emotioncot.pipeline import BuildError, load_records, run_write, writable
        from emotioncot.workspace import Workspace
        from emotioncot.write.llm import WriteError, dry_run as print_prompts

        cfg = apply_write_options(
            load_config(config), writer=writer, base_url=base_url, model=model, api_key_env=api_key_env,
            concurrency=concurrency, max_retries=max_retries, timeout=timeout, temperature=temperature,
            seed=seed_alias(sampling_seed, seed, "--sampling-seed"),
            label_mode=label_mode, rationale_prompt=rationale_prompt, caption_prompt=caption_prompt,
            price_input_per_mtok=price_input_per_mtok, price_output_per_mtok=price_output_per_mtok,
            send_audio=send_audio, repair_rounds=repair_rounds, limit=limit, structured=structured,
            keep_think=keep_think, batch_results=batch_results,
        )
        if batch_file and batch_results:
            fail("--batch-file writes requests and --batch-results reads answers: give one of them")
        from emotioncot.cli.executor_options import apply_executor_options

        apply_executor_options(cfg, executor, ray_address)
        ws = Workspace(workspace)
        try:
            records, excluded = writable(load_records(ws, with_texts=False), cfg)
        except FileNotFoundError as exc:
            fail(f"{exc} (run ingest, analyze and calibrate first, or use build)")
        if excluded:
            typer.echo(f"excluded by the taxonomy (no record): {count(sum(e['clips'] for e in excluded), 'clip')}")
        try:
            if dry_run:
                print_prompts(records, cfg, dry_run, ws, echo=typer.echo)
                return
            if batch_file:
                from emotioncot.write.batch_file import write_request_file

                made = write_request_file(records, ws, cfg, batch_file, progress=not quiet)
                typer.echo(f"{made['requests']} requests -> {', '.join(made['files'])} (nothing sent); run them, "
                           f"then: emotioncot generate {workspace} --batch-results RESULTS.jsonl with the same options")
                return
            rows, info = run_write(ws, records, cfg, progress=not quiet)
        except (BuildError, WriteError, ValueError) as exc:
            fail(str(exc))
        errors = ws.stage_errors("write")
        typer.echo(f"{len(rows)} written by {info.get('writer')}, {len(errors)} failed -> {ws.stage_table('write')}")
        echo_usage(info)
        echo_stale(ws.root)
