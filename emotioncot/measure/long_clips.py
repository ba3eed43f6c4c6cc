"""Clips longer than ``ingest.max_clip_s``: cut into utterances at pauses, or set aside.

A 30-minute recording measured as one utterance gives one F0 median, one rate and a caption saying
"the clip lasts about 1800 seconds": useless as a training example. Without a transcript it is cut at
its pauses into pieces no longer than the limit (each piece a row of its own, ``meta.cut_from`` naming
the clip; all pieces keep the clip's split, so no speaker or text leaks across splits). With a transcript
it is rejected with the reason: the text cannot be cut with the audio without an alignment.

The level track is read in one-minute blocks (frame RMS only, no spectrum), so memory stays bounded
whatever the length."""

from __future__ import annotations

import json

import numpy as np

from emotioncot.audio.io import AudioError, read_audio, record_channel
from emotioncot.measure.frames import FLOOR_DB, Frames
from emotioncot.measure.signal import HOP, HOP_S, prepare
from emotioncot.measure.vad import detect_activity

BLOCK_S = 60.0
CUT_PAUSE_S = 0.3  # pauses at least this long are cut points


def level_track(row: dict) -> np.ndarray:
    """Frame RMS level (dBFS, 10 ms frames) of the row's audio, read block by block."""
    start = float(row.get("start_s") or 0.0)
    end = start + float(row["duration_s"])
    levels = []
    t = start
    while t < end - 1e-6:
        y, sr = read_audio(row["audio_path"], t, min(end, t + BLOCK_S), channel=record_channel(row))
        x = prepare(y, sr)
        n = len(x) // HOP
        if n:
            ms = np.mean(x[: n * HOP].reshape(n, HOP) ** 2, axis=1)
            levels.append(np.maximum(10 * np.log10(np.maximum(ms, 1e-12)), FLOOR_DB))
        t += BLOCK_S
    return np.concatenate(levels) if levels else np.zeros(0)


def cut_points(level: np.ndarray, max_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of pieces no longer than ``max_s``, cut in the middle of the latest pause that
    keeps each piece under the limit (hard cut at the limit where a stretch has no pause)."""
    frames = Frames(np.zeros((len(level), 0)), level, level, np.arange(len(level)) * HOP_S)
    act = detect_activity(frames, None, CUT_PAUSE_S)
    total = len(level) * HOP_S
    mids = [0.5 * (a + b) for a, b in act.pauses]
    pieces, s = [], 0.0
    while total - s > max_s:
        inside = [m for m in mids if s < m <= s + max_s]
        cut = inside[-1] if inside else s + max_s
        pieces.append((s, cut))
        s = cut
    pieces.append((s, total))
    return pieces


def cut_long_clips(rows: list[dict], max_clip_s: float | None) -> tuple[list[dict], list[dict]]:
    """Rows with every over-long clip cut (no transcript) or removed (transcript), and the errors."""
    if not max_clip_s:
        return rows, []
    out, errors = [], []
    for row in rows:
        duration = row.get("duration_s") or 0.0
        if duration <= max_clip_s:
            out.append(row)
            continue
        base = {"id": row["id"], "path": row["audio_path"], "corpus": row.get("corpus")}
        if (row.get("transcript") or "").strip():
            errors.append({**base, "reason": (
                f"{row['audio_path']}: clip lasts {duration:.1f} s, longer than ingest.max_clip_s ({max_clip_s:g} s), "
                "and has a transcript, which cannot be cut with the audio: not used")})
            continue
        try:
            pieces = cut_points(level_track(row), max_clip_s)
        except AudioError as exc:
            errors.append({**base, "reason": str(exc)})
            continue
        start = float(row.get("start_s") or 0.0)
        for k, (a, b) in enumerate(pieces):
            meta = row.get("meta") or {}
            meta = {**(json.loads(meta) if isinstance(meta, str) else meta), "cut_from": row["id"], "cut_index": k}
            out.append({**row, "id": f"{row['id']}-part{k:03d}", "start_s": round(start + a, 3),
                        "end_s": round(start + b, 3), "duration_s": round(b - a, 3), "meta": meta})
    return out, errors
