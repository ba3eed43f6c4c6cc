"""``emotioncot.jsonl``: records in the public EmotionCoT field format, plus emotioncot's own fields.

One flat object per record. First the release fields, under the release's names: ``audio_path``,
``transcription``, ``emotion``, ``pitch_level``, ``energy_level``, ``speed_level``, ``stressed_words``,
``intonation``, ``gender``, ``age_level``, ``cot_analysis``. Then ours: ``id``, ``corpus``, ``speaker_id``,
``split``, ``caption``, the other utterance fields (segment times, native label, soft / dimensional labels,
meta ...), the measurements (every physical value behind a level: ``f0_median_hz``, ``energy_dbfs``,
``speaking_rate_sps`` ...) and the provenance (``tool_version``, ``thresholds_version``, ``writer``,
``model``, ``prompt_id``, ``prompt_hash``, ``label_mode``, ``seed``). Flat, so that pandas, ``datasets``
and ``emotioncot validate`` read it as columns. A tool that knows only the release reads its fields and
ignores the rest; ``from_emotioncot_fields`` reads both back (and the release's aliases, and nested
``measurements`` / ``provenance`` objects), so builds and the release interchange.

``meta`` is written as JSON text, not a nested object: its keys and value types differ from corpus to corpus
(a synthesis record's word timings, a conversation's channel), and ``datasets`` 4.x infers one type per
column path from the first rows, so a nested ``meta`` fails to load there ("changed from string to number").
``from_emotioncot_fields`` reads either form back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from emotioncot.schema import Measurements, Record
from emotioncot.tables import atomic_path, commit

RELEASE_FIELDS = (
    "audio_path", "transcription", "emotion", "pitch_level", "energy_level", "speed_level", "stressed_words",
    "intonation", "gender", "age_level", "cot_analysis",
)
PROVENANCE_FIELDS = ("tool_version", "thresholds_version", "writer", "model", "prompt_id", "prompt_hash", "label_mode", "seed")
MEASUREMENT_FIELDS = tuple(
    f for f in Measurements.model_fields if f in Record.model_fields and f not in ("id", "intonation", "stressed_words")
)
# Aliases found in released files -> our name.
RELEASE_ALIASES = {
    "gt": "emotion", "label": "emotion", "gender_new": "gender", "age_group": "age_level", "stress": "stressed_words",
    "stress_words": "stressed_words", "intonation_contour": "intonation", "contour_shape": "intonation",
    "transcription": "transcript",
}


def to_emotioncot_fields(record: dict) -> dict:
    """A record as one JSONL object: release fields first, then ours (utterance, measurements, provenance)."""
    out = {name: record.get("transcript" if name == "transcription" else name) for name in RELEASE_FIELDS}
    for name in ("id", "corpus", "speaker_id", "split", "caption"):
        out[name] = record.get(name)
    grouped = set(RELEASE_FIELDS) | set(PROVENANCE_FIELDS) | set(MEASUREMENT_FIELDS) | {"transcript"}
    for name in Record.model_fields:
        if name not in grouped and name not in out:
            out[name] = record.get(name)
    for name in (*MEASUREMENT_FIELDS, *PROVENANCE_FIELDS):
        out[name] = record.get(name)
    # dict fields (meta, soft labels) in sorted key order: their order in memory depends on where the rows
    # came from (a fresh run or a resumed one), and the file must be byte-identical either way
    flat = {k: _sorted(v) for k, v in out.items()}
    flat["meta"] = json.dumps(flat["meta"] or {}, ensure_ascii=False, default=str)
    return flat


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    return value


def from_emotioncot_fields(obj: dict) -> dict:
    """A JSONL object (ours or the release's) back to a flat record dict (validate with ``Record``)."""
    flat = {}
    for key, value in obj.items():
        if key in ("measurements", "provenance") and isinstance(value, dict):
            flat.update(value)
        elif key == "meta" and isinstance(value, str):
            flat["meta"] = json.loads(value) if value else {}
        else:
            target = RELEASE_ALIASES.get(key, key)
            if target not in flat or flat[target] is None:
                flat[target] = value
    return flat


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    """Write the records (atomically); return how many lines."""
    path = Path(path)
    tmp = atomic_path(path)
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(to_emotioncot_fields(rec), ensure_ascii=False, default=str) + "\n")
                n += 1
        commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def read_jsonl(path: Path) -> Iterator[dict]:
    """Flat record dicts from an ``emotioncot.jsonl`` (or a release JSONL); bad lines name file and line."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            yield from_emotioncot_fields(obj)
