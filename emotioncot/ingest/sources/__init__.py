"""Corpus readers. Each module reads one corpus in its distribution layout (its docstring describes the
layout) and yields ``Utterance`` dicts, or ``{"error": reason, "path": ..., "id": ...}`` for an item it
cannot use. A missing label or metadata file raises ``FileNotFoundError`` naming the expected path.

``read(root, options)``: ``root`` is the folder (or file) given as ``NAME=PATH``; ``options`` holds the
source spec's query options (``NAME=PATH?fold=4``) plus ``corpus_name``."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable, Iterable

# corpus name -> module under emotioncot.ingest.sources
READERS = {
    "demo": "demo",
    "jsonl": "tabular",
    "csv": "tabular",
    "hf": "huggingface",
    "iemocap": "iemocap",
    "meld": "meld",
    "ravdess": "ravdess",
    "crema_d": "crema_d",
    "tess": "tess",
    "savee": "savee",
    "emodb": "emodb",
    "esd": "esd",
    "expresso": "expresso",
    "ears": "ears",
    "msp_podcast": "msp_podcast",
    "mead": "mead",
}
# Spellings users type for the same corpus.
ALIASES = {"crema-d": "crema_d", "cremad": "crema_d", "msp-podcast": "msp_podcast", "msppodcast": "msp_podcast",
           "emo-db": "emodb", "berlin": "emodb"}
CORPORA = tuple(k for k in READERS if k not in ("jsonl", "csv", "hf"))


def canonical_name(name: str) -> str:
    name = name.strip().lower()
    return ALIASES.get(name, name)


def unknown_corpus(name: str) -> str:
    """The error text for a corpus name we do not know: the closest known names first, then all of them."""
    import difflib

    known = sorted(set(READERS) | set(ALIASES))
    close = difflib.get_close_matches(name.strip().lower(), known, n=3, cutoff=0.6)
    # An alias and its corpus are one suggestion ("emod" matched both 'emo-db' and 'emodb').
    suggestions = dict.fromkeys(canonical_name(c) for c in close)
    hint = f"; did you mean {' or '.join(map(repr, suggestions))}?" if close else ""
    return f"unknown corpus {name!r}{hint} (known: {', '.join(sorted(READERS))}; see `emotioncot corpora`)"


def get_reader(name: str) -> Callable[[Path | None, dict], Iterable[dict]]:
    name = canonical_name(name)
    if name not in READERS:
        raise ValueError(unknown_corpus(name))
    module = importlib.import_module(f"emotioncot.ingest.sources.{READERS[name]}")
    return module.read


def reader_module(name: str):
    return importlib.import_module(f"emotioncot.ingest.sources.{READERS[canonical_name(name)]}")
