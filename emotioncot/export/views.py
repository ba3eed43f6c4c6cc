"""The training views of a record: chat ``messages`` for SFT, ``prompt`` + ``solution`` for GRPO.

SFT (TRL ``SFTTrainer`` conversational format): system prompt, a user turn holding the audio placeholder
and the question listing the 9 options, and the assistant turn ``<think>rationale</think><answer>label</answer>``.

GRPO (TRL ``GRPOTrainer`` conversational format): ``prompt`` is the same conversation without the
assistant turn; ``solution`` is the gold label. TRL passes every other column to reward functions as
keyword arguments, so the gold ``emotion``, the levels (``pitch_level``, ``energy_level``,
``speed_level``), ``intonation``, ``stressed_words``, the ``caption`` and the reference rationale
``cot_analysis`` reach them with no extra plumbing.
"""

from __future__ import annotations

import re

from emotioncot.taxonomy import EMOTIONS

AUDIO_PLACEHOLDER = "<audio>"
SYSTEM_PROMPT = (
    "You are a speech emotion analyst. Listen to the audio, reason step by step from the acoustic cues "
    "(pitch, energy, speaking rate, intonation, stress, speaker traits) and then the content, and answer in "
    "the form <think>your reasoning</think><answer>one emotion label</answer>."
)
ANSWER_OPTIONS = ", ".join(EMOTIONS)
QUESTION = f"What emotion does the speaker express? Choose one of: {ANSWER_OPTIONS}."

# What every assistant turn (and every well-formed completion) looks like.
ANSWER_PATTERN = re.compile(
    r"^\s*<think>(?P<think>.+?)</think>\s*<answer>(?P<answer>" + "|".join(re.escape(e) for e in EMOTIONS) + r")</answer>\s*$",
    re.DOTALL,
)


def user_turn() -> str:
    return f"{AUDIO_PLACEHOLDER}\n{QUESTION}"


def assistant_turn(rationale: str, emotion: str) -> str:
    if emotion not in EMOTIONS:
        raise ValueError(f"emotion {emotion!r} is not one of the 9 classes")
    if not rationale or not rationale.strip():
        raise ValueError("empty rationale")
    # A rationale must not close the think block itself, or the turn would not parse.
    if "</think>" in rationale or "<answer>" in rationale:
        raise ValueError("rationale contains a <think>/<answer> tag")
    return f"<think>{rationale.strip()}</think>\n<answer>{emotion}</answer>"


def sft_messages(record: dict) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_turn()},
        {"role": "assistant", "content": assistant_turn(record["cot_analysis"], record["emotion"])},
    ]


def grpo_prompt(record: dict) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_turn()}]


def grpo_solution(record: dict) -> str:
    return record["emotion"]
