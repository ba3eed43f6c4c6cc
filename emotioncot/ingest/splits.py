"""Seeded, speaker-disjoint (optionally text-disjoint) train / validation / test splits."""

from __future__ import annotations

import hashlib

from emotioncot.taxonomy import SPLITS


def _bucket(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(rows: list[dict], ratios=(0.8, 0.1, 0.1), seed: int = 13, text_disjoint: bool = False) -> None:
    """Fill ``split`` where it is empty. Speakers (and, with ``text_disjoint``, sentences) never cross splits:
    whole speakers are ordered by a seeded hash and dealt into splits to match the ratios by utterance count.
    With ``text_disjoint`` sentences are dealt too, and a row whose speaker and sentence fall in different
    splits gets ``split = None`` (left out; the caller reports it)."""
    todo = [r for r in rows if not r.get("split")]
    if not todo:
        return
    units = {}
    for r in todo:
        units.setdefault(r.get("speaker_id") or f"utt:{r['id']}", []).append(r)
    order = sorted(units, key=lambda u: _bucket(u, seed))
    total = len(todo)
    seen = 0
    speaker_split = {}
    # Deal test first, then validation, then train, by the midpoint of each speaker's utterances.
    for unit in order:
        position = seen + len(units[unit]) / 2
        split = "test" if position < ratios[2] * total else "validation" if position < (ratios[2] + ratios[1]) * total else "train"
        speaker_split[unit] = split
        seen += len(units[unit])
    if len(units) >= 3:
        # Make sure every split has at least one speaker.
        for wanted in SPLITS:
            if wanted not in speaker_split.values():
                donor = max(
                    (u for u, s in speaker_split.items() if list(speaker_split.values()).count(s) > 1),
                    key=lambda u: _bucket(u, seed),
                )
                speaker_split[donor] = wanted
    sentence_split = {}
    if text_disjoint:
        sentences = sorted({(r.get("transcript") or "").strip().lower() for r in todo}, key=lambda s: _bucket(s, seed))
        n = len(sentences)
        for i, sentence in enumerate(sentences):
            sentence_split[sentence] = "test" if i < ratios[2] * n else "validation" if i < (ratios[2] + ratios[1]) * n else "train"
    for unit, members in units.items():
        for r in members:
            split = speaker_split[unit]
            if text_disjoint and sentence_split[(r.get("transcript") or "").strip().lower()] != split:
                split = None
            r["split"] = split
