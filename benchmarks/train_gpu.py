"""GPU throughput of the training core: steps/s and peak GPU memory of
  1. plain GRPO (TRL's GRPOTrainer, format + accuracy rewards)  <- baseline, same process
  2. GRPO-PTR, text policy (offline grader, reasoning reward on from the start)
  3. GRPO-PTR, audio policy (Qwen2-Audio adapter)
on policies built locally with random weights (no download; the GPU machines have no network), shaped like
Qwen2.5-0.5B by default (hidden 896, 24 layers). Prints one JSON line per run and the PTR/baseline ratio.

Usage: python benchmarks/train_gpu.py [--steps 20] [--audio-steps 5] [--hidden 896] [--layers 24]
Without CUDA (or without the train extra) it prints a skip line and exits 0, so `make bench` runs anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--audio-steps", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=896)
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--completion-length", type=int, default=128)
    parser.add_argument("--allow-cpu", action="store_true", help="Run on the CPU (a dry run of this script).")
    args = parser.parse_args()
    try:
        import torch
        import trl  # noqa: F401
    except ImportError as exc:
        print(json.dumps({"skipped": f"train extra not installed ({exc})"}))
        return 0
    cuda = torch.cuda.is_available()
    if not cuda and not args.allow_cpu:
        print(json.dumps({"skipped": "no CUDA device"}))
        return 0

    from emotioncot.pipeline import build
    from emotioncot.train.config import TrainConfig
    from emotioncot.train.grpo import run_grpo_ptr
    from emotioncot.train.tiny import build_tiny_audio_policy, build_tiny_text_policy

    work = Path(tempfile.mkdtemp(prefix="emotioncot-gpu-"))
    data = work / "demo"
    build(["demo"], data, progress=False, log=lambda m: None)
    text_model = build_tiny_text_policy(data, work / "text", hidden=args.hidden, layers=args.layers)
    audio_model = build_tiny_audio_policy(
        data, work / "audio", hidden=args.hidden, layers=args.layers, encoder_dim=256, encoder_layers=4
    )

    def config(steps: int) -> TrainConfig:
        cfg = TrainConfig(report_to="none", use_cpu=not cuda)
        cfg.policy.dtype = "bfloat16" if cuda else "float32"
        g = cfg.grpo
        g.max_steps, g.num_generations, g.per_device_train_batch_size = steps, args.generations, args.generations * 2
        g.max_completion_length, g.save_steps, g.logging_steps = args.completion_length, 10_000, 10_000
        g.learning_rate = 1e-6
        cfg.ptr.switch.enabled_from_start = True
        return cfg

    def measure(name: str, fn, steps: int) -> dict:
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        seconds = fn()  # the trainer's own train_runtime: model loading and data preparation left out
        wall = time.perf_counter() - start
        row = {"run": name, "steps": steps, "train_seconds": round(seconds, 2), "wall_seconds": round(wall, 2),
               "steps_per_s": round(steps / seconds, 3),
               "peak_gpu_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
               "device": torch.cuda.get_device_name(0) if cuda else "cpu"}
        print(json.dumps(row), flush=True)
        return row

    def baseline(steps: int = args.steps):
        from trl import GRPOConfig, GRPOTrainer

        from emotioncot.train.data import load_split, prepare_text_grpo
        from emotioncot.train.policies import load_policy
        from emotioncot.train.rewards import accuracy_reward, format_reward

        cfg = config(steps)
        policy = load_policy(str(text_model), cfg.policy, "text")
        g = cfg.grpo
        trainer = GRPOTrainer(
            model=policy.model, reward_funcs=[format_reward, accuracy_reward], processing_class=policy.tokenizer,
            train_dataset=prepare_text_grpo(load_split(data)),
            args=GRPOConfig(output_dir=str(work / "baseline"), max_steps=g.max_steps, num_generations=g.num_generations, beta=g.beta,
                            per_device_train_batch_size=g.per_device_train_batch_size,
                            max_completion_length=g.max_completion_length, save_steps=g.save_steps,
                            logging_steps=g.logging_steps, reward_weights=[0.3, 1.0], report_to="none",
                            bf16=cuda, use_cpu=not cuda, remove_unused_columns=False),
        )
        return trainer.train().metrics["train_runtime"]

    baseline(1)  # warm-up (CUDA context, kernels, allocator), not measured
    base = measure("grpo baseline (text, TRL)", baseline, args.steps)
    ptr = measure("grpo-ptr text", lambda: run_grpo_ptr(data, str(text_model), work / "ptr-text", config(args.steps),
                                                        resume="never")["train_runtime_s"], args.steps)
    print(json.dumps({"ratio": "grpo-ptr text / baseline steps per s",
                      "value": round(ptr["steps_per_s"] / base["steps_per_s"], 3)}), flush=True)
    measure("grpo-ptr audio", lambda: run_grpo_ptr(data, str(audio_model), work / "ptr-audio",
                                                   config(args.audio_steps), resume="never")["train_runtime_s"],
            args.audio_steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
