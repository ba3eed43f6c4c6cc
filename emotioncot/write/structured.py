"""Structured answers: a JSON schema sent as ``response_format`` (llama.cpp, vLLM and OpenAI honour it) so
the caption or the rationale comes back as a field, not mixed with preamble ("Sure! Here is ..."), and
the reasoning blocks of reasoning models (``<think>…</think>``) are stripped or kept.

A caption request asks for ``{"caption": ...}``; a rationale request for ``{"rationale": ...}``, plus
``"emotion"`` (one of the 9 classes) when label-blind. ``answer_text`` turns an answer back into the plain
text the rest of the writer reads (a blind answer ends with its ``EMOTION: <class>`` line, as a plain-text
answer does), and falls back to the raw text when the endpoint ignored the schema.
"""

from __future__ import annotations

import json
import re

from emotioncot.taxonomy import EMOTIONS

_THINK = re.compile(r"<think>.*?</think>\s*|^.*?</think>\s*", re.S | re.I)


def schema(task: str, label_mode: str) -> dict:
    field = "caption" if task == "caption" else "rationale"
    props: dict = {field: {"type": "string"}}
    if task == "rationale" and label_mode == "blind":
        props["emotion"] = {"type": "string", "enum": list(EMOTIONS)}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def response_format(task: str, label_mode: str) -> dict:
    return {"type": "json_schema",
            "json_schema": {"name": f"emotioncot_{task}", "strict": True, "schema": schema(task, label_mode)}}


def strip_think(text: str) -> str:
    """The answer without reasoning-model ``<think>`` blocks (also one whose opening tag the template ate)."""
    return _THINK.sub("", text or "").strip() if "</think>" in (text or "").lower() else (text or "").strip()


def parse_structured(raw: str | None) -> dict | None:
    """The JSON object of an answer, or None when it is not one (the endpoint ignored the schema)."""
    text = strip_think(raw or "")
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def answer_text(raw: str | None, task: str, label_mode: str = "aware", keep_think: bool = False) -> str:
    """The text the writer keeps from one answer, structured or plain."""
    value = parse_structured(raw)
    field = "caption" if task == "caption" else "rationale"
    if value is None or not isinstance(value.get(field), str):
        return (raw or "").strip() if keep_think else strip_think(raw or "")
    text = value[field].strip()
    if task == "rationale" and label_mode == "blind" and isinstance(value.get("emotion"), str):
        text = f"{text}\nEMOTION: {value['emotion']}"
    if keep_think:
        think = re.search(r"<think>.*?</think>", raw or "", re.S | re.I)
        if think:
            text = f"{think.group(0)}\n{text}"
    return text


def parse_answer(raw: str | None, task: str) -> str:
    """The caption or rationale of an aware answer (for scripts)."""
    return answer_text(raw, task, "aware")
