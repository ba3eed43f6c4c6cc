"""``emotioncot train sft|grpo-ptr|tiny-model`` and ``emotioncot evaluate``. Needs the ``train`` extra."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import PROMPT_STYLE_HELP, QUIET, check_prompt_style, echo_json, fail

train_app = typer.Typer(
    help=(
        "Train a speech-emotion reasoning model on an export: `sft` first, then `grpo-ptr` (GRPO with the "
        "progressive trust-weighted reasoning reward). Needs the training extra (pip install emotioncot\\[train]). Reruns on the same "
        "--output resume from the last checkpoint."
    ),
    no_args_is_help=True,
)

_DATA = typer.Option(..., "--data", help="A build folder, an export folder, or its dataset/ (DatasetDict) folder.")
_MODEL = typer.Option(
    ..., "--model",
    help="Policy: a local transformers folder, a GGUF file or a folder holding one (dequantised once into "
         "~/.cache/emotioncot/gguf, or $EMOTIONCOT_CACHE/gguf), or a Hub id if reachable.")
_OUTPUT = typer.Option(..., "--output", help="Where checkpoints and the final model go.")
_CONFIG = typer.Option(None, "--config", help="Training config (JSON/YAML): sections policy, sft, grpo, ptr, grader.")
_POLICY = typer.Option("auto", "--policy", help="text (transcript + measured cues), audio (Qwen2-Audio family), auto.")
_RESUME = typer.Option("auto", "--resume", help="auto (last checkpoint in --output), never, or a checkpoint folder.")
_CPU = typer.Option(False, "--cpu", help="Train on the CPU even when a GPU is present.")
_PROMPT_STYLE = typer.Option(
    None, "--prompt-style", help=PROMPT_STYLE_HELP + " Default: the views as exported (config: prompt_style).")


def _style(cfg, prompt_style: Optional[str], quiet: bool = False):
    if check_prompt_style(prompt_style):
        cfg.prompt_style = prompt_style
    cfg.progress = cfg.progress and not quiet
    return cfg


def _config(path: Optional[Path]):
    try:
        from emotioncot.train.config import load_train_config

        return load_train_config(path)
    except ValueError as exc:
        fail(str(exc))


def _need_train_extra():
    try:
        import torch  # noqa: F401
        import trl  # noqa: F401
    except ImportError as exc:
        fail(f"training needs the train extra: pip install 'emotioncot[train]' ({exc})", code=3)


def _run(fn, **kwargs):
    try:
        return fn(**kwargs)
    except (FileNotFoundError, ValueError, ImportError) as exc:  # ImportError: a processor's missing extra
        fail(str(exc))


@train_app.command("sft")
def sft(
    data: Path = _DATA,
    model: str = _MODEL,
    output: Path = _OUTPUT,
    config: Optional[Path] = _CONFIG,
    policy: str = _POLICY,
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Override sft.max_steps."),
    resume: str = _RESUME,
    split: str = typer.Option("train", "--split"),
    cpu: bool = _CPU,
    prompt_style: Optional[str] = _PROMPT_STYLE,
    quiet: bool = QUIET,
) -> None:
    """Supervised fine-tuning on the SFT view (<think> rationale </think><answer> label </answer>)."""
    _need_train_extra()
    cfg = _style(_config(config), prompt_style, quiet)
    if max_steps is not None:
        cfg.sft.max_steps = max_steps
    cfg.use_cpu = cfg.use_cpu or cpu
    from emotioncot.train.sft import run_sft

    echo_json(_run(run_sft, data_dir=data, model_path=model, output_dir=output, cfg=cfg, kind=policy, resume=resume,
                   split=split))


@train_app.command("grpo-ptr")
def grpo_ptr(
    data: Path = _DATA,
    model: str = _MODEL,
    output: Path = _OUTPUT,
    config: Optional[Path] = _CONFIG,
    policy: str = _POLICY,
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Override grpo.max_steps."),
    num_generations: Optional[int] = typer.Option(None, "--num-generations", help="Group size K (default 8)."),
    grader: Optional[str] = typer.Option(None, "--grader", help="offline, openai (judge endpoint) or local."),
    judge_url: Optional[str] = typer.Option(None, "--judge-url", help="OpenAI-compatible base URL of the judge."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Judge model name (or local folder)."),
    reasoning_from_start: bool = typer.Option(False, "--reasoning-from-start",
                                              help="Skip the progressive switch: R_t on from step 0."),
    resume: str = _RESUME,
    split: str = typer.Option("train", "--split"),
    cpu: bool = _CPU,
    prompt_style: Optional[str] = _PROMPT_STYLE,
    quiet: bool = QUIET,
) -> None:
    """GRPO-PTR: R = 0.3 R_f + 1.0 R_o + 0.5 tau R_t, R_t switched on once training accuracy settles near 0.5."""
    _need_train_extra()
    cfg = _style(_config(config), prompt_style, quiet)
    if max_steps is not None:
        cfg.grpo.max_steps = max_steps
    if num_generations is not None:
        cfg.grpo.num_generations = num_generations
    if grader:
        cfg.grader.kind = grader
    if judge_url:
        cfg.grader.base_url = judge_url
    if judge_model:
        cfg.grader.model = judge_model
    if reasoning_from_start:
        cfg.ptr.switch.enabled_from_start = True
    cfg.use_cpu = cfg.use_cpu or cpu
    from emotioncot.train.grpo import run_grpo_ptr

    echo_json(_run(run_grpo_ptr, data_dir=data, model_path=model, output_dir=output, cfg=cfg, kind=policy,
                   resume=resume, split=split))


@train_app.command("tiny-model")
def tiny_model(
    data: Path = _DATA,
    output: Path = typer.Option(..., "--output", help="The folder the tiny policy (model and tokenizer) is written to."),
    kind: str = typer.Option("text", "--kind", help="text (tiny Qwen2), audio (tiny Qwen2-Audio) or a speech LLM "
                             "type: qwen2_5_omni, qwen3_omni_moe, audioflamingo3, phi4_multimodal, gemma3n, voxtral."),
    full_layout: bool = typer.Option(False, "--full-layout", help="qwen2_5_omni: the released checkpoints' layout "
                                     "(thinker + talker + token2wav)."),
) -> None:
    """Build a tiny randomly initialised policy locally (tokenizer trained on the export): for smoke runs."""
    _need_train_extra()
    from emotioncot.train.tiny import build_tiny_audio_policy, build_tiny_text_policy
    from emotioncot.train.tiny_speech import BUILDERS, build_tiny_speech_policy

    if kind in BUILDERS:
        model = _run(build_tiny_speech_policy, model_type=kind, data_dir=data, out=output, full_layout=full_layout)
    elif kind in ("text", "audio"):
        builder = build_tiny_audio_policy if kind == "audio" else build_tiny_text_policy
        model = _run(builder, data_dir=data, out=output)
    else:
        fail(f"--kind must be text, audio or one of {', '.join(sorted(BUILDERS))}, not {kind!r}")
    echo_json({"model": str(model), "kind": kind})


@train_app.command("convert-gguf")
def convert_gguf_cmd(
    model: str = typer.Option(..., "--model", help="A GGUF file, or a folder holding exactly one (e.g. an installed package's)."),
    output: Path = typer.Option(..., "--output", help="The transformers folder to write (float32 safetensors + tokenizer)."),
) -> None:
    """Dequantise a GGUF model into a transformers folder that trains, saves and serves like any other (train and
    evaluate do this by themselves, into the cache, when --model is a GGUF)."""
    _need_train_extra()
    from emotioncot.train.gguf import convert_gguf, find_gguf

    try:
        gguf = find_gguf(model)
    except ValueError as exc:
        fail(str(exc))
    if gguf is None:
        fail(f"{model}: not a GGUF file, nor a folder holding one")
    echo_json({"model": str(_run(convert_gguf, gguf=gguf, out=output)), "source": str(gguf)})


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")

    @app.command("evaluate")
    def evaluate(
        data: Path = _DATA,
        model: str = typer.Option(..., "--model", help="A local transformers folder or GGUF file, or with --base-url the model name the endpoint serves."),
        split: str = typer.Option("test", "--split", help="The split to score (train, validation, test)."),
        config: Optional[Path] = _CONFIG,
        policy: str = _POLICY,
        limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate the first N rows only."),
        batch_size: int = typer.Option(8, "--batch-size"),
        max_new_tokens: int = typer.Option(512, "--max-new-tokens", help="Greedy budget per answer (the demo's longest SFT target is 186 tokens: 256 is enough there)."),
        grader: Optional[str] = typer.Option(None, "--grader", help="offline, openai or local (reasoning grades)."),
        output: Optional[Path] = typer.Option(None, "--output", help="Report JSON (+ .md tables and .predictions.jsonl beside it)."),
        prompt_style: Optional[str] = _PROMPT_STYLE,
        base_url: Optional[str] = typer.Option(
            None, "--base-url", help="Score a model served by an OpenAI-compatible audio endpoint (e.g. http://127.0.0.1:8080/v1): the clip is sent as input_audio."),
        api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Variable holding the endpoint's API key (default OPENAI_API_KEY; never written anywhere)."),
        concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, help="Endpoint requests in flight (default 8)."),
        quiet: bool = QUIET,
    ) -> None:
        """WA and UA with bootstrap confidence intervals (overall, per corpus, per class), confusion, format rate
        and reasoning grades, on one split; for a local model or one served by an OpenAI-compatible endpoint.
        Prints the tables on stderr and the report JSON on stdout."""
        cfg = _style(_config(config), prompt_style)
        for field, value in (("base_url", base_url), ("api_key_env", api_key_env), ("concurrency", concurrency)):
            if value:
                setattr(cfg.evaluate, field, value)
        if not cfg.evaluate.base_url:
            _need_train_extra()
        if grader:
            cfg.grader.kind = grader
        from emotioncot.train.evaluate import run_evaluate
        from emotioncot.train.metrics import format_report

        report = _run(run_evaluate, data_dir=data, model_path=model, split=split, cfg=cfg, kind=policy, limit=limit,
                      batch_size=batch_size, max_new_tokens=max_new_tokens, output=output, progress=not quiet)
        typer.echo(format_report(report), err=True)
        echo_json(report)
