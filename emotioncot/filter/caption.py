"""Captions are checked like rationales: what they say about the voice must agree with the measurements,
they must not repeat the prompt, they are prose of a bounded length, and they do not name the gold emotion
(a caption is a description of the clip, and one that names the label leaks it to a label-blind model).

Codes: ``caption_grounding`` (with the aspect in the explanation), ``caption_copied_prompt``,
``caption_format``, ``caption_length``, ``caption_emotion``.
"""

from __future__ import annotations

from emotioncot.filter.grounding import ASPECTS, grounding_problems
from emotioncot.filter.label import PATTERNS, mentions
from emotioncot.filter.surface import copied_prompt_problems, markup_problems
from emotioncot.filter.text import word_count


def caption_problems(record: dict, min_words: int, max_words: int, aspects=ASPECTS, strictness: str = "strict",
                     skip_generic: bool = True) -> list[tuple[str, str]]:
    caption = (record.get("caption") or "").strip()
    if not caption:
        return []  # a dataset without captions: nothing to check
    problems: list[tuple[str, str]] = []
    for code, message in grounding_problems({**record, "cot_analysis": caption}, aspects, strictness, skip_generic):
        problems.append(("caption_grounding", f"caption {code.removeprefix('grounding_')}: {message}"))
    problems += copied_prompt_problems(caption, "caption_copied_prompt")
    problems += markup_problems(caption, "caption_format")
    n = word_count(caption)
    if not min_words <= n <= max_words:
        problems.append(("caption_length", f"caption has {n} words, outside {min_words}-{max_words}"))
    gold = record.get("emotion")
    if gold in PATTERNS:
        named = mentions(caption, gold, transcript=record.get("transcript") or record.get("transcription"))
        if named:
            problems.append(("caption_emotion", f"caption names the emotion (“{named[0]}”)"))
    return problems
