"""Interop check, ms-swift (run inside its venv by interop_check.py): its own ``load_dataset`` on
``--for ms-swift`` (from the export folder, as the docs say to run it), the ``qwen2_audio`` template's encode
(which loads the clips and runs the feature extractor) and collator; the GRPO file's columns; and the
emotioncot ORM plugin loaded the way ``--external_plugins`` loads it, called as ms-swift's GRPO trainer calls it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _interop_processor import build_processor, texts_of  # noqa: E402


def main(export: Path, processor_dir: Path) -> None:
    import datasets
    import transformers

    import swift
    from swift.dataset import load_dataset
    from swift.model import get_processor
    from swift.rewards import orms
    from swift.template import get_template
    from swift.utils import import_external_file

    print(f"ms-swift {swift.__version__}, transformers {transformers.__version__}, datasets {datasets.__version__}")
    build_processor(processor_dir, texts_of(export))
    os.chdir(export)  # ms-swift opens relative media paths from the working directory
    processor = get_processor(str(processor_dir), model_type="qwen2_audio", download_model=False)
    template = get_template(processor, max_length=4096)
    template.set_mode("train")
    train, _ = load_dataset(["train.jsonl"], split_dataset_ratio=0.0)
    print(f"train.jsonl: {len(train)} rows, columns {train.column_names}")
    encoded = [template.encode(train[i]) for i in range(2)]
    audio_id = processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    print(f"row 0: {len(encoded[0]['input_ids'])} tokens, {encoded[0]['input_ids'].count(audio_id)} <|AUDIO|> tokens, "
          f"{sum(1 for x in encoded[0]['labels'] if x != -100)} label tokens")
    batch = template.data_collator(encoded)
    print("collated batch:", {k: tuple(v.shape) for k, v in batch.items() if hasattr(v, "shape")})
    assert "input_features" in batch, "no audio features in the batch"

    # swift rlhf --rlhf_type grpo sets remove_unused_columns=False, so the extra columns reach the rewards
    grpo, _ = load_dataset(["grpo_train.jsonl"], split_dataset_ratio=0.0, remove_unused_columns=False)
    print(f"grpo_train.jsonl: {len(grpo)} rows, columns {grpo.column_names}")
    import emotioncot.train.swift_orm as plugin_module

    import_external_file(plugin_module.__file__)
    names = ["emotioncot_format", "emotioncot_accuracy", "emotioncot_reasoning"]
    funcs = [orms[name](args=None) for name in names]
    rows = [grpo[i] for i in range(4)]
    completions = [f"<think>{r['cot_analysis']}</think><answer>{r['solution']}</answer>" for r in rows[:2]]
    completions += ["<answer>neutral</answer>", rows[3]["solution"]]
    columns = {k: [r[k] for r in rows] for k in rows[0] if k not in ("messages", "audios")}
    for name, func in zip(names, funcs):
        print(f"{name}: {func(completions, **columns)}")
    # The same call in a process whose config turns R_t on from the start (offline grader): tau R_t per completion.
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"ptr": {"switch": {"enabled_from_start": True}}}, fh)
    os.environ["EMOTIONCOT_TRAIN_CONFIG"] = fh.name
    sys.modules[orms["emotioncot_reasoning"].__module__]._scorer = None  # the module --external_plugins loaded
    print(f"emotioncot_reasoning, switch on: {orms['emotioncot_reasoning'](args=None)(completions, **columns)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
