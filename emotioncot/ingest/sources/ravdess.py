"""RAVDESS: Ryerson Audio-Visual Database of Emotional Speech and Song (Livingstone & Russo, 2018).

24 actors (odd ids male, even female) speak two fixed statements in 8 emotions at two intensities.
Distributed on Zenodo as ``Audio_Speech_Actors_01-24.zip`` which unpacks to ``Actor_01/`` ... ``Actor_24/``,
each holding ``MM-VV-EE-II-SS-RR-AA.wav``: modality (01 audio-video, 02 video only, 03 audio only), vocal
channel (01 speech, 02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful,
07 disgust, 08 surprised), intensity (01 normal, 02 strong), statement (01 "Kids are talking by the door",
02 "Dogs are sitting by the door"), repetition, actor. Labels come from the file name alone; any folder
layout is accepted (the files are found recursively). Song (vocal channel 02) and video-only files are left
out with their reason. No official split: speaker-disjoint.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import audio_files, error, load_manifest, require_dir, utterance

NAME = "ravdess"
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised"}
NATIVE_LABELS = tuple(EMOTIONS.values())
STATEMENTS = {"01": "Kids are talking by the door.", "02": "Dogs are sitting by the door."}
INTENSITY = {"01": "normal", "02": "strong"}
PATTERN = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def read(root: Path, options: dict):
    root = require_dir(root, "RAVDESS folder")
    manifest = load_manifest(NAME)
    files = audio_files(root, (".wav", ".mp4"))
    if not files:
        raise FileNotFoundError(f"{root}: no RAVDESS files (expected Actor_NN/MM-VV-EE-II-SS-RR-AA.wav)")
    for path in files:
        m = PATTERN.match(path.stem)
        if not m:
            yield error(f"{path.name}: not a RAVDESS file name (MM-VV-EE-II-SS-RR-AA)", path)
            continue
        modality, channel, emo, intensity, statement, repetition, actor = m.groups()
        uid = f"{NAME}_{path.stem}"
        if modality == "02":
            yield error("video-only file (modality 02) has no audio", path, uid)
            continue
        if channel == "02" and not options.get("song"):
            yield error("song (vocal channel 02) left out; add ?song=1 to keep it", path, uid)
            continue
        if emo not in EMOTIONS or statement not in STATEMENTS:
            yield error(f"{path.name}: unknown emotion code {emo} or statement code {statement}", path, uid)
            continue
        yield utterance(
            NAME, manifest, EMOTIONS[emo],
            id=uid, audio_path=path, speaker_id=actor,
            gender="Male" if int(actor) % 2 else "Female",
            transcript=STATEMENTS[statement],
            meta={"sentence_id": statement, "intensity": INTENSITY.get(intensity, intensity), "repetition": int(repetition),
                  "vocal_channel": "speech" if channel == "01" else "song", "modality": modality},
        )
