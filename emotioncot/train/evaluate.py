"""``emotioncot evaluate``: generate on a split of an export and score the answers and the reasoning."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

from tqdm import tqdm

from emotioncot.train.config import TrainConfig
from emotioncot.train.metrics import compute_metrics, format_report
from emotioncot.train.rewards import parse_reasoning

logger = logging.getLogger("emotioncot.train.evaluate")


def generate_completions(policy, rows: list[dict], batch_size: int = 8, max_new_tokens: int = 512,
                         progress: bool = True) -> list[str]:
    """Greedy completions for the GRPO prompts of ``rows`` (text: cue prompts; audio: with the clip)."""
    import torch

    from emotioncot.train.data import text_prompt

    tokenizer = policy.tokenizer
    model = policy.model
    model.eval()
    forbidden = policy.forbidden_token_ids()  # as in GRPO: no audio token or chat markup inside an answer
    out: list[str] = []
    for start in tqdm(range(0, len(rows), batch_size), desc="evaluating", disable=not progress):
        batch = rows[start : start + batch_size]
        if policy.kind == "audio":
            inputs = policy.adapter.encode_chats([r["prompt"] for r in batch], [r["audio"] for r in batch],
                                                 add_generation_prompt=True, padding_side="left")
        else:
            tokenizer.padding_side = "left"
            texts = [tokenizer.apply_chat_template(text_prompt(r), tokenize=False, add_generation_prompt=True) for r in batch]
            inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        inputs = {k: v.to(model.device) for k, v in dict(inputs).items()}
        with torch.no_grad():
            generated = model.generate(
                **inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                suppress_tokens=forbidden or None,
            )
        new = generated[:, inputs["input_ids"].shape[1]:]
        out.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
    return out


def run_evaluate(
    data_dir: Path,
    model_path: str,
    split: str = "test",
    cfg: Optional[TrainConfig] = None,
    kind: str = "auto",
    limit: Optional[int] = None,
    batch_size: int = 8,
    max_new_tokens: int = 512,
    output: Optional[Path] = None,
    grader=None,
    progress: bool = True,
) -> dict:
    """Evaluate ``model_path`` on ``split``: a local model, or with ``cfg.evaluate.base_url`` the model of that
    name served by an OpenAI-compatible audio endpoint. Prompts are the export's, or ``cfg.prompt_style``'s.

    Writes ``output`` (report JSON), its ``.md`` sibling (the tables) and ``*.predictions.jsonl`` when given;
    returns the report: WA and UA with bootstrap intervals overall, per corpus and per class (recall), the
    confusion, the format rate and the reasoning grades."""
    from emotioncot.train.data import load_split
    from emotioncot.train.graders import make_grader

    cfg = cfg or TrainConfig()
    ev = cfg.evaluate
    ds = load_split(data_dir, split, cfg.prompt_style)
    if limit:
        ds = ds.select(range(min(limit, len(ds))))
    request_errors: list[dict] = []
    if ev.base_url:
        from emotioncot.train.endpoint import endpoint_completions

        rows = [dict(r) for r in ds]
        texts, request_errors = endpoint_completions(
            rows, ev.base_url, model_path, ev.api_key_env, ev.concurrency, ev.timeout_s, ev.max_retries,
            max_new_tokens, progress)
        policy_kind = "endpoint"
    else:
        from emotioncot.train.policies import load_policy

        policy = load_policy(model_path, cfg.policy, kind, use_cpu=cfg.use_cpu)
        if policy.kind != "audio":
            ds = ds.remove_columns("audio")
        rows = [dict(r) for r in ds]
        texts = generate_completions(policy, rows, batch_size, max_new_tokens, progress)
        policy_kind = policy.kind
    grader = grader or make_grader(cfg.grader, data_dir)
    todo = [i for i, t in enumerate(texts) if parse_reasoning(t)]
    graded = grader.grade([texts[i] for i in todo], [rows[i] for i in todo]) if todo else []
    grades = [None] * len(texts)
    for i, g in zip(todo, graded):
        grades[i] = g
    report = compute_metrics([r["solution"] for r in rows], texts, grades,
                             corpora=[r.get("corpus") or "?" for r in rows],
                             n_resamples=ev.bootstrap_resamples, level=ev.ci_level, seed=ev.seed)
    report.update({
        "model": str(model_path), "policy": policy_kind, "split": split, "grader": grader.name,
        "prompt_style": cfg.prompt_style or "as exported",
    })
    if ev.base_url:
        from emotioncot.write.llm import public_url

        report.update({"endpoint": public_url(ev.base_url), "failed_requests": len(request_errors),
                       "request_errors": request_errors[:20]})
    if output:
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        from emotioncot.tables import write_text_atomic

        lines = [
            json.dumps({"id": r.get("id"), "corpus": r.get("corpus"), "gold": r["solution"], "completion": t,
                        "grades": g.as_dict() if g else None}, ensure_ascii=False)
            for r, t, g in zip(rows, texts, grades)
        ]
        write_text_atomic(output.with_suffix(".predictions.jsonl"), "".join(line + "\n" for line in lines))
        write_text_atomic(output.with_suffix(".md"), format_report(report))
        write_text_atomic(output, json.dumps(report, indent=2, ensure_ascii=False))
    return report
