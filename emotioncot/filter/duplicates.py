"""Near-duplicate rationales across a dataset: word-shingle MinHash with banded locality-sensitive hashing,
confirmed by the exact Jaccard similarity of the shingle sets.

The first record of a group of near-duplicates is kept; each later one is reported with the id of the
record it repeats. Code: ``near_duplicate``.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

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


# Bounds that keep one pass linear when many texts share band buckets (a template's stock sentences, a million
# near-identical rationales): a bucket keeps its first MAX_BUCKET representatives, and a text is compared with at
# most MAX_CANDIDATES of the representatives it shares buckets with, those sharing the most bands (the MinHash
# estimate of the Jaccard similarity). Below these bounds every candidate is compared, as before them.
MAX_BUCKET = 64
MAX_CANDIDATES = 32


def _band_key(band: int, values: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(bytes([band]) + values, digest_size=8).digest(), "little", signed=True)


class _MemoryStore:
    """The representatives in memory (a table that fits in memory: ``filter_records``)."""

    def __init__(self):
        self.buckets: dict[int, list[int]] = defaultdict(list)
        self.labels: list = []
        self.sets: list[np.ndarray] = []

    def members(self, keys: list[int]) -> dict[int, list[int]]:
        return {key: self.buckets[key] for key in keys if key in self.buckets}

    def add(self, label, values: np.ndarray, keys: list[int]) -> None:
        n = len(self.labels)
        self.labels.append(label)
        self.sets.append(values)
        for key in keys:
            self.buckets[key].append(n)

    def get(self, j: int) -> tuple[object, np.ndarray]:
        return self.labels[j], self.sets[j]

    def close(self) -> None:
        pass


class _SqliteStore:
    """The representatives in an SQLite file (a build's stream): memory stays at SQLite's page cache whatever the
    number of records; the file is scratch, rebuilt by each pass."""

    def __init__(self, path: Path):
        import sqlite3

        Path(path).unlink(missing_ok=True)
        self.path = Path(path)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE; "
                              "CREATE TABLE reps (rep INTEGER PRIMARY KEY, label TEXT, shingles BLOB);"
                              "CREATE TABLE bands (key INTEGER, rep INTEGER); CREATE INDEX bands_key ON bands (key);"
                              "BEGIN")
        self.n = 0

    def members(self, keys: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        query = f"SELECT key, rep FROM bands WHERE key IN ({','.join('?' * len(keys))}) ORDER BY rowid"
        for key, rep in self.db.execute(query, keys):
            out[key].append(rep)
        return out

    def add(self, label, values: np.ndarray, keys: list[int]) -> None:
        n = self.n
        self.n += 1
        self.db.execute("INSERT INTO reps VALUES (?, ?, ?)", (n, str(label), values.tobytes()))
        self.db.executemany("INSERT INTO bands VALUES (?, ?)", [(key, n) for key in keys])
        if self.n % 20000 == 0:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")

    def get(self, j: int) -> tuple[object, np.ndarray]:
        label, blob = self.db.execute("SELECT label, shingles FROM reps WHERE rep = ?", (j,)).fetchone()
        return label, np.frombuffer(blob, dtype=np.uint64)

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


class NearDuplicateIndex:
    """The near-duplicate pass fed one text at a time, in table order: ``check(label, text)`` says which
    earlier text this one repeats, or keeps it as a representative. It holds only what the pass needs
    (per kept text its label, its shingles as an array, its band keys), in memory or, for a build's stream,
    in an SQLite file (``path``), so that a table can be streamed through it batch by batch with the same
    result as one call of ``near_duplicates``."""

    def __init__(self, threshold: float = 0.85, shingle_size: int = 5, permutations: int = 64, bands: int = 16,
                 seed: int = 1, path: Path | None = None):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(1, (1 << 30) - 1, size=permutations, dtype=np.uint64)
        self.b = rng.integers(0, (1 << 30) - 1, size=permutations, dtype=np.uint64)
        self.threshold, self.shingle_size, self.bands = threshold, shingle_size, bands
        self.rows = max(1, permutations // bands)
        self.store = _SqliteStore(path) if path is not None else _MemoryStore()

    @classmethod
    def for_config(cls, config, path: Path | None = None) -> "NearDuplicateIndex":
        return cls(config.duplicate_threshold, config.shingle_size, path=path)

    def close(self) -> None:
        self.store.close()

    def check(self, label, text: str) -> tuple[object, float] | None:
        """(label of the earlier text that ``text`` repeats, Jaccard), or None (then ``text`` is kept)."""
        s = shingles(text, self.shingle_size)
        sig = _signature(s, self.a, self.b)
        keys = list(dict.fromkeys(_band_key(band, sig[band * self.rows : (band + 1) * self.rows].tobytes())
                                  for band in range(self.bands)))
        members = self.store.members(keys)
        shared: Counter = Counter()
        for reps in members.values():
            shared.update(reps)
        candidates = sorted(shared)
        if len(candidates) > MAX_CANDIDATES:
            candidates = sorted(sorted(shared, key=lambda j: (-shared[j], j))[:MAX_CANDIDATES])
        best = None
        for j in candidates:
            other_label, other = self.store.get(j)
            sim = _held_jaccard(s, other)
            if sim >= self.threshold and (best is None or sim > best[1]):
                best = (other_label, sim)
        if best is not None:
            return best
        values = np.fromiter(s, dtype=np.uint64, count=len(s))  # 8 bytes a shingle, not a set's ~60
        self.store.add(label, values, [key for key in keys if len(members.get(key, ())) < MAX_BUCKET])
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
