"""Plain JSONL / CSV lists of clips: the EmotionThinker input format (``audio_path``, ``transcription``,
``emotion``) and emotioncot's own column names. Relative audio paths are relative to the list file.
Options: ``?corpus=NAME`` (default: the file's stem), ``?labels=ang:angry,xxx:`` (native label -> class;
empty target: excluded); other labels go through ``taxonomy.normalize_emotion``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from emotioncot.ingest.sources._common import option_label_map, unified_emotion
from emotioncot.taxonomy import EMOTIONS
from emotioncot.workspace import stable_hash

ALIASES = {
    "transcription": "transcript",
    "text": "transcript",
    "gt": "emotion",
    "label": "emotion",
    "gender_new": "gender",
    "speaker": "speaker_id",
    "path": "audio_path",
    "audio": "audio_path",
}
KNOWN = {
    "id", "audio_path", "start_s", "end_s", "speaker_id", "gender", "age", "age_level", "transcript",
    "language", "native_label", "emotion", "split", "valence", "arousal", "dominance",
}


def _rows(path: Path):
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            yield from csv.DictReader(fh)
    else:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    yield {"__error__": f"{path}:{n}: not valid JSON ({exc.msg})"}


def read(root: Path | None, options: dict):
    if root is None:
        raise ValueError("jsonl:/csv: sources need a file path, e.g. jsonl:clips.jsonl")
    path = Path(root)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: list file not found")
    corpus = options.get("corpus_name") or path.stem
    label_map = option_label_map(options)
    for raw in _rows(path):
        if "__error__" in raw:
            yield {"error": raw["__error__"], "path": str(path)}
            continue
        row = {ALIASES.get(k, k): v for k, v in raw.items() if v not in ("", None)}
        if "audio_path" not in row:
            yield {"error": f"{path}: a row has no audio_path", "path": str(path)}
            continue
        audio = Path(row["audio_path"])
        if not audio.is_absolute():
            audio = (path.parent / audio).resolve()
        row["audio_path"] = str(audio)
        native = row.get("native_label") or row.get("emotion")
        emotion = unified_emotion(str(native), label_map) if native is not None else None
        out = {k: v for k, v in row.items() if k in KNOWN}
        out.update(
            {
                "id": str(row.get("id") or f"{corpus}_{stable_hash(str(audio), row.get('start_s'), length=12)}"),
                "corpus": corpus,
                "native_label": str(native) if native is not None else None,
                "emotion": emotion if emotion in EMOTIONS else None,
                "meta": {k: v for k, v in row.items() if k not in KNOWN},
            }
        )
        if out.get("gender"):
            out["gender"] = str(out["gender"]).strip().capitalize()
            out["gender"] = {"M": "Male", "F": "Female"}.get(out["gender"], out["gender"])
            out["gender_source"] = "metadata"
        for key in ("age", "start_s", "end_s", "valence", "arousal", "dominance"):
            if key in out:
                out[key] = float(out[key])
        yield out
