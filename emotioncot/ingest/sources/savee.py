"""SAVEE: Surrey Audio-Visual Expressed Emotion (Haq & Jackson, 2009).

Four male native-English speakers (DC, JE, JK, KL, aged 27-31) read TIMIT sentences in 7 emotions, 120
files each. Original layout ``AudioData/<speaker>/<code><nn>.wav`` (sometimes nested twice,
``AudioData/AudioData/``); the Kaggle copy is flat, ``ALL/<speaker>_<code><nn>.wav``. Codes: a anger,
d disgust, f fear, h happiness, n neutral, sa sadness, su surprise. No transcripts ship with the audio, no
official split: speaker-disjoint.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import audio_files, error, load_manifest, require_dir, utterance

NAME = "savee"
CODES = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral", "sa": "sadness", "su": "surprise"}
NATIVE_LABELS = tuple(CODES.values())
SPEAKERS = ("DC", "JE", "JK", "KL")
FLAT = re.compile(r"^(DC|JE|JK|KL)_([a-z]{1,2})(\d\d)$")
NESTED = re.compile(r"^([a-z]{1,2})(\d\d)$")


def read(root: Path, options: dict):
    root = require_dir(root, "SAVEE folder")
    manifest = load_manifest(NAME)
    files = audio_files(root)
    if not files:
        raise FileNotFoundError(f"{root}: no SAVEE wav files (expected AudioData/<DC|JE|JK|KL>/<code><nn>.wav)")
    seen = set()
    for path in files:
        flat, nested = FLAT.match(path.stem), NESTED.match(path.stem)
        if flat:
            speaker, code, number = flat.groups()
        elif nested and path.parent.name in SPEAKERS:
            speaker, (code, number) = path.parent.name, nested.groups()
        else:
            yield error(f"{path.name}: not a SAVEE file name (<speaker>/<code><nn>.wav or <speaker>_<code><nn>.wav)", path)
            continue
        uid = f"{NAME}_{speaker}_{code}{number}"
        if uid in seen:  # the same clip under AudioData/ and AudioData/AudioData/
            yield error("second copy of the same clip", path, uid)
            continue
        seen.add(uid)
        yield utterance(
            NAME, manifest, CODES.get(code, code),
            id=uid, audio_path=path, speaker_id=speaker, gender="Male",
            meta={"clip": f"{code}{number}"},
        )
