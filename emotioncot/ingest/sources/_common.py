"""Helpers every corpus reader shares: label lookup through the corpus manifest, required files, rows."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Iterator

from emotioncot.ingest.manifest import load_manifest, map_label
from emotioncot.taxonomy import age_level_from_years

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".mp4", ".ogg")


class CorpusLayoutError(FileNotFoundError):
    """A file or folder the corpus layout requires is missing; the message names the expected path."""


def require_file(path: Path, what: str) -> Path:
    if not Path(path).is_file():
        raise CorpusLayoutError(f"{path}: {what} not found (expected at this path)")
    return Path(path)


def require_dir(path: Path, what: str) -> Path:
    if not Path(path).is_dir():
        raise CorpusLayoutError(f"{path}: {what} not found (expected a folder at this path)")
    return Path(path)


def first_existing(root: Path, candidates: Iterable[str], what: str, kind: str = "file") -> Path:
    """The first of several known locations that exists; otherwise an error naming all of them."""
    candidates = list(candidates)
    for rel in candidates:
        path = root / rel
        if (kind == "file" and path.is_file()) or (kind == "dir" and path.is_dir()):
            return path
    names = " or ".join(str(root / c) for c in candidates)
    raise CorpusLayoutError(f"{names}: {what} not found (expected at one of these paths)")


def audio_files(root: Path, extensions: tuple[str, ...] = (".wav",)) -> list[Path]:
    """Audio files under ``root`` in a stable order, skipping hidden files (macOS ``._x.wav`` and the like)."""
    out = []
    for path in walk_files(root):
        if path.suffix.lower() in extensions and not any(p.startswith(".") for p in path.relative_to(root).parts):
            out.append(path)
    return sorted(out)


def walk_files(root: Path) -> Iterator[Path]:
    """Every file under ``root``, following symlinked folders (corpora are often linked in from shared storage,
    and ``Path.rglob`` does not follow links before Python 3.13); a link back to a folder already walked is
    skipped, so a loop cannot run forever."""
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        for name in files:
            path = Path(folder) / name
            if path.is_file():
                yield path


def error(reason: str, path: Path | str | None = None, id: str | None = None) -> dict:
    return {"error": reason, "path": str(path) if path is not None else None, "id": id}


def utterance(corpus: str, manifest: dict, native: str | None, **fields) -> dict:
    """One row: the native label mapped through the manifest; ``age`` in years gives ``age_level``."""
    row = {"corpus": corpus, "native_label": native, "emotion": map_label(manifest, native), **fields}
    row["audio_path"] = str(Path(row["audio_path"]).resolve())
    if row.get("age") is not None and not row.get("age_level"):
        row["age_level"] = age_level_from_years(row["age"])
    if row.get("gender"):
        row.setdefault("gender_source", "metadata")
    row.setdefault("meta", {})
    row["language"] = row.get("language") or manifest.get("language")
    return row


def age_from_range(text: str | None) -> tuple[float | None, str | None]:
    """An age bucket such as ``36-45`` -> (midpoint, the bucket text)."""
    if not text:
        return None, None
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", str(text))]
    if not numbers:
        return None, str(text)
    return sum(numbers) / len(numbers), str(text)


def language_code(value) -> str:
    """A language as the measure stage reads it: a code or locale as written, its language part in lower case
    (``DE`` -> ``de``, ``en-GB``), or a language's English name as its ISO 639-1 code (``English`` -> ``en``). A
    name was kept as written, and ``English`` then had no syllable count, so no speaking rate, for any clip.
    Anything else is a ValueError saying what is expected."""
    text = str(value).strip()
    if re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*", text):
        head, sep, rest = text.partition("-" if "-" in text else "_")
        return head.lower() + sep + rest
    from lingua import Language

    try:
        return Language.from_str(text).iso_code_639_1.name.lower()
    except ValueError:
        raise ValueError(f"language is {value!r}; expected an ISO 639-1 code (en, de, fr ...), a locale (en-GB) or "
                         f"a language's English name (German)") from None


# Values that say a source does not state Male or Female (the release's two genders): the clip is kept with no
# gender stated, rather than refused (it was: "unknown" cost the clip) or given one.
UNSTATED_GENDER = frozenset({"unknown", "unk", "n/a", "na", "none", "null", "?", "-", "other", "x", "u", "non-binary",
                             "nonbinary", "diverse", "not stated", "prefer not to say"})
NEITHER_GENDER = frozenset({"other", "x", "non-binary", "nonbinary", "diverse"})


def normalize_gender(text: str | None) -> str | None:
    if text is None:
        return None
    value = str(text).strip().lower()
    if value in ("m", "male", "man"):
        return "Male"
    if value in ("f", "female", "woman", "w"):
        return "Female"
    return None


__all__ = [
    "AUDIO_EXTENSIONS", "CorpusLayoutError", "require_file", "require_dir", "first_existing", "audio_files", "walk_files",
    "error", "utterance", "age_from_range", "normalize_gender", "load_manifest",
]


def option_label_map(options: dict) -> dict[str, str | None]:
    """``?labels=ang:angry,hap:happy,xxx:`` -> native label -> class (empty target: excluded)."""
    from emotioncot.taxonomy import EMOTIONS

    out = {}
    for pair in filter(None, (p.strip() for p in str(options.get("labels") or "").split(","))):
        native, _, target = pair.partition(":")
        target = target.strip() or None
        if target is not None and target not in EMOTIONS:
            raise ValueError(f"labels option: {target!r} is not one of the 9 classes ({', '.join(EMOTIONS)})")
        out[native.strip()] = target
    return out


# Labels the taxonomy's aliases read as a class in a model's answer, but that corpora annotate as a state of its own
# and their manifests leave without a class (RAVDESS and Expresso `calm`, IEMOCAP `fru`): a list or hf: dataset
# labelled so is not quietly merged into neutral or angry. ``?labels=calm:neutral`` merges it on purpose.
STATES_OF_THEIR_OWN = frozenset({"calm", "frustrated", "frustration"})


def label_key(label) -> str:
    """A native label as written by anyone: lower case, single spaces."""
    return " ".join(str(label).lower().split())


def unified_emotion(native: str | None, label_map: dict[str, str | None]) -> str | None:
    """A native label through an explicit map first, then the taxonomy's aliases (except ``STATES_OF_THEIR_OWN``)."""
    from emotioncot.taxonomy import normalize_emotion

    if native is None:
        return None
    if native in label_map:
        return label_map[native]
    key = label_key(native)  # "Calm " is the calm of ?labels=calm:neutral
    folded = {label_key(k): v for k, v in label_map.items()}
    if key in folded:
        return folded[key]
    if key in STATES_OF_THEIR_OWN:
        return None
    return normalize_emotion(native)
