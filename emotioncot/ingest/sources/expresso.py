"""Expresso (Nguyen et al., Interspeech 2023): expressive read and improvised conversational speech.

Four speakers ``ex01``-``ex04``. ``expresso.tar`` unpacks to ``expresso/`` with ``read_transcriptions.txt``
(``<file_id>\\t<text>``, stress marked ``*word*``), ``VAD_segments.txt``, ``splits/{train,dev,test}.txt`` and
``audio_48khz/``:

- read: ``read/<spk>/<style>/<base|longform>/<spk>_<style or substyle>_<nnnnn>.wav`` (mono); the style is
  the folder (``confused default enunciated happy laughing narration sad whisper``), the substyle
  (``default_emphasis`` ...) is kept in ``meta``. ``base`` files are one utterance each; ``longform`` files
  are cut at their VAD segments (the file's transcript, which cannot be cut, is in ``meta["file_transcript"]``).
- conversational: ``conversational/<A>-<B>/<styles>/<A>-<B>_<styles>_<nnn>.wav``, stereo, channel 1 = A,
  channel 2 = B; ``<styles>`` is one style for both or ``styleA-styleB``. Each channel's VAD segments
  (``<stem>/channel<N>\\t(s, e) (s, e) ...``) become utterances of that channel's speaker; the channel
  index (0-based) is in ``meta["channel"]``. A file with no VAD entry is one utterance per channel.

The official splits share speakers, so they are kept in ``meta["official_split"]`` and the split used is
speaker-disjoint. Speaker sex is not documented per speaker. Singing is left out by default.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import audio_files, error, first_existing, load_manifest, require_dir, utterance

NAME = "expresso"
READ_STYLES = ("confused", "default", "enunciated", "happy", "laughing", "narration", "sad", "whisper", "singing")
CONVERSATIONAL_STYLES = (
    "angry", "animal", "animaldir", "awe", "bored", "calm", "child", "childdir", "confused", "default", "desire",
    "disgusted", "enunciated", "fast", "fearful", "happy", "laughing", "narration", "nonverbal", "projected", "sad",
    "sarcastic", "sleepy", "sympathetic", "whisper",
)
NATIVE_LABELS = tuple(sorted(set(READ_STYLES + CONVERSATIONAL_STYLES)))
SEGMENT = re.compile(r"\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)")
SPLIT_NAMES = {"train": "train", "dev": "validation", "test": "test"}


def read_vad(path: Path) -> dict[str, list[tuple[float, float]]]:
    out = {}
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        key, _, rest = line.partition("\t")
        out[key.strip()] = [(float(a), float(b)) for a, b in SEGMENT.findall(rest)]
    return out


def read_splits(folder: Path) -> dict[str, str]:
    out = {}
    for name, split in SPLIT_NAMES.items():
        path = folder / f"{name}.txt"
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    out.setdefault(line.split("\t")[0].strip(), split)
    return out


def read(root: Path, options: dict):
    root = require_dir(root, "Expresso folder")
    if (root / "expresso").is_dir():
        root = root / "expresso"
    manifest = load_manifest(NAME)
    transcripts_file = first_existing(root, ["read_transcriptions.txt"], "Expresso read transcriptions")
    texts = {}
    for line in transcripts_file.read_text(encoding="utf-8").splitlines():
        key, _, text = line.partition("\t")
        if text:
            texts[key.strip()] = text.strip()
    vad = read_vad(root / "VAD_segments.txt")
    official = read_splits(root / "splits")
    audio_root = first_existing(root, ["audio_48khz", "audio"], "Expresso audio folder", kind="dir")
    for path in audio_files(audio_root):
        rel = path.relative_to(audio_root).parts
        stem = path.stem
        if rel[0] == "read" and len(rel) == 5:
            _, speaker, style, part, _ = rel
            if style == "singing" and not options.get("singing"):
                yield error("singing left out (not speech; add ?singing=1 to keep it)", path, f"{NAME}_{stem}")
                continue
            substyle = "_".join(stem.split("_")[1:-1])
            plain = stem.replace(f"_{substyle}_", f"_{style}_") if substyle != style else stem
            text = texts.get(stem) or texts.get(plain)
            base = {"speaker_id": speaker, "audio_path": path, "meta": {"substyle": substyle, "part": part, "kind": "read"}}
            if text:
                base["transcript"] = text.replace("*", "")
                base["meta"]["stressed_words"] = re.findall(r"\*([^*]+)\*", text)
            base["meta"]["official_split"] = official.get(stem)
            if part == "longform" and vad.get(stem):
                # The file's text cannot be cut at VAD boundaries: segments carry it in meta, not as transcript.
                seg_meta = {k: v for k, v in base["meta"].items() if k != "stressed_words"}
                if text:
                    seg_meta["file_transcript"] = base["transcript"]
                for i, (start, end) in enumerate(vad[stem]):
                    if end > start:
                        yield utterance(NAME, manifest, style, id=f"{NAME}_{stem}_{i:03d}", start_s=start, end_s=end,
                                        speaker_id=speaker, audio_path=path, meta=dict(seg_meta))
            else:
                yield utterance(NAME, manifest, style, id=f"{NAME}_{stem}", **base)
        elif rel[0] == "conversational" and len(rel) == 4:
            _, pair, styles, _ = rel
            speakers = pair.split("-")
            style_pair = styles.split("-") if "-" in styles else [styles, styles]
            if len(speakers) != 2 or len(style_pair) != 2:
                yield error(f"{path}: not an Expresso conversation name <A>-<B>/<styles>/", path)
                continue
            for channel in (0, 1):
                key = f"{stem}/channel{channel + 1}"
                meta = {"channel": channel, "kind": "conversational", "partner": speakers[1 - channel],
                        "partner_style": style_pair[1 - channel], "official_split": official.get(stem)}
                common = {"speaker_id": speakers[channel], "audio_path": path}
                if vad.get(key):
                    for i, (start, end) in enumerate(vad[key]):
                        if end > start:
                            yield utterance(NAME, manifest, style_pair[channel], id=f"{NAME}_{stem}_ch{channel + 1}_{i:03d}",
                                            start_s=start, end_s=end, meta=dict(meta), **common)
                else:
                    yield utterance(NAME, manifest, style_pair[channel], id=f"{NAME}_{stem}_ch{channel + 1}", meta=meta, **common)
        else:
            yield error(f"{path}: not in the Expresso layout (read/<spk>/<style>/<base|longform>/ or conversational/<A>-<B>/<styles>/)", path)
