"""Stress questions by construction: one word of the sentence is emphasised with WORLD (pitch raised and
level raised over the word's time span, smooth edges), and the question asks which word is emphasised.

It needs word times. They come from the record's ``meta``: ``meta["words"]`` as ``[[word, start_s,
end_s], ...]`` (times from the start of the clip), or, for the demo corpus, the synthesiser's
``meta["synthesis"]["word_starts_s"]`` (each word ends where the next starts; the last where speech ends).
Target words are dealt out round-robin over the start / middle / end of the sentence, so a listener who
always names the first or last word is not rewarded.
"""

from __future__ import annotations

import numpy as np

from emotioncot.config import ProsodyConfig
from emotioncot.prosody import world
from emotioncot.prosody.questions import position_bucket, words_of
from emotioncot.prosody.tasks_compare import deal
from emotioncot.prosody.verify import emphasis_mismatch, frame_power, pitch_track, span_change

BUCKETS = ("start", "middle", "end")
MIN_WORD_S = 0.12


def word_spans(record: dict) -> list[tuple[str, float, float | None]] | None:
    """(word, start_s, end_s or None for "until speech ends") from the record's metadata, or None."""
    meta = record.get("meta") or {}
    if meta.get("words"):
        return [(str(w), float(s), float(e)) for w, s, e in meta["words"]]
    starts = (meta.get("synthesis") or {}).get("word_starts_s")
    if starts:
        out = []
        for i, (w, s) in enumerate(starts):
            end = float(starts[i + 1][1]) if i + 1 < len(starts) else None
            out.append((str(w), float(s), end))
        return out
    return None


def speech_end_s(y: np.ndarray, sr: int) -> float:
    """End of the last 10 ms frame within 35 dB of the loudest."""
    p = frame_power(y, sr)
    active = np.flatnonzero(p > p.max() * 10 ** (-35 / 10))
    return float((active[-1] + 1) * 0.01) if active.size else len(y) / sr


def candidates(record: dict) -> list[dict] | str:
    """The words that may be emphasised (unique in the sentence, long enough), or why there are none."""
    spans = word_spans(record)
    if not spans:
        why = (record.get("meta") or {}).get("words_error")
        return f"no word times: {why}" if why else "no word times in the record's metadata"
    words = [words_of(w)[0] if words_of(w) else "" for w, _, _ in spans]
    lowered = [w.lower() for w in words]
    if not all(words) or len(words) < 3:
        return "fewer than three words with times"
    if len(set(lowered)) != len(lowered):
        return "transcript repeats a word (the answer would be ambiguous)"
    out = []
    for i, ((_, start, end), word) in enumerate(zip(spans, words)):
        if end is not None and end - start < MIN_WORD_S:
            continue
        out.append({"index": i, "word": word, "start_s": start, "end_s": end, "bucket": position_bucket(i, len(words))})
    return out or "no word is long enough to emphasise"


def plan_item(record: dict, k: int, config: ProsodyConfig, split: str = "") -> dict | str:
    """The k-th stress item of a split: target word from the bucket dealt to k (the next bucket if the
    sentence has no candidate word there)."""

    cands = candidates(record)
    if isinstance(cands, str):
        return cands
    spans = word_spans(record)
    words = [words_of(w)[0] for w, _, _ in spans]
    for shift in range(3):
        bucket = BUCKETS[(deal(f"stress_word/{split}", k, 3) + shift) % 3]
        in_bucket = [c for c in cands if c["bucket"] == bucket]
        if in_bucket:
            target = in_bucket[(k // 3) % len(in_bucket)]
            break
    return {
        "task": "stress_word",
        "stem": f'Listen to the sentence "{" ".join(words)}". Which word is emphasised?',
        "options": words,
        "answer": target["word"],
        "balance_key": target["bucket"],
        "intended": {
            "word": target["word"], "word_index": target["index"], "start_s": target["start_s"], "end_s": target["end_s"],
            "semitones": config.stress_semitones, "gain_db": config.stress_gain_db,
        },
    }


def render(source: world.Source, plan: dict, config: ProsodyConfig) -> tuple[np.ndarray | None, dict, str | None]:
    """The emphasised resynthesis, verified against the plain one on the word's span (ramps excluded).

    Raising F0 alone lowers WORLD's output level a little, so the envelope gain is corrected once by the
    shortfall measured on a first synthesis; the second synthesis is the one checked and kept.
    """
    sr = source.analysis.sr
    reference = source.reference
    start = plan["intended"]["start_s"]
    end = plan["intended"]["end_s"]
    if end is None:
        end = speech_end_s(reference, sr)
        plan["intended"]["end_s"] = end
    if end - start < MIN_WORD_S:
        return None, {}, f"word {plan['answer']!r} spans only {end - start:.3f} s"
    st, gain = config.stress_semitones, config.stress_gain_db
    ramp = world.ramp_length(start, end)
    envelope_gain = gain
    if "pitch_track" not in source.cache:
        source.cache["pitch_track"] = pitch_track(reference, sr)
    for attempt in range(2):
        version = world.synthesize(source.analysis, emphasis=(start, end, st, envelope_gain))
        inside, outside = span_change(reference, version, sr, start + ramp, end - ramp, source.cache["pitch_track"])
        if attempt == 0 and not np.isnan(inside.gain_db):
            envelope_gain += gain - inside.gain_db
    measured = {"word": inside.as_dict(), "rest": outside.as_dict(), "envelope_gain_db": round(envelope_gain, 3)}
    why = emphasis_mismatch(inside, outside, st, gain, config)
    if why:
        return None, measured, why
    (version,), headroom_db = world.fit_headroom([version])
    measured["headroom_db"] = round(headroom_db, 3)
    return version, measured, None
