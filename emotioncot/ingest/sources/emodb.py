"""EmoDB: Berlin Database of Emotional Speech (Burkhardt et al., 2005).

10 actors (5 female, 5 male) speak 10 German sentences in 7 emotions. The distribution (``download.zip``
from emodb.bilderbar.info, or audEERING's CC0 copy) holds ``wav/SSTTTEV.wav``: SS speaker, TTT sentence
code (a01..b10), E emotion letter (W anger, L boredom, E disgust, A fear, F happiness, T sadness,
N neutral), V version letter. Speaker sex and age and the sentence texts are documented in the corpus
description; they live in the manifest as data (``speakers``, ``sentences``). Files are found
recursively, so a ``wav/`` folder or a flat folder both work. No official split: speaker-disjoint.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import audio_files, error, load_manifest, normalize_gender, require_dir, utterance

NAME = "emodb"
EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness", "N": "neutral"}
NATIVE_LABELS = tuple(EMOTIONS.values())
PATTERN = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")


def read(root: Path, options: dict):
    root = require_dir(root, "EmoDB folder")
    manifest = load_manifest(NAME)
    speakers = {str(k).zfill(2): v for k, v in manifest["speakers"].items()}
    sentences = manifest["sentences"]
    files = audio_files(root)
    if not files:
        raise FileNotFoundError(f"{root / 'wav'}: no EmoDB wav files (expected wav/SSTTTEV.wav)")
    for path in files:
        m = PATTERN.match(path.stem)
        if not m:
            yield error(f"{path.name}: not an EmoDB file name (SSTTTEV)", path)
            continue
        spk, sentence, emo, version = m.groups()
        info = speakers.get(spk, {})
        yield utterance(
            NAME, manifest, EMOTIONS[emo],
            id=f"{NAME}_{path.stem}", audio_path=path, speaker_id=spk,
            gender=normalize_gender(info.get("gender")), age=info.get("age"),
            transcript=sentences.get(sentence),
            meta={"sentence_id": sentence, "version": version},
        )
