"""The training views: SFT ``messages`` through a real chat template (a tokenizer built locally, no
download), every assistant turn in the answer format, and the GRPO view feeding TRL-style rewards."""

from __future__ import annotations

import re

import pytest

from emotioncot.export import ANSWER_PATTERN, AUDIO_PLACEHOLDER, QUESTION, SYSTEM_PROMPT, load_dataset_dir
from emotioncot.taxonomy import EMOTIONS, SPLITS

# Qwen-style ChatML with the {% generation %} markers TRL's assistant-only loss relies on.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{%- if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{%- else %}{{ message['content'] + '<|im_end|>' }}{%- endif %}{{ '\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{%- endif %}"
)
SPECIALS = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<answer>", "</answer>", AUDIO_PLACEHOLDER]
LABELS = "|".join(re.escape(e) for e in EMOTIONS)
ASSISTANT_RE = re.compile(rf"<think>.+</think>\s*<answer>({LABELS})</answer>", re.DOTALL)


@pytest.fixture(scope="module")
def exported(demo_build):
    return load_dataset_dir(demo_build)


@pytest.fixture(scope="module")
def tokenizer(exported):
    """A WordLevel tokenizer trained here on the export's own text, wrapped as a transformers tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    texts = [m["content"] for split in SPLITS for row in exported[split]["messages"] for m in row]
    tok.train_from_iterator(texts + ["system user assistant"], trainers.WordLevelTrainer(special_tokens=SPECIALS))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>",
        additional_special_tokens=SPECIALS[2:], chat_template=CHAT_TEMPLATE,
    )


def test_every_assistant_turn_is_think_then_answer(exported):
    n = 0
    for split in SPLITS:
        for row in exported[split]:
            roles = [m["role"] for m in row["messages"]]
            assert roles == ["system", "user", "assistant"]
            answer = ASSISTANT_RE.fullmatch(row["messages"][-1]["content"])
            assert answer, row["id"]
            assert answer.group(1) == row["emotion"] == row["solution"]
            assert ANSWER_PATTERN.match(row["messages"][-1]["content"]).group("answer") == row["emotion"]
            n += 1
    assert n == 216


def test_user_turn_has_audio_placeholder_and_all_nine_options(exported):
    user = exported["train"][0]["messages"][1]["content"]
    assert user.startswith(AUDIO_PLACEHOLDER) and user.count(AUDIO_PLACEHOLDER) == 1
    for emotion in EMOTIONS:
        assert emotion in QUESTION and emotion in user


def test_sft_view_renders_through_a_chat_template(exported, tokenizer):
    row = exported["train"][0]
    rendered = tokenizer.apply_chat_template(row["messages"], tokenize=False)
    content = row["messages"][2]["content"]
    assert rendered == (
        f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n"
        f"<|im_start|>user\n{AUDIO_PLACEHOLDER}\n{QUESTION}<|im_end|>\n"
        f"<|im_start|>assistant\n{content}<|im_end|>\n"
    )
    enc = tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = enc["input_ids"], enc["assistant_masks"]
    assert ids.count(tokenizer.convert_tokens_to_ids(AUDIO_PLACEHOLDER)) == 1
    assert tokenizer.unk_token_id not in ids
    # The loss mask covers exactly the assistant turn: <think> ... </answer><|im_end|>.
    trained = [t for t, m in zip(ids, mask) if m]
    tokens = tokenizer.convert_ids_to_tokens(trained)
    assert tokens[0] == "<think>" and tokens[-2:] == ["</answer>", "<|im_end|>"]
    assert "<audio>" not in tokens and tokens.count("<answer>") == 1
    assert sum(mask) == len(tokenizer(content + "<|im_end|>", add_special_tokens=False)["input_ids"])


def test_grpo_prompt_renders_as_a_generation_prompt(exported, tokenizer):
    row = exported["validation"][0]
    assert row["prompt"] == row["messages"][:2]
    rendered = tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n")
    assert "<answer>" not in rendered.split(QUESTION)[-1] and row["solution"] not in rendered.split(QUESTION)[-1]


# ---- TRL-style reward functions: plain functions of completions and keyword columns (as in trl/rewards).

def format_reward(completions, **kwargs):
    return [1.0 if ANSWER_PATTERN.match(c[0]["content"]) else 0.0 for c in completions]


def accuracy_reward(completions, solution, **kwargs):
    out = []
    for c, gold in zip(completions, solution):
        m = ANSWER_PATTERN.match(c[0]["content"])
        out.append(1.0 if m and m.group("answer") == gold else 0.0)
    return out


def level_reward(completions, pitch_level, energy_level, speed_level, **kwargs):
    """Share of the three gold levels the reasoning states (``pitch ... high`` within a few words)."""
    out = []
    for c, levels in zip(completions, zip(pitch_level, energy_level, speed_level)):
        text = c[0]["content"].lower()
        hits = sum(
            bool(re.search(rf"\b{cue}\W+(?:\w+\W+){{0,3}}{level}\b", text))
            for cue, level in zip(("pitch", "energy", "pace"), levels)
            if level is not None
        )
        total = sum(level is not None for level in levels)
        out.append(hits / total if total else 0.0)
    return out


def test_grpo_columns_feed_trl_style_rewards(exported):
    batch = [exported["train"][i] for i in range(6)]
    # What GRPOTrainer does: every column but the prompt becomes a keyword argument, one list per column.
    reward_kwargs = {key: [ex[key] for ex in batch] for key in batch[0] if key not in ("prompt", "completion", "completion_ids")}
    for needed in ("solution", "emotion", "pitch_level", "energy_level", "speed_level", "intonation", "stressed_words",
                   "caption", "cot_analysis", "transcript", "gender", "age_level", "audio"):
        assert needed in reward_kwargs
    wrong = {ex["id"]: next(e for e in EMOTIONS if e != ex["solution"]) for ex in batch}

    def think(ex):
        return f"The pitch is {ex['pitch_level']}, the energy is {ex['energy_level']} and the pace is {ex['speed_level']}."

    completions = []
    for i, ex in enumerate(batch):
        if i % 3 == 0:
            text = f"<think>{think(ex)}</think>\n<answer>{ex['solution']}</answer>"  # right, grounded
        elif i % 3 == 1:
            text = f"<think>{think(ex)}</think><answer>{wrong[ex['id']]}</answer>"  # wrong label
        else:
            text = f"I think it is {ex['solution']}."  # no format
        completions.append([{"role": "assistant", "content": text}])
    prompts = [ex["prompt"] for ex in batch]

    assert format_reward(prompts=prompts, completions=completions, **reward_kwargs) == [1.0, 1.0, 0.0] * 2
    assert accuracy_reward(prompts=prompts, completions=completions, **reward_kwargs) == [1.0, 0.0, 0.0] * 2
    expected_levels = []
    for i, ex in enumerate(batch):
        known = sum(ex[k] is not None for k in ("pitch_level", "energy_level", "speed_level"))
        expected_levels.append(0.0 if i % 3 == 2 or known == 0 else 1.0)
    assert level_reward(prompts=prompts, completions=completions, **reward_kwargs) == expected_levels
    # A rationale stating the opposite levels earns nothing.
    flipped = [[{"role": "assistant", "content": "<think>The pitch is "
                 + ("low" if ex["pitch_level"] != "low" else "high") + ".</think><answer>neutral</answer>"}] for ex in batch]
    assert all(r == 0.0 for r, ex in zip(level_reward(completions=flipped, **reward_kwargs), batch) if ex["pitch_level"])
