"""MEAD: Multi-view Emotional Audio-visual Dataset (Wang et al., ECCV 2020), audio part.

One folder per actor, ``M###`` (male) or ``W###`` (female), holding
``<actor>/audio/<emotion>/level_<n>/<nnn>.m4a`` (AAC). Emotions, exactly as folder names:
``angry contempt disgusted fear happy neutral sad surprised``; neutral only at ``level_1``, the others at
three intensity levels. Labels come from the folders; there is no label file, no transcript and no official
split (speaker-disjoint). Actors sometimes ship as ``audio.tar`` archives: unpack them in place first.
Audio is decoded through PyAV (no system ffmpeg needed).
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import audio_files, error, load_manifest, require_dir, utterance

NAME = "mead"
NATIVE_LABELS = ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")
ACTOR = re.compile(r"^[MW]\d{3}$")


def read(root: Path, options: dict):
    root = require_dir(root, "MEAD folder")
    manifest = load_manifest(NAME)
    for tar in sorted(root.glob("*/audio.tar")):
        if not (tar.parent / "audio").is_dir():
            yield error(f"{tar}: packed actor audio; unpack it in place (tar -xf audio.tar -C {tar.parent})", tar)
    files = audio_files(root, (".m4a", ".wav"))
    if not files and not list(root.glob("*/audio.tar")):
        raise FileNotFoundError(f"{root}: no MEAD audio (expected <M###|W###>/audio/<emotion>/level_<n>/<nnn>.m4a)")
    for path in files:
        parts = path.relative_to(root).parts
        if len(parts) < 5 or parts[-4] != "audio" or not ACTOR.match(parts[-5]) or not parts[-2].startswith("level_"):
            yield error(f"{path}: not in the MEAD layout <actor>/audio/<emotion>/level_<n>/<nnn>.m4a", path)
            continue
        actor, emotion, level = parts[-5], parts[-3], parts[-2]
        yield utterance(
            NAME, manifest, emotion,
            id=f"{NAME}_{actor}_{emotion}_{level}_{path.stem}", audio_path=path, speaker_id=actor,
            gender="Male" if actor.startswith("M") else "Female",
            meta={"intensity": int(level.split("_", 1)[1]) if level.split("_", 1)[1].isdigit() else level, "clip": path.stem},
        )
