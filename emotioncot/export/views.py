"""The training views of a record: chat ``messages`` for SFT, ``prompt`` + ``solution`` for GRPO.

SFT (TRL ``SFTTrainer`` conversational format): system prompt, a user turn holding the audio placeholder
and the question listing the 9 options, and the assistant turn ``<think>rationale</think><answer>label</answer>``.

GRPO (TRL ``GRPOTrainer`` conversational format): ``prompt`` is the same conversation without the
assistant turn; ``solution`` is the gold label. TRL passes every other column to reward functions as
keyword arguments, so the gold ``emotion``, the levels (``pitch_level``, ``energy_level``,
``speed_level``), ``intonation``, ``stressed_words``, the ``caption`` and the reference rationale
``cot_analysis`` reach them with no extra plumbing.

Two prompt styles (``ExportConfig.prompt_style``, ``--prompt-style``):

- ``emotioncot``: our own system prompt and question (the default);
- ``emotionthinker``: the system prompt, question and answer format of the released EmotionThinker model's
  inference script, string for string, so that model (or one trained the same way) can be evaluated or trained
  further on an emotioncot build without rewriting the views. Its 9 options are our 9 classes, in our order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emotioncot.taxonomy import EMOTIONS

AUDIO_PLACEHOLDER = "<audio>"
ANSWER_OPTIONS = ", ".join(EMOTIONS)


@dataclass(frozen=True)
class PromptStyle:
    name: str
    system: str
    question: str
    # Between the audio placeholder and the question in the user turn.
    after_audio: str
    # Between </think> and <answer> in the assistant turn.
    between_tags: str

    def user_turn(self) -> str:
        return f"{AUDIO_PLACEHOLDER}{self.after_audio}{self.question}"


EMOTIONCOT = PromptStyle(
    name="emotioncot",
    system=(
        "You are a speech emotion analyst. Listen to the audio, reason step by step from the acoustic cues "
        "(pitch, energy, speaking rate, intonation, stress, speaker traits) and then the content, and answer in "
        "the form <think>your reasoning</think><answer>one emotion label</answer>."
    ),
    question=f"What emotion does the speaker express? Choose one of: {ANSWER_OPTIONS}.",
    after_audio="\n",
    between_tags="\n",
)

# The released model's inference script puts "<audio>" straight before the question, and its system prompt
# shows the answer as "<think> ... </think><answer> ... </answer>" with nothing between the two blocks.
EMOTIONTHINKER = PromptStyle(
    name="emotionthinker",
    system=(
        "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
        "The assistant first thinks about the reasoning process in the mind and then provides the user with the "
        "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> "
        "tags, respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>."
    ),
    question=(
        "What is the emotion expressed in this audio clip? Please choose one from the following options: "
        f"{ANSWER_OPTIONS}."
    ),
    after_audio="",
    between_tags="",
)

PROMPT_STYLES: dict[str, PromptStyle] = {s.name: s for s in (EMOTIONCOT, EMOTIONTHINKER)}
DEFAULT_STYLE = EMOTIONCOT.name

# The default style's texts, under their historical names.
SYSTEM_PROMPT = EMOTIONCOT.system
QUESTION = EMOTIONCOT.question

# What every assistant turn (and every well-formed completion) looks like, in either style.
ANSWER_PATTERN = re.compile(
    r"^\s*<think>(?P<think>.+?)</think>\s*<answer>\s*(?P<answer>" + "|".join(re.escape(e) for e in EMOTIONS)
    + r")\s*</answer>\s*$",
    re.DOTALL,
)


def prompt_style(name: str) -> PromptStyle:
    try:
        return PROMPT_STYLES[name]
    except KeyError:
        raise ValueError(f"unknown prompt style {name!r} (choose {' or '.join(PROMPT_STYLES)})") from None


def user_turn(style: str = DEFAULT_STYLE) -> str:
    return prompt_style(style).user_turn()


def assistant_turn(rationale: str, emotion: str, style: str = DEFAULT_STYLE) -> str:
    if emotion not in EMOTIONS:
        raise ValueError(f"emotion {emotion!r} is not one of the 9 classes")
    if not rationale or not rationale.strip():
        raise ValueError("empty rationale")
    # A rationale must not close the think block itself, or the turn would not parse.
    if "</think>" in rationale or "<answer>" in rationale:
        raise ValueError("rationale contains a <think>/<answer> tag")
    return f"<think>{rationale.strip()}</think>{prompt_style(style).between_tags}<answer>{emotion}</answer>"


def sft_messages(record: dict, style: str = DEFAULT_STYLE) -> list[dict]:
    return [
        *grpo_prompt(record, style),
        {"role": "assistant", "content": assistant_turn(record["cot_analysis"], record["emotion"], style)},
    ]


def grpo_prompt(record: dict, style: str = DEFAULT_STYLE) -> list[dict]:
    s = prompt_style(style)
    return [{"role": "system", "content": s.system}, {"role": "user", "content": s.user_turn()}]


def grpo_solution(record: dict) -> str:
    return record["emotion"]
