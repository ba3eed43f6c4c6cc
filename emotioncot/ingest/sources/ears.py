"""EARS: Expressive Anechoic Recordings of Speech (Richter et al., Interspeech 2024).

107 speakers ``p001``-``p107``, one release zip per speaker, each unpacking to ``pXXX/<stem>.wav`` (48 kHz,
flat). ``transcripts.json`` (stem -> text, for ``emo_*_sentences``, ``rainbow_*`` and ``sentences_*``) and
``speaker_statistics.json`` (``pXXX`` -> age bucket, gender, ethnicity, native language, ...) sit at the
repository root and must be placed next to the speaker folders. Stems:
``emo_<emotion>_sentences`` / ``emo_<emotion>_freeform`` (22 emotions + neutral, spelled as in the data,
e.g. ``embarassment``, ``extasy``), ``rainbow_<nn>_<style>`` and ``sentences_<nn>_<style>`` (reading styles
``regular loud whisper highpitch lowpitch fast slow``), ``freeform_speech_01``, and non-verbal files whose
first token is ``interjection``, ``melodic``, ``nonverbal`` or ``vegetative``. The native label is the
emotion, the reading style, ``freeform`` or that first token. No official split (the EARS-WHAM benchmark's
speaker split is kept in ``meta["benchmark_split"]``): speaker-disjoint.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from emotioncot.ingest.sources._common import age_from_range, first_existing, load_manifest, normalize_gender, require_dir, utterance
from emotioncot.taxonomy import age_level_from_years

NAME = "ears"
EMOTIONS = (
    "adoration", "amazement", "amusement", "anger", "confusion", "contentment", "cuteness", "desire", "disappointment",
    "disgust", "distress", "embarassment", "extasy", "fear", "guilt", "interest", "neutral", "pain", "pride",
    "realization", "relief", "sadness", "serenity",
)
STYLES = ("regular", "loud", "whisper", "highpitch", "lowpitch", "fast", "slow")
OTHER = ("freeform", "interjection", "melodic", "nonverbal", "vegetative")
NATIVE_LABELS = EMOTIONS + STYLES + OTHER
SPEAKER = re.compile(r"^p\d{3}$")


def native_label(stem: str) -> tuple[str | None, str | None]:
    """(native label, sentence key) of a file stem."""
    parts = stem.split("_")
    if parts[0] == "emo" and len(parts) >= 3:
        return parts[1], stem if parts[-1] == "sentences" else None
    if parts[0] in ("rainbow", "sentences") and len(parts) >= 3:
        return parts[-1], "_".join(parts[:2])
    if parts[0] == "freeform":
        return "freeform", None
    return parts[0], None


def benchmark_split(speaker: str) -> str:
    n = int(speaker[1:])
    return "validation" if n in (100, 101) else "test" if n >= 102 else "train"


def read(root: Path, options: dict):
    root = require_dir(root, "EARS folder")
    manifest = load_manifest(NAME)
    stats = json.loads(first_existing(root, ["speaker_statistics.json"], "EARS speaker table").read_text(encoding="utf-8"))
    texts = json.loads(first_existing(root, ["transcripts.json"], "EARS transcripts").read_text(encoding="utf-8"))
    folders = sorted(p for p in root.iterdir() if p.is_dir() and SPEAKER.match(p.name))
    if not folders:
        raise FileNotFoundError(f"{root}/p001: no EARS speaker folders (expected pXXX/<stem>.wav)")
    for folder in folders:
        info = stats.get(folder.name)
        age, bucket = age_from_range((info or {}).get("age"))
        for path in sorted(folder.glob("*.wav")):
            if path.name.startswith("."):
                continue
            label, sentence = native_label(path.stem)
            meta = {"benchmark_split": benchmark_split(folder.name), "age_range": bucket}
            if sentence:
                meta["sentence_id"] = sentence
            if info is None:
                meta["missing"] = f"{folder.name} not in speaker_statistics.json"
            else:
                meta.update({k: info.get(k) for k in ("ethnicity", "native language") if info.get(k)})
            row = utterance(
                NAME, manifest, label,
                id=f"{NAME}_{folder.name}_{path.stem}", audio_path=path, speaker_id=folder.name,
                gender=normalize_gender((info or {}).get("gender")), transcript=texts.get(path.stem), meta=meta,
            )
            if age is not None:
                row["age_level"] = age_level_from_years(age)
            yield row
