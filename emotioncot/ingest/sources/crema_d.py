"""CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset (Cao et al., 2014).

91 actors (48 male, 43 female, aged 20-74) speak 12 sentences in 6 emotions at 4 levels; 7442 clips rated
by crowd raters from voice only, face only and both. The GitHub repository (git-lfs) holds
``AudioWAV/AAAA_SSS_EEE_LL.wav`` (actor 1001..1091, sentence code, emotion ANG DIS FEA HAP NEU SAD, level
LO MD HI XX), ``VideoDemographics.csv`` (ActorID, Age, Sex, Race, Ethnicity) and
``processedResults/summaryTable.csv`` (FileName, VoiceVote, VoiceLevel, FaceVote, FaceLevel,
MultiModalVote, MultiModalLevel; a vote may be a colon-separated tie such as ``N:S``).

The acted emotion is the label; the voice-only crowd majority becomes ``soft_labels`` (a tie shares the
mass), and all three crowd votes are kept in ``meta["crowd"]``. When ``processedResults/tabulatedVotes.csv``
is present its per-emotion counts give the soft labels instead. Sentence texts are in the manifest. No
official split: speaker-disjoint, and with ``--text-disjoint`` also sentence-disjoint.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from emotioncot.ingest.sources._common import (
    audio_files, error, first_existing, load_manifest, normalize_gender, require_dir, utterance,
)

NAME = "crema_d"
NATIVE_LABELS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
VOTE_CLASSES = {"A": "angry", "D": "contempt or disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}
LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
PATTERN = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def _vote(votes: str, levels: str) -> dict | None:
    if not votes or votes in ("NA",):
        return None
    names = votes.split(":")
    values = [float(x) if re.match(r"^-?\d+(\.\d+)?$", x) else None for x in (levels or "").split(":")]
    return {"vote": names, "level": values}


def _soft_from_votes(votes: list[str]) -> dict[str, float]:
    classes = [VOTE_CLASSES[v] for v in votes if v in VOTE_CLASSES]
    return {c: 1.0 / len(classes) for c in classes} if classes else {}


def read(root: Path, options: dict):
    root = require_dir(root, "CREMA-D folder")
    manifest = load_manifest(NAME)
    demographics = {row["ActorID"]: row for row in _csv(first_existing(root, ["VideoDemographics.csv"], "CREMA-D actor table"))}
    summary_path = first_existing(root, ["processedResults/summaryTable.csv", "summaryTable.csv"], "CREMA-D crowd vote table")
    summary = {row["FileName"]: row for row in _csv(summary_path)}
    tabulated = {}
    for rel in ("processedResults/tabulatedVotes.csv", "tabulatedVotes.csv"):
        if (root / rel).is_file():
            tabulated = {row["fileName"]: row for row in _csv(root / rel)}
            break
    sentences = manifest["sentences"]
    audio_root = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    files = audio_files(audio_root)
    if not files:
        raise FileNotFoundError(f"{root / 'AudioWAV'}: no CREMA-D wav files (expected AudioWAV/AAAA_SSS_EEE_LL.wav)")
    for path in files:
        m = PATTERN.match(path.stem)
        if not m:
            yield error(f"{path.name}: not a CREMA-D file name (AAAA_SSS_EEE_LL)", path)
            continue
        actor, sentence, emotion, level = m.groups()
        uid = f"{NAME}_{path.stem}"
        person = demographics.get(actor)
        meta = {"sentence_id": sentence, "level": LEVELS.get(level, level)}
        if person is None:
            meta["missing"] = "actor not in VideoDemographics.csv"
        else:
            meta.update({"race": person.get("Race"), "ethnicity": person.get("Ethnicity")})
        soft = None
        row = summary.get(path.stem)
        if row is not None:
            crowd = {
                "voice": _vote(row.get("VoiceVote"), row.get("VoiceLevel")),
                "face": _vote(row.get("FaceVote"), row.get("FaceLevel")),
                "multimodal": _vote(row.get("MultiModalVote"), row.get("MultiModalLevel")),
            }
            meta["crowd"] = crowd
            if crowd["voice"]:
                soft = _soft_from_votes(crowd["voice"]["vote"]) or None
        else:
            meta["missing"] = (meta.get("missing", "") + "; clip not in summaryTable.csv").lstrip("; ")
        counts = tabulated.get(path.stem)
        if counts:
            numbers = {VOTE_CLASSES[k]: float(counts[k]) for k in VOTE_CLASSES if counts.get(k) not in (None, "")}
            total = sum(numbers.values())
            if total > 0:
                soft = {k: v / total for k, v in numbers.items() if v > 0}
                meta["crowd_source"] = "tabulatedVotes.csv"
        age = float(person["Age"]) if person and person.get("Age", "").strip() else None
        yield utterance(
            NAME, manifest, emotion,
            id=uid, audio_path=path, speaker_id=actor,
            gender=normalize_gender(person.get("Sex")) if person else None, age=age,
            transcript=sentences.get(sentence), soft_labels=soft, meta=meta,
        )
