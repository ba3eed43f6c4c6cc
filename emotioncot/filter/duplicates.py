"""Near-duplicate rationales across a dataset: word-shingle MinHash with banded locality-sensitive hashing,
confirmed by the exact Jaccard similarity of the shingle sets.

The first record of a group of near-duplicates is kept; each later one is reported with the id of the
record it repeats. Code: ``near_duplicate``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from functools import lru_cache

import numpy as np

from emotioncot.filter.text import normalize_tokens, think_part

_PRIME = (1 << 61) - 1


def shingles(text: str, size: int) -> set[int]:
    tokens = normalize_tokens(think_part(text))
    if len(tokens) < size:
        grams = [" ".join(tokens)] if tokens else []
    else:
        grams = [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    return {_gram_hash(g) for g in grams}


@lru_cache(maxsize=1 << 16)  # word runs recur across rationales (stock phrasings, the template's sentences)
def _gram_hash(gram: str) -> int:
    return int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "little") & ((1 << 61) - 1)


def _signature(values: set[int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not values:
        return np.full(len(a), _PRIME, dtype=np.uint64)
    x = np.fromiter(values, dtype=np.uint64, count=len(values))
    # (a*x + b) mod p with Python ints would be slow; a 61-bit Mersenne prime lets uint64 wrap safely after
    # reducing a and x to 30 bits each side, which keeps the hash family universal enough for LSH.
    xs = (x & np.uint64((1 << 30) - 1))[None, :]
    h = (a[:, None] * xs + b[:, None]) % np.uint64(_PRIME)
    return h.min(axis=1)


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _held_jaccard(a: set[int], b: np.ndarray) -> float:
    """``jaccard`` of a set and a set held as an array of distinct values (the same number)."""
    if not a and not len(b):
        return 1.0
    common = len(a.intersection(b.tolist()))
    return common / (len(a) + len(b) - common)


class NearDuplicateIndex:
    """The near-duplicate pass fed one text at a time, in table order: ``check(label, text)`` says which
    earlier text this one repeats, or keeps it as a representative. It holds only what the pass needs
    (per kept text its label, its shingles as an array, its band keys), so that a table can be
    streamed through it batch by batch with the same result as one call of ``near_duplicates``."""

    def __init__(self, threshold: float = 0.85, shingle_size: int = 5, permutations: int = 64, bands: int = 16,
                 seed: int = 1):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, (1 << 30) - 1, size=permutations, dtype=np.uint64)
        self.b = rng.integers(0, (1 << 30) - 1, size=permutations, dtype=np.uint64)
        self.threshold, self.shingle_size, self.bands = threshold, shingle_size, bands
        self.rows = max(1, permutations // bands)
        self.buckets: dict[tuple, list[int]] = defaultdict(list)
        self.labels: list = []  # of the representatives, by their number in the buckets
        self.sets: list[np.ndarray] = []

    def check(self, label, text: str) -> tuple[object, float] | None:
        """(label of the earlier text that ``text`` repeats, Jaccard), or None (then ``text`` is kept)."""
        s = shingles(text, self.shingle_size)
        sig = _signature(s, self.a, self.b)
        keys = [(band, sig[band * self.rows : (band + 1) * self.rows].tobytes()) for band in range(self.bands)]
        candidates = set()
        for key in keys:
            candidates.update(self.buckets.get(key, ()))
        best = None
        for j in sorted(candidates):
            sim = _held_jaccard(s, self.sets[j])
            if sim >= self.threshold and (best is None or sim > best[1]):
                best = (j, sim)
        if best is not None:
            return self.labels[best[0]], best[1]
        n = len(self.labels)
        self.labels.append(label)
        self.sets.append(np.fromiter(s, dtype=np.uint64, count=len(s)))  # 8 bytes a shingle, not a set's ~60
        for key in keys:
            self.buckets[key].append(n)
        return None


def near_duplicates(texts: list[str], threshold: float = 0.85, shingle_size: int = 5, permutations: int = 64,
                    bands: int = 16, seed: int = 1) -> dict[int, tuple[int, float]]:
    """``{index: (index of the earlier text it repeats, Jaccard)}`` for every text that repeats an earlier one."""
    index = NearDuplicateIndex(threshold, shingle_size, permutations, bands, seed)
    found: dict[int, tuple[int, float]] = {}
    for i, text in enumerate(texts):
        repeats = index.check(i, text)
        if repeats is not None:
            found[i] = repeats
    return found
