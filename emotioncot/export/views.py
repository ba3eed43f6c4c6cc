"""The training views of a record: chat ``messages`` for SFT, ``prompt`` + ``solution`` for GRPO."""

from __future__ import annotations

from emotioncot.taxonomy import EMOTIONS

AUDIO_PLACEHOLDER = "<audio>"
SYSTEM_PROMPT = (
    "You are a speech emotion analyst. Listen to the audio, reason step by step from the acoustic cues "
    "(pitch, energy, speaking rate, intonation, stress, speaker traits) and then the content, and answer in "
    "the form <think>your reasoning</think><answer>one emotion label</answer>."
)
ANSWER_OPTIONS = ", ".join(EMOTIONS)
QUESTION = f"What emotion does the speaker express? Choose one of: {ANSWER_OPTIONS}."


def user_turn() -> str:
    return f"{AUDIO_PLACEHOLDER}\n{QUESTION}"


def assistant_turn(rationale: str, emotion: str) -> str:
    return f"<think>{rationale.strip()}</think>\n<answer>{emotion}</answer>"


def sft_messages(record: dict) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_turn()},
        {"role": "assistant", "content": assistant_turn(record["cot_analysis"], record["emotion"])},
    ]


def grpo_prompt(record: dict) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_turn()}]
