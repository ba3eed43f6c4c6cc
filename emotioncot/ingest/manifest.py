"""Corpus manifests (``manifests/corpora/<name>.yaml``): label maps, licences, citations, as data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from emotioncot.config import project_root
from emotioncot.taxonomy import EMOTIONS


def manifests_dir() -> Path:
    return project_root() / "manifests" / "corpora"


@lru_cache(maxsize=None)
def load_manifest(name: str) -> dict:
    path = manifests_dir() / f"{name}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest for corpus {name!r}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    bad = {k: v for k, v in (data.get("labels") or {}).items() if v not in EMOTIONS}
    if bad:
        raise ValueError(f"{path}: labels map onto classes outside the 9-class taxonomy: {bad}")
    return data


def map_label(manifest: dict, native: str | None) -> str | None:
    """The unified class of a native label, or None when the label is excluded or unknown."""
    if native is None:
        return None
    return (manifest.get("labels") or {}).get(native)
