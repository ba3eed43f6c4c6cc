"""Interop check, verl (run inside its venv by interop_check.py): its own ``RLHFDataset`` on ``--for verl``
(default ``audio_key=audios``), the prompt built into messages with the audio parts, verl's
``build_multimodal_processor_inputs`` through the Qwen2-Audio processor (the feature extractor on the 16 kHz
arrays), and the emotioncot reward loaded the way verl loads ``reward.custom_reward_function``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _interop_processor import build_processor  # noqa: E402


def main(export: Path, processor_dir: Path) -> None:
    import datasets
    import pyarrow.parquet as pq
    import transformers
    from omegaconf import OmegaConf

    import verl
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.import_utils import load_extern_object
    from verl.utils.tokenizer.tokenizer import build_multimodal_processor_inputs

    print(f"verl {verl.__version__}, transformers {transformers.__version__}, datasets {datasets.__version__}")
    rows = pq.read_table(export / "train.parquet").to_pylist()
    texts = [m["content"] for r in rows[:200] for m in r["prompt"]] + [r["extra_info"]["cot_analysis"] for r in rows[:200]]
    build_processor(processor_dir, texts)
    processor = transformers.AutoProcessor.from_pretrained(str(processor_dir))
    with tempfile.TemporaryDirectory() as tmp:
        config = OmegaConf.create({"max_prompt_length": 4096, "filter_overlong_prompts": True, "cache_dir": tmp})
        dataset = RLHFDataset(data_files=[str(export / "train.parquet")], tokenizer=processor.tokenizer,
                              processor=processor, config=config)
        print(f"RLHFDataset(train.parquet): {len(dataset)} rows (prompts longer than 4096 tokens filtered out)")
        item = dataset[0]
        messages = item["raw_prompt"]
        print("row 0 user turn:", [p.get("type") for p in messages[1]["content"]])
        _, _, audios = RLHFDataset._process_multi_modal_info(messages, 14, config)
        raw = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = build_multimodal_processor_inputs(processor, text=[raw], audio=audios)
    audio_id = processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    print(f"row 0: {len(audios)} audio of {len(audios[0])} samples; {inputs['input_ids'].shape[1]} tokens, "
          f"{int((inputs['input_ids'] == audio_id).sum())} <|AUDIO|> tokens; "
          + ", ".join(f"{k} {tuple(v.shape)}" for k, v in inputs.items() if hasattr(v, "shape")))
    assert "input_features" in inputs, "no audio features"

    import emotioncot.train.verl_reward as reward_module

    per_sample = get_custom_reward_fn(OmegaConf.create({"reward": {"custom_reward_function": {
        "path": reward_module.__file__, "name": "compute_score"}}}))
    batch = load_extern_object(module_path=reward_module.__file__, object_name="compute_score_batch")
    sample = rows[:4]
    solutions = [f"<think>{r['extra_info']['cot_analysis']}</think><answer>{r['reward_model']['ground_truth']}</answer>"
                 for r in sample[:2]] + ["<answer>neutral</answer>", sample[3]["reward_model"]["ground_truth"]]
    print("compute_score:", [per_sample(data_source=r["data_source"], solution_str=s,
                                        ground_truth=r["reward_model"]["ground_truth"], extra_info=r["extra_info"])
                             for r, s in zip(sample, solutions)])
    print("compute_score_batch:", batch(data_sources=[r["data_source"] for r in sample], solution_strs=solutions,
                                        ground_truths=[r["reward_model"]["ground_truth"] for r in sample],
                                        extra_infos=[r["extra_info"] for r in sample]))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
