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


_SIGNATURE_DTYPE = np.uint32
_NO_SIGNATURES = np.zeros((0, 0), dtype=_SIGNATURE_DTYPE)


def _signature(values: set[int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The MinHash signature: per hash function, the least hash of the set's values. The functions are
    multiply-shift hashes, ``(a*x + b) mod 2**64`` keeping the high 32 bits (a odd): universal, and exact in uint64
    arithmetic, whose wrap-around is the ``mod 2**64``. (An affine map without that wrap, ``a*x + b`` on small
    numbers, is monotonic in x: every function would pick the same least value, a signature of one.)"""
    if not values:
        return np.full(len(a), np.iinfo(_SIGNATURE_DTYPE).max, dtype=_SIGNATURE_DTYPE)
    x = np.fromiter(values, dtype=np.uint64, count=len(values))
    with np.errstate(over="ignore"):
        h = (a[:, None] * x[None, :] + b[:, None]) >> np.uint64(32)
    return h.min(axis=1).astype(_SIGNATURE_DTYPE)  # high 32 bits: exact in 4 bytes a value


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
# near-identical rationales): a bucket keeps its first MAX_BUCKET representatives; of the representatives a text
# shares buckets with, the MAX_SCAN sharing the most bands are looked at, and of those the MAX_CANDIDATES whose MinHash
# signatures agree most (the estimate of the Jaccard similarity; its standard deviation is under 0.07 with 64 values),
# if they agree on at least the threshold less ESTIMATE_MARGIN, get the exact Jaccard. Below these bounds every
# candidate that could be a near duplicate is compared, as before them.
MAX_BUCKET = 64
MAX_SCAN = 128
MAX_CANDIDATES = 32
ESTIMATE_MARGIN = 0.2


def _band_key(band: int, values: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(bytes([band]) + values, digest_size=8).digest(), "little", signed=True)


def _agreement(signatures: np.ndarray, signature: np.ndarray) -> np.ndarray:
    """How many of each row's MinHash values equal the signature's."""
    return np.count_nonzero(signatures == signature, axis=1) if len(signatures) else np.zeros(0, dtype=np.intp)


class _MemoryStore:
    """The representatives in memory (a table that fits in memory: ``filter_records``)."""

    def __init__(self):
        self.buckets: dict[int, list[int]] = defaultdict(list)
        self.labels: list = []
        self.held: list[np.ndarray] = []
        self.signatures: list[np.ndarray] = []

    def candidates(self, keys: list[int], signature: np.ndarray, floor: float) -> tuple[list[tuple], dict[int, int]]:
        """((agreement, number, label) of each of the up to MAX_SCAN representatives sharing the most bands whose
        signature agrees with ``signature`` on at least ``floor`` values; the sizes of the buckets)."""
        shared: Counter = Counter()
        sizes = {}
        for key in keys:
            members = self.buckets.get(key)
            if members:
                shared.update(members)
                sizes[key] = len(members)
        scan = sorted(shared, key=lambda j: (-shared[j], j))[:MAX_SCAN] if len(shared) > MAX_SCAN else list(shared)
        agree = _agreement(np.stack([self.signatures[j] for j in scan]), signature) if scan else []
        return [(int(a), j, self.labels[j]) for a, j in zip(agree, scan) if a >= floor], sizes

    def shingles(self, reps: list[int]) -> dict[int, np.ndarray]:
        return {j: self.held[j] for j in reps}

    def add(self, label, values: np.ndarray, signature: np.ndarray, keys: list[int]) -> None:
        n = len(self.labels)
        self.labels.append(label)
        self.held.append(values)
        self.signatures.append(signature)
        for key in keys:
            self.buckets[key].append(n)

    def close(self) -> None:
        pass


class _SignatureNibbles:
    """The low 4 bits of every representative's MinHash values, in memory, two to a byte (32 bytes a representative):
    where two full values agree so do their low bits, so a representative whose low bits agree on fewer values than
    the floor cannot agree on more with its full signature, and is passed over without reading it. Texts that are
    not near duplicates agree on few values (a disagreeing value passes for agreeing one time in 16), so few full
    signatures are ever read.

    Held in blocks of a million rows: ``np.empty`` maps a block's memory without touching it, so the process holds
    only the rows written, and a block never moves (no copy of the whole when it grows)."""

    BLOCK = 1 << 20

    def __init__(self, width: int):
        self.blocks: list[np.ndarray] = []
        self.width, self.n = -(-width // 2), 0

    @staticmethod
    def packed(signature: np.ndarray) -> np.ndarray:
        low = (signature & 0xF).astype(np.uint8)
        if len(low) % 2:
            low = np.append(low, np.uint8(0))
        return low[0::2] | (low[1::2] << 4)

    def add(self, signature: np.ndarray) -> None:
        if self.n % self.BLOCK == 0:
            self.blocks.append(np.empty((self.BLOCK, self.width), dtype=np.uint8))
        self.blocks[-1][self.n % self.BLOCK] = self.packed(signature)
        self.n += 1

    def agreement(self, reps: np.ndarray, signature: np.ndarray) -> np.ndarray:
        """For each representative, on how many values its low bits agree with ``signature``'s (at least as many
        as its full values agree on)."""
        differ = self.at(reps) ^ self.packed(signature)
        padding = 2 * self.width - len(signature)  # an odd width's last nibble is 0 on both sides: not a value
        return (np.count_nonzero((differ & 0xF) == 0, axis=1) + np.count_nonzero(differ >> 4 == 0, axis=1)
                - padding)

    def at(self, reps: np.ndarray) -> np.ndarray:
        if len(self.blocks) == 1:
            return self.blocks[0][reps]
        out = np.empty((len(reps), self.width), dtype=np.uint8)
        block, row = np.divmod(reps, self.BLOCK)
        for k in np.unique(block).tolist():
            at = block == k
            out[at] = self.blocks[k][row[at]]
        return out


class _SqliteStore:
    """The representatives in an SQLite file (a build's stream): memory stays at SQLite's page cache and 32 bytes a
    representative whatever the number of records; the file is scratch, rebuilt by each pass.

    Laid out for the one query each text makes: the band buckets are a clustered index (``WITHOUT ROWID``: a
    bucket's members are read from consecutive index pages, never from the table's rows); signatures are screened by
    the low bits of their values in memory (``_SignatureNibbles``) and only those that pass are read; shingles (about 1 KB a
    representative) are read only for the few candidates whose full signatures agree."""

    CACHE_MB = 16  # SQLite's page cache, the same at any table size

    def __init__(self, path: Path):
        import sqlite3

        Path(path).unlink(missing_ok=True)
        self.path = Path(path)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.executescript(
            f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY; "
            f"PRAGMA cache_size=-{self.CACHE_MB * 1024};"
            "CREATE TABLE bands (key INTEGER, rep INTEGER, PRIMARY KEY (key, rep)) WITHOUT ROWID;"
            "CREATE TABLE reps (rep INTEGER PRIMARY KEY, label TEXT, signature BLOB, shingles BLOB);"
            "BEGIN")
        self.n = 0
        self.low_bits: _SignatureNibbles | None = None

    def candidates(self, keys: list[int], signature: np.ndarray, floor: float) -> tuple[list[tuple], dict[int, int]]:
        # One read of the buckets' members, counted here: a bucket holds at most MAX_BUCKET, so this is at most a
        # thousand numbers, and grouping them in numpy costs less than SQLite's GROUP BY with its sort.
        found = self.db.execute(f"SELECT group_concat(key), group_concat(rep) FROM bands WHERE key IN "
                                f"({','.join('?' * len(keys))})", keys).fetchone()
        if found[0] is None:
            return [], {}
        bucket_keys, bucket_sizes = np.unique(np.array(found[0].split(","), dtype=np.int64), return_counts=True)
        sizes = dict(zip(bucket_keys.tolist(), bucket_sizes.tolist()))
        reps, shared = np.unique(np.array(found[1].split(","), dtype=np.int64), return_counts=True)
        scan = reps[np.lexsort((reps, -shared))[:MAX_SCAN]] if len(reps) > MAX_SCAN else reps
        maybe = scan[self.low_bits.agreement(scan, signature) >= floor].tolist()
        if not maybe:
            return [], sizes
        rows = self.db.execute(f"SELECT rep, label, signature FROM reps WHERE rep IN ({','.join('?' * len(maybe))})",
                               maybe).fetchall()
        agree = _agreement(np.frombuffer(b"".join(row[2] for row in rows), dtype=signature.dtype).reshape(len(rows), -1),
                           signature)
        return [(int(a), row[0], row[1]) for a, row in zip(agree, rows) if a >= floor], sizes

    def shingles(self, reps: list[int]) -> dict[int, np.ndarray]:
        rows = self.db.execute(f"SELECT rep, shingles FROM reps WHERE rep IN ({','.join('?' * len(reps))})", reps)
        return {j: np.frombuffer(values, dtype=np.uint64) for j, values in rows}

    def add(self, label, values: np.ndarray, signature: np.ndarray, keys: list[int]) -> None:
        if self.low_bits is None:
            self.low_bits = _SignatureNibbles(len(signature))
        n = self.n
        self.n += 1
        self.low_bits.add(signature)
        self.db.execute("INSERT INTO reps VALUES (?, ?, ?, ?)", (n, str(label), signature.tobytes(), values.tobytes()))
        self.db.executemany("INSERT INTO bands VALUES (?, ?)", [(key, n) for key in keys])
        if self.n % 20000 == 0:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)


class NearDuplicateIndex:
    """The near-duplicate pass fed one text at a time, in table order: ``check(label, text)`` says which
    earlier text this one repeats, or keeps it as a representative. It holds only what the pass needs
    (per kept text its label, its shingles as an array, its signature and band keys), in memory or, for a build's
    stream, in an SQLite file (``path``), so that a table can be streamed through it batch by batch with the same
    result as one call of ``near_duplicates``."""

    def __init__(self, threshold: float = 0.85, shingle_size: int = 5, permutations: int = 64, bands: int = 16,
                 seed: int = 1, path: Path | None = None):
        rng = np.random.default_rng(seed)
        self.a = rng.integers(0, np.iinfo(np.uint64).max, size=permutations, dtype=np.uint64) | np.uint64(1)
        self.b = rng.integers(0, np.iinfo(np.uint64).max, size=permutations, dtype=np.uint64)
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
        floor = (self.threshold - ESTIMATE_MARGIN) * len(sig)
        agreeing, sizes = self.store.candidates(keys, sig, floor)
        likely = sorted(agreeing, key=lambda a: (-a[0], a[1]))[:MAX_CANDIDATES]
        best = None
        if likely:
            held = self.store.shingles([j for _, j, _ in likely])
            for _, j, other_label in sorted(likely, key=lambda a: a[1]):  # table order: the first of equals wins
                sim = _held_jaccard(s, held[j])
                if sim >= self.threshold and (best is None or sim > best[1]):
                    best = (other_label, sim)
        if best is not None:
            return best
        values = np.fromiter(s, dtype=np.uint64, count=len(s))  # 8 bytes a shingle, not a set's ~60
        self.store.add(label, values, sig, [key for key in keys if sizes.get(key, 0) < MAX_BUCKET])
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
