"""Interop check, LLaMA-Factory (run inside its venv by interop_check.py): its own dataset loader and
``qwen2_audio`` template on ``--for llamafactory``, then its SFT collator, which runs the audio feature
extractor; and ``datasets`` (LLaMA-Factory's pin) on the build's ``emotioncot.jsonl``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _interop_processor import build_processor, texts_of  # noqa: E402


def main(export: Path, processor_dir: Path, build: Path) -> None:
    import datasets
    import llamafactory
    import transformers
    from llamafactory.data import SFTDataCollatorWith4DAttentionMask, get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    print(f"llamafactory {llamafactory.__version__}, transformers {transformers.__version__}, datasets {datasets.__version__}")
    jsonl = datasets.load_dataset("json", data_files=str(build / "emotioncot.jsonl"), split="train")
    print(f"emotioncot.jsonl under datasets {datasets.__version__}: {len(jsonl)} rows, meta is {jsonl.features['meta']}")
    build_processor(processor_dir, texts_of(export))
    with tempfile.TemporaryDirectory() as tmp:
        model_args, data_args, training_args, _, _ = get_train_args(dict(
            stage="sft", do_train=True, model_name_or_path=str(processor_dir), template="qwen2_audio",
            dataset_dir=str(export), dataset="emotioncot_train", eval_dataset="emotioncot_validation",
            cutoff_len=4096, output_dir=tmp, overwrite_cache=True, finetuning_type="lora", report_to="none",
        ))
        tokenizer_module = load_tokenizer(model_args)
        template = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
        module = get_dataset(template, model_args, data_args, training_args, stage="sft", **tokenizer_module)
    train, evaluation = module["train_dataset"], module["eval_dataset"]
    print(f"train: {len(train)} tokenised rows, columns {train.column_names}; eval: {len(evaluation)} rows")
    tokenizer = tokenizer_module["tokenizer"]
    audio_id = tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    print(f"row 0: {len(train[0]['input_ids'])} tokens, {train[0]['input_ids'].count(audio_id)} <|AUDIO|> tokens, "
          f"{sum(1 for x in train[0]['labels'] if x != -100)} label tokens")
    collator = SFTDataCollatorWith4DAttentionMask(
        template=template, model=None, processor=tokenizer_module["processor"], tokenizer=tokenizer,
        label_pad_token_id=-100, pad_to_multiple_of=8,
    )
    batch = collator([train[i] for i in range(2)])
    print("collated batch:", {k: tuple(v.shape) for k, v in batch.items() if hasattr(v, "shape")})
    assert "input_features" in batch, "no audio features in the batch"


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
