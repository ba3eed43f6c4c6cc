"""Seeded train / validation / test splits: official splits are kept, the rest is speaker-disjoint and,
when asked, also sentence-disjoint.

- Rows that arrive with ``split`` set keep it: MELD and MSP-Podcast official splits, IEMOCAP session folds,
  Hugging Face dataset splits.
- Otherwise, per corpus, whole speakers are ordered by a seeded hash and dealt into test, validation and
  train to match the ratios by utterance count; every split gets at least one speaker when there are three
  or more. A row without a speaker is its own unit.
- With ``text_disjoint`` the sentences of each corpus (``meta["sentence_id"]``, else the transcript) are dealt
  the same way, and a row whose speaker and sentence fall in different splits gets ``split = None``: it is
  kept in the table but belongs to no split (the summary counts it). Rows with no sentence key are not
  constrained.
"""

from __future__ import annotations

import hashlib

from emotioncot.taxonomy import SPLITS


def _bucket(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sentence_key(row: dict) -> str | None:
    meta = row.get("meta") or {}
    if meta.get("sentence_id") not in (None, ""):
        return f"id:{meta['sentence_id']}"
    text = " ".join((row.get("transcript") or "").lower().split())
    return f"text:{text}" if text else None


def deal(units: dict[str, int], ratios, seed: int) -> dict[str, str]:
    """Units (name -> utterance count) to splits: seeded order, filled test first by utterance count."""
    order = sorted(units, key=lambda u: (_bucket(u, seed), u))
    total = sum(units.values())
    seen = 0
    out = {}
    for unit in order:
        position = seen + units[unit] / 2
        if position < ratios[2] * total:
            out[unit] = "test"
        elif position < (ratios[2] + ratios[1]) * total:
            out[unit] = "validation"
        else:
            out[unit] = "train"
        seen += units[unit]
    if len(units) >= 3:
        for wanted in ("test", "validation", "train"):
            if wanted in out.values():
                continue
            counts = {s: list(out.values()).count(s) for s in SPLITS}
            donors = [u for u in order if counts[out[u]] > 1]
            if donors:
                out[min(donors, key=lambda u: units[u])] = wanted
    return out


def assign_splits(rows: list[dict], ratios=(0.8, 0.1, 0.1), seed: int = 13, text_disjoint: bool = False) -> None:
    """Fill ``split`` where it is empty (in place); see the module docstring."""
    by_corpus: dict[str, list[dict]] = {}
    for r in rows:
        if not r.get("split"):
            by_corpus.setdefault(r.get("corpus") or "", []).append(r)
    for corpus, todo in by_corpus.items():
        unit_of = {id(r): f"{corpus}|spk:{r['speaker_id']}" if r.get("speaker_id") else f"{corpus}|utt:{r['id']}" for r in todo}
        counts: dict[str, int] = {}
        for r in todo:
            counts[unit_of[id(r)]] = counts.get(unit_of[id(r)], 0) + 1
        speaker_split = deal(counts, ratios, seed)
        sentence_split = {}
        if text_disjoint:
            sentence_counts: dict[str, int] = {}
            for r in todo:
                key = sentence_key(r)
                if key:
                    sentence_counts[f"{corpus}|{key}"] = sentence_counts.get(f"{corpus}|{key}", 0) + 1
            sentence_split = deal(sentence_counts, ratios, seed + 1)
        for r in todo:
            split = speaker_split[unit_of[id(r)]]
            if text_disjoint:
                key = sentence_key(r)
                if key and sentence_split[f"{corpus}|{key}"] != split:
                    split = None
            r["split"] = split


def speakers_in_several_splits(rows) -> dict[tuple, set[str]]:
    """(corpus, speaker id) -> its splits, for every speaker that rows put in more than one split (a leak: the dealt
    splits never make one, a source's own split column can), ordered by corpus and speaker."""
    splits: dict[tuple, set[str]] = {}
    for r in rows:
        if r.get("speaker_id") and r.get("split"):
            splits.setdefault((r.get("corpus"), str(r["speaker_id"])), set()).add(r["split"])
    return {key: s for key, s in sorted(splits.items(), key=str) if len(s) > 1}
