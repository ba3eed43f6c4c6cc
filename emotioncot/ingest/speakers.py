"""Speakers by voice, for sources that give no speaker ids (a plain clip list in the EmotionThinker format).

Each clip without a ``speaker_id`` gets a GE2E speaker embedding (resemblyzer's ``VoiceEncoder``: a 3-layer
LSTM d-vector trained on VoxCeleb and LibriSpeech, weights in its Apache-2.0 wheel, 256 dimensions, L2-normed).
Per corpus the embeddings are clustered agglomeratively with average linkage on cosine distance and cut at
``IngestConfig.speaker_threshold``; every cluster becomes a speaker (``speaker_id = "<corpus>-spkNN"``,
``speaker_source = "clustered"``), so splits, calibration and gender are per cluster. Rows that come with a
speaker id are left as they are (``speaker_source = "metadata"``).

The threshold (0.45) was read off real voices (``tests/test_speakers_real.py``, ``../shared/data``). Clustering
the 49 EmoDB clips of speaker 03 (all seven emotions), the 15 RAVDESS clips of actor 01 (all eight, two
intensities) and two CMU ARCTIC clips (awb, male; slt, female), the merges go: EmoDB's last two halves join at
cosine distance 0.36, RAVDESS's last two parts (strong against normal intensity) at 0.42, the single awb clip
joins EmoDB's male speaker at 0.42, and the next merge (slt) is at 0.51. The cut leans high on purpose: a
speaker cut in two can land in two splits (a leak into the test split), while a lone clip joining another
voice only coarsens that speaker's calibration group. Acted emotion moves a voice a long way: two clips of
one speaker can be 0.62 apart, further than the nearest clips of two speakers (0.31); average linkage over
many clips, not any single pair, is what holds a speaker together. Clips of one to three seconds make the
weakest embeddings; clusters of one clip are expected for speakers with one clip.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from emotioncot.errors import BuildError

ENCODER = "resemblyzer GE2E VoiceEncoder (Apache-2.0)"
SAMPLE_RATE = 16000  # the encoder's rate


class SpeakerEmbeddingUnavailable(BuildError):
    """resemblyzer is not installed."""


def _encoder():
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise SpeakerEmbeddingUnavailable(
            f"clustering clips into speakers needs resemblyzer ({exc}); install it with `pip install --no-deps "
            "resemblyzer==0.1.4 webrtcvad` (make install does), give the list a speaker_id column, or turn "
            "clustering off (ingest.cluster_speakers: false)") from None
    return VoiceEncoder("cpu", verbose=False)


def embed_clips(rows: list[dict]) -> tuple[np.ndarray, list[int], dict[int, str]]:
    """Embeddings of the clips that could be read, their row indices, and the reason for each that could not."""
    import warnings

    import torch

    from emotioncot.audio.io import read_record_audio
    from emotioncot.measure.signal import resample

    with warnings.catch_warnings():  # webrtcvad imports pkg_resources, which warns on import
        warnings.simplefilter("ignore")
        encoder = _encoder()
        from resemblyzer import preprocess_wav
    vectors, kept, failed = [], [], {}
    # One thread: the LSTM over one clip is too small to share; two threads spent 12x the CPU time of one
    # (benchmarks/bench_speakers.py). The clip is resampled here (soxr), not by resemblyzer (librosa: slower).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for i, row in enumerate(rows):
            try:
                samples, rate = read_record_audio(row)
                wav = preprocess_wav(resample(samples, rate, SAMPLE_RATE).astype(np.float32))
                if wav.size < SAMPLE_RATE // 10:  # resemblyzer's silence trimming left (almost) nothing of it
                    failed[i] = "no speech found for a speaker embedding"
                    continue
                vectors.append(encoder.embed_utterance(wav))
                kept.append(i)
            except Exception as exc:  # one unreadable clip stays unclustered; measure records its own error
                failed[i] = f"no speaker embedding ({type(exc).__name__}: {exc})"
    finally:
        torch.set_num_threads(threads)
    return (np.vstack(vectors) if vectors else np.zeros((0, 256), np.float32)), kept, failed


def cluster(embeddings: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels 0..K-1 (numbered in the order clusters first appear), average linkage on cosine distance."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, int)
    if n == 1:
        return np.zeros(1, int)
    from scipy.cluster.hierarchy import fcluster, linkage

    raw = fcluster(linkage(embeddings, method="average", metric="cosine"), threshold, criterion="distance")
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(c), len(order)) for c in raw])


def separation(embeddings: np.ndarray, labels: np.ndarray) -> dict:
    """How well the clusters stand apart: the mean cosine distance of clips to the other clips of their
    cluster (within), the smallest average distance between two clusters (between, comparable with the
    threshold), and the mean silhouette over clips in clusters of two or more (-1..1; above 0.25 the
    clusters are distinct)."""
    distance = 1.0 - embeddings @ embeddings.T
    ids = sorted(set(labels.tolist()))
    within, silhouettes = [], []
    for i, label in enumerate(labels):
        own = labels == label
        if own.sum() < 2:
            continue
        a = distance[i, own].sum() / (own.sum() - 1)
        within.append(a)
        others = [distance[i, labels == other].mean() for other in ids if other != label]
        if others:
            b = min(others)
            silhouettes.append((b - a) / max(a, b))
    between = [distance[np.ix_(labels == x, labels == y)].mean() for x in ids for y in ids if x < y]
    return {
        "within_distance": round(float(np.mean(within)), 3) if within else None,
        "nearest_between_distance": round(float(min(between)), 3) if between else None,
        "silhouette": round(float(np.mean(silhouettes)), 3) if silhouettes else None,
    }


def _named_share(rows: list[dict], budget: int) -> list[dict]:
    """At most ``budget`` of the named speakers' ``rows``, taken a clip of each speaker in turn (in row order), so that
    every named speaker has clips in the clustering however many there are."""
    if len(rows) <= budget:
        return rows
    by_speaker: dict[str, list[dict]] = {}
    for row in rows:
        by_speaker.setdefault(str(row["speaker_id"]), []).append(row)
    queues = list(by_speaker.values())
    taken: list[dict] = []
    depth = 0
    while len(taken) < budget:
        layer = [q[depth] for q in queues if depth < len(q)]
        taken += layer[:budget - len(taken)]
        depth += 1
    return taken


def assign_speaker_clusters(rows: list[dict], threshold: float, max_clips: int = 15000) -> dict[str, dict]:
    """Give every row without a speaker id its corpus's voice cluster (in place).

    Where the corpus names the speaker of some of its clips, those clips are clustered too, and a clip without an
    id whose cluster holds a named speaker's clips takes that speaker's id (the one with most clips there), marked
    clustered: otherwise it would be a speaker of its own, dealt into a split of its own, and the same voice could
    sit in train and in test. Returns per corpus what was done (clips, clusters, threshold, separation), also kept
    in each clustered row's ``meta["speaker_clustering"]`` so that the card and report can say it from the records
    alone. Only the clips without an id count against ``max_clips``: the named speakers' clips join the clustering
    as far as the rest of it allows, a share of each speaker's (``_named_share``), so that a big list that names
    most of its speakers is not refused for a few clips that it does not."""
    by_corpus: dict[str, list[dict]] = {}
    named: dict[str, list[dict]] = {}
    for row in rows:
        (named if row.get("speaker_id") else by_corpus).setdefault(row.get("corpus") or "", []).append(row)
    for corpus, todo in by_corpus.items():  # checked before any embedding: fail fast, not after an hour
        if len(todo) > max_clips:
            raise BuildError(
                f"{corpus}: {len(todo)} clips have no speaker id; clustering them by voice would hold "
                f"{len(todo) ** 2 * 4 / 1e9:.1f} GB of distances (ingest.max_cluster_clips is {max_clips}). Give the "
                f"source a speaker_id column, pass --no-speaker-clusters (splits are then per clip), or raise "
                f"ingest.max_cluster_clips")
    summary = {}
    for corpus, todo in by_corpus.items():
        pool = todo + _named_share(named.get(corpus, []), max_clips - len(todo))
        vectors, kept, failed = embed_clips(pool)
        labels = cluster(vectors, threshold)
        speakers_in: dict[int, Counter] = {}
        for i, label in zip(kept, labels):
            if i >= len(todo):
                speakers_in.setdefault(int(label), Counter())[pool[i]["speaker_id"]] += 1
        ids, joined = {}, 0
        for i, label in zip(kept, labels):
            if i < len(todo):
                counts = speakers_in.get(int(label))
                ids[i] = min(counts, key=lambda s: (-counts[s], s)) if counts else f"{corpus}-spk{label + 1:02d}"
                joined += bool(counts)
        info = {"clips": len(ids), "clusters": len(set(ids.values())), "threshold": threshold,
                "method": "average linkage, cosine distance", "encoder": ENCODER,
                "not_embedded": sum(1 for i in failed if i < len(todo)), **separation(vectors, labels)}
        if named.get(corpus):
            info["joined_named_speakers"] = joined
        for i, speaker in ids.items():
            todo[i]["speaker_id"] = speaker
            todo[i]["speaker_source"] = "clustered"
            todo[i].setdefault("meta", {})["speaker_clustering"] = info
        for i, reason in failed.items():
            if i < len(todo):
                todo[i].setdefault("meta", {})["speaker_clustering_error"] = reason
        summary[corpus] = info
    return summary


def clustering_summary(records: list[dict]) -> dict[str, dict]:
    """Per corpus, the clustering facts kept in the records' meta (empty when no corpus was clustered)."""
    import json

    out = {}
    for rec in records:
        if rec.get("speaker_source") != "clustered" or rec.get("corpus") in out:
            continue
        meta = rec.get("meta") or {}
        if isinstance(meta, str):
            meta = json.loads(meta) if meta else {}
        if meta.get("speaker_clustering"):
            out[rec["corpus"]] = meta["speaker_clustering"]
    return out


def describe(summary: dict[str, dict]) -> list[str]:
    """One sentence per clustered corpus, for the build log, the card and the report."""
    lines = []
    for corpus, s in sorted(summary.items()):
        parts = [f"{corpus}: {s['clips']} clips without speaker ids clustered by voice into {s['clusters']} speakers "
                 f"({s['encoder']}; {s['method']}, cut at {s['threshold']})"]
        if s.get("silhouette") is not None:
            parts.append(f"mean silhouette {s['silhouette']}, mean distance within a cluster {s['within_distance']}")
        if s.get("nearest_between_distance") is not None:
            parts.append(f"nearest two clusters {s['nearest_between_distance']} apart")
        if s.get("joined_named_speakers"):
            parts.append(f"{s['joined_named_speakers']} of them took the id of a speaker the source names, whose "
                         f"clips they cluster with")
        if s.get("not_embedded"):
            parts.append(f"{s['not_embedded']} clips could not be embedded and have no speaker")
        lines.append("; ".join(parts) + ".")
    return lines
