"""Corpus manifests (``manifests/corpora/<name>.yaml``): label maps, licences, citations, layouts and
download locations, as data.

Fields: ``name``, ``title``, ``description``, ``language``, ``licence``, ``homepage``, ``citation``,
``access`` (``public`` or ``gated``), ``request`` (gated: what to ask for and from whom), ``layout`` (the
expected tree), ``ingest`` (the source spec to use), ``root`` (sub-folder the download unpacks to),
``labels`` (native label -> one of the 9 classes), ``excluded`` (native labels deliberately left without a
class), ``download`` (for ``emotioncot pull``), plus corpus tables the reader needs (``speakers``,
``sentences``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from emotioncot.config import project_root
from emotioncot.taxonomy import EMOTIONS


class ManifestError(ValueError):
    """A manifest file is malformed; the message names the file."""


def manifests_dir() -> Path:
    return project_root() / "manifests" / "corpora"


def check_manifest(data: dict, path: Path | str) -> dict:
    labels = data.get("labels") or {}
    excluded = data.get("excluded") or []
    bad = {k: v for k, v in labels.items() if v not in EMOTIONS}
    if bad:
        raise ManifestError(f"{path}: labels map onto classes outside the 9-class taxonomy: {bad}")
    both = sorted(set(map(str, labels)) & set(map(str, excluded)))
    if both:
        raise ManifestError(f"{path}: labels both mapped and excluded: {both}")
    if data.get("access") not in (None, "public", "gated"):
        raise ManifestError(f"{path}: access must be 'public' or 'gated', not {data.get('access')!r}")
    return data


@lru_cache(maxsize=None)
def load_manifest(name: str) -> dict:
    path = manifests_dir() / f"{name}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no manifest for corpus {name!r}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return check_manifest(data, path)


def list_manifests() -> list[dict]:
    return [load_manifest(p.stem) for p in sorted(manifests_dir().glob("*.yaml"))]


def map_label(manifest: dict, native: str | None) -> str | None:
    """The unified class of a native label, or None when the label is excluded or unknown."""
    if native is None:
        return None
    return (manifest.get("labels") or {}).get(native)


def label_status(manifest: dict, native: str | None) -> str:
    """``mapped``, ``excluded`` (deliberately no class) or ``unknown`` (not in the manifest)."""
    if native is None:
        return "unknown"
    if native in (manifest.get("labels") or {}):
        return "mapped"
    if native in (manifest.get("excluded") or []):
        return "excluded"
    return "unknown"
