"""MSP-Podcast (Lotfian & Busso, 2019; releases 1.6 ... 1.12), licence-gated.

Podcast segments, 16 kHz mono: ``Audios/MSP-PODCAST_<podcast>_<segment>.wav`` (some unpack to
``Audios/Audios/``), labels in ``Labels/labels_consensus.csv`` with header
``FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set`` (older releases spell it
``labels_concensus.csv``; a JSON variant ``labels_consensus.json`` maps file name to the same keys), and
``Transcripts/<stem>.txt``. EmoClass is one letter: A angry, S sad, H happy, U surprise, F fear, D disgust,
C contempt, N neutral, O other, X no agreement. EmoAct/EmoVal/EmoDom are on a 1-7 scale. SpkrID and Gender
may be ``Unknown``. The official split is used: Train, Development (``Validation`` in old releases),
Test1/Test2/Test3 (all test; the exact set is in ``meta["official_split"]``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from emotioncot.ingest.sources._common import error, first_existing, load_manifest, normalize_gender, require_dir, utterance

NAME = "msp_podcast"
NATIVE_LABELS = ("A", "S", "H", "U", "F", "D", "C", "N", "O", "X")
SPLITS = {"train": "train", "development": "validation", "validation": "validation", "test1": "test", "test2": "test", "test3": "test", "test": "test"}
LABEL_FILES = [
    "Labels/labels_consensus.csv", "Labels/Labels/labels_consensus.csv", "Labels/labels_concensus.csv",
    "Labels/Labels/labels_concensus.csv", "Labels/labels_consensus.json", "Labels/Labels/labels_consensus.json",
]


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def read_labels(path: Path) -> list[dict]:
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return [{"FileName": name, **fields} for name, fields in data.items()]
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def read(root: Path, options: dict):
    root = require_dir(root, "MSP-Podcast folder")
    manifest = load_manifest(NAME)
    labels = first_existing(root, LABEL_FILES, "MSP-Podcast label file")
    audio_dir = first_existing(root, ["Audios/Audios", "Audios", "Audio"], "MSP-Podcast audio folder", kind="dir")
    transcripts = root / "Transcripts"
    if (transcripts / "Transcripts").is_dir():
        transcripts = transcripts / "Transcripts"
    for n, row in enumerate(read_labels(labels), 2):
        name = str(row.get("FileName") or "").strip()
        if not name:
            yield error(f"{labels}:{n}: no FileName", labels)
            continue
        if not name.endswith(".wav"):
            name += ".wav"
        stem = name[:-4]
        uid = f"{NAME}_{stem}"
        audio = audio_dir / name
        if not audio.is_file():
            yield error(f"{labels}:{n}: audio {name} is missing (expected {audio})", audio, uid)
            continue
        split_set = str(row.get("Split_Set") or "").strip()
        text_file = transcripts / f"{stem}.txt"
        transcript = text_file.read_text(encoding="utf-8", errors="replace").strip() if text_file.is_file() else None
        speaker = str(row.get("SpkrID") or "").strip()
        yield utterance(
            NAME, manifest, str(row.get("EmoClass") or "").strip() or None,
            id=uid, audio_path=audio,
            speaker_id=None if speaker in ("", "Unknown", "nan") else speaker,
            gender=normalize_gender(row.get("Gender")), transcript=transcript or None,
            arousal=_float(row.get("EmoAct")), valence=_float(row.get("EmoVal")), dominance=_float(row.get("EmoDom")),
            split=SPLITS.get(split_set.lower()),
            meta={"official_split": split_set or None, "vad_scale": "1-7", "podcast": stem.split("_")[1] if stem.count("_") >= 2 else None},
        )
