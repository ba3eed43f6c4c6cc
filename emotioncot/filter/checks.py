"""Checks on generated text. Each check returns a list of (code, explanation) for one record."""

from __future__ import annotations

import re
from typing import Callable

from pydantic import ValidationError

from emotioncot.config import FilterConfig
from emotioncot.schema import Record

THINK_ANSWER = re.compile(r"^\s*<think>(.+?)</think>\s*<answer>(.+?)</answer>\s*$", re.S)


def word_count(text: str) -> int:
    return len(re.findall(r"\b[\w'-]+\b", text))


def check_schema(record: dict, config: FilterConfig) -> list[tuple[str, str]]:
    try:
        Record.model_validate(record)
    except ValidationError as exc:
        return [("schema", "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))]
    return []


def check_length(record: dict, config: FilterConfig) -> list[tuple[str, str]]:
    n = word_count(record.get("cot_analysis") or "")
    if n < config.min_words:
        return [("length_short", f"rationale has {n} words, fewer than {config.min_words}")]
    if n > config.max_words:
        return [("length_long", f"rationale has {n} words, more than {config.max_words}")]
    return []


def check_format(record: dict, config: FilterConfig) -> list[tuple[str, str]]:
    text = record.get("cot_analysis") or ""
    has_tags = "<think>" in text or "<answer>" in text
    if has_tags and not THINK_ANSWER.match(text):
        return [("format", "rationale has <think>/<answer> tags that are not one <think>…</think><answer>…</answer> pair")]
    if config.require_format and not has_tags:
        return [("format", "rationale lacks the <think>…</think><answer>…</answer> format")]
    return []


CHECKS: dict[str, Callable[[dict, FilterConfig], list[tuple[str, str]]]] = {
    "schema": check_schema,
    "length": check_length,
    "format": check_format,
}


def filter_records(records: list[dict], config: FilterConfig | None = None) -> tuple[list[dict], list[dict]]:
    """Split records into kept and rejected; a rejected row is the record plus ``reject_reasons`` and
    ``explanation``."""
    config = config or FilterConfig()
    kept, rejected = [], []
    for record in records:
        problems = [p for check in CHECKS.values() for p in check(record, config)]
        if problems:
            rejected.append(
                {**record, "reject_reasons": [c for c, _ in problems], "explanation": "; ".join(m for _, m in problems)}
            )
        else:
            kept.append(record)
    return kept, rejected
