"""The wording of the prosody questions and the SFT / GRPO views of a task row."""

from __future__ import annotations

import re

AUDIO_PLACEHOLDER = "<audio>"
SYSTEM_PROMPT = (
    "You are a careful listener of speech prosody: pitch, loudness, speaking rate, intonation and stress. "
    "Listen to the audio and answer the question with exactly one of the listed options, nothing else."
)

ORDINALS = ("first", "second", "third")


def with_options(stem: str, options: list[str]) -> str:
    return f"{stem} Answer with one of: {', '.join(options)}."


def user_turn(question: str) -> str:
    return f"{AUDIO_PLACEHOLDER}\n{question}"


def sft_messages(row: dict) -> list[dict]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_turn(row["question"])},
        {"role": "assistant", "content": row["answer"]},
    ]


def grpo_prompt(row: dict) -> list[dict]:
    return sft_messages(row)[:2]


_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def words_of(transcript: str) -> list[str]:
    """The words of a transcript as a listener would name them (punctuation dropped, case kept)."""
    return _WORD.findall(transcript or "")


def position_bucket(index: int, n_words: int) -> str:
    """Where a word sits in its sentence: start, middle or end (thirds of the word sequence)."""
    if n_words <= 1:
        return "start"
    rel = index / (n_words - 1)
    return "start" if rel < 1 / 3 else ("middle" if rel <= 2 / 3 else "end")
