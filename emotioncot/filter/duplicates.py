"""Near-duplicate rationales across a dataset: word-shingle MinHash with banded locality-sensitive hashing,
confirmed by the exact Jaccard similarity of the shingle sets.

The first record of a group of near-duplicates is kept; each later one is reported with the id of the
record it repeats. Code: ``near_duplicate``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

import numpy as np

from emotioncot.filter.text import normalize_tokens, think_part

_PRIME = (1 << 61) - 1


def shingles(text: str, size: int) -> set[int]:
    tokens = normalize_tokens(think_part(text))
    if len(tokens) < size:
        grams = [" ".join(tokens)] if tokens else []
    else:
        grams = [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") & ((1 << 61) - 1) for g in grams}


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


def near_duplicates(texts: list[str], threshold: float = 0.85, shingle_size: int = 5, permutations: int = 64,
                    bands: int = 16, seed: int = 1) -> dict[int, tuple[int, float]]:
    """``{index: (index of the earlier text it repeats, Jaccard)}`` for every text that repeats an earlier one."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, (1 << 30) - 1, size=permutations, dtype=np.uint64)
    b = rng.integers(0, (1 << 30) - 1, size=permutations, dtype=np.uint64)
    rows = max(1, permutations // bands)
    sets = [shingles(t, shingle_size) for t in texts]
    buckets: dict[tuple, list[int]] = defaultdict(list)
    found: dict[int, tuple[int, float]] = {}
    for i, s in enumerate(sets):
        sig = _signature(s, a, b)
        candidates = set()
        keys = []
        for band in range(bands):
            key = (band, sig[band * rows : (band + 1) * rows].tobytes())
            keys.append(key)
            candidates.update(buckets.get(key, ()))
        best = None
        for j in sorted(candidates):
            if j in found:
                continue  # compare with the kept representative only
            sim = jaccard(s, sets[j])
            if sim >= threshold and (best is None or sim > best[1]):
                best = (j, sim)
        if best is not None:
            found[i] = best
            continue
        for key in keys:
            buckets[key].append(i)
    return found
