"""Stressed (prominent) words, offline.

Word timings come from aligning eSpeak NG's neutral reading of the transcript (whose word start times
eSpeak reports) to the recording with dynamic time warping over cepstral features. Each word is then
scored for prominence against the other words of the utterance: F0 peak (semitones re the utterance
median), level peak (dB re the utterance), and lengthening (the word's duration relative to its
duration in the neutral reading, log ratio). The sum of the three z-scores (lengthening weighted 0.5)
is the prominence; function words (per language, kept as data in ``function_words/*.txt`` with their
sources) are never reported as stressed, and words aligned to under 50 ms are too short to measure and
stay out of the statistics.

Backends: ``STRESS_BACKENDS`` maps a name to a function with the signature of ``dtw_prominence``;
``register_stress_backend`` adds one (for example a model-based aligner or prominence classifier), and
``MeasureConfig.stress_method`` picks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from emotioncot.measure import syllables
from emotioncot.measure.fft import dct_ortho
from emotioncot.measure.frames import Frames
from emotioncot.measure.quantiles import median, percentile
from emotioncot.measure.signal import ANALYSIS_SR, HOP_S, NFFT

FEATURE_STEP = 3  # DTW on 30 ms frames: 9x fewer cells than 10 ms; word timing error stays ~20 ms

MIN_WORD_S = 0.05  # a word aligned to less is too short to measure: its F0 / level peak is one or two frames

_WORD_LISTS = Path(__file__).with_name("function_words")  # one file per language, sources in each header


@lru_cache(maxsize=None)
def _load_function_words(language: str) -> frozenset:
    path = _WORD_LISTS / f"{language}.txt"
    if not path.exists():
        return frozenset()
    return frozenset(w for line in path.read_text(encoding="utf-8").splitlines()
                     for w in line.split("#", 1)[0].split())


FUNCTION_WORD_LANGUAGES = tuple(sorted(p.stem for p in _WORD_LISTS.glob("*.txt")))
# Every language's list together: for clips whose language is unknown or has no list of its own.
FUNCTION_WORDS = frozenset().union(*(_load_function_words(lang) for lang in FUNCTION_WORD_LANGUAGES))


def function_words(language: str | None) -> frozenset:
    """The function words never reported as stressed, for ``language`` ("de", "en-US" ...); all lists
    together when the language is unknown or has no list."""
    code = (language or "").split("-")[0].split("_")[0].lower()
    return _load_function_words(code) if code in FUNCTION_WORD_LANGUAGES else FUNCTION_WORDS


@dataclass
class WordTiming:
    word: str
    start_s: float
    end_s: float


@lru_cache(maxsize=1)
def _mel_matrix(n_mels: int = 26) -> np.ndarray:
    def hz2mel(f):
        return 2595 * np.log10(1 + f / 700.0)

    def mel2hz(m):
        return 700 * (10 ** (m / 2595.0) - 1)

    edges = mel2hz(np.linspace(hz2mel(80), hz2mel(7600), n_mels + 2))
    f = np.fft.rfftfreq(NFFT, 1 / ANALYSIS_SR)
    m = np.zeros((n_mels, len(f)))
    for i in range(n_mels):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        m[i] = np.clip(np.minimum((f - lo) / (c - lo), (hi - f) / (hi - c)), 0, None)
    return m


def cepstra(frames: Frames, a: int, b: int) -> np.ndarray:
    """MFCC 1-12 of frames [a, b), pooled to FEATURE_STEP, cepstral mean removed."""
    p = frames.power[a:b]
    n = (len(p) // FEATURE_STEP) * FEATURE_STEP
    if n == 0:
        return np.zeros((0, 12))
    p = p[:n].reshape(-1, FEATURE_STEP, p.shape[1]).mean(axis=1)
    logmel = np.log(np.einsum("ij,kj->ik", p, _mel_matrix()) + 1e-10)  # einsum: no BLAS thread start-up
    c = dct_ortho(logmel)[:, 1:13]
    return c - c.mean(axis=0)


def _accumulate(cost: np.ndarray) -> np.ndarray:
    """DTW accumulated cost with steps (1,1), (1,0), (0,1), one vectorised row at a time: within a row,
    D[i, j] = S[j] + min over k <= j of (min(D[i-1, k-1], D[i-1, k]) - S[k-1]), S the row's running sum,
    which is a running minimum (numpy's minimum.accumulate)."""
    n, m = cost.shape
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        row = cost[i - 1]
        S = np.cumsum(row)
        S_prev = np.concatenate([[0.0], S[:-1]])
        enter = np.minimum(D[i - 1, :-1], D[i - 1, 1:])  # from the diagonal or from above, into column j
        D[i, 1:] = S + np.minimum.accumulate(enter - S_prev)
    return D


def dtw_path(cost: np.ndarray) -> np.ndarray:
    """Minimum-cost monotone path through ``cost`` (steps (1,1), (1,0), (0,1))."""
    n, m = cost.shape
    D = _accumulate(cost)
    i, j = n, m
    path = [(i - 1, j - 1)]
    while i > 1 or j > 1:
        steps = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(steps, key=lambda s: D[s])
        path.append((i - 1, j - 1))
    return np.array(path[::-1])


@lru_cache(maxsize=512)
def _reference(transcript: str, language: str | None) -> tuple[tuple[float, ...], np.ndarray, int, int]:
    """eSpeak NG's neutral reading of the transcript: word start times (one per token), its cepstra, and
    its first and last live frame. Cached: scripted corpora repeat a handful of sentences thousands of times."""
    from emotioncot.measure.espeak_text import reading

    spans = [(m.start(), m.end(), m.group()) for m in syllables._WORD.finditer(transcript)]
    tokens = [w for _, _, w in spans]
    ref = reading(transcript, language)
    events = ref.events
    token_start: list[float | None] = [None] * len(tokens)
    for pos, t in events:
        for k, (s0, s1, _) in enumerate(spans):
            if s0 <= pos < s1 or (pos < s0 and (k == 0 or pos >= spans[k - 1][1])):
                if token_start[k] is None:
                    token_start[k] = t
                break
    if token_start[0] is None:
        token_start[0] = 0.0
    # eSpeak gives no event of their own to some unstressed words ("on the kitchen"): place them between
    # their neighbours' starts in proportion to spelling length
    k = 1
    while k < len(tokens):
        if token_start[k] is not None:
            k += 1
            continue
        j = k
        while j < len(tokens) and token_start[j] is None:
            j += 1
        t0 = token_start[k - 1]
        t1 = token_start[j] if j < len(tokens) else None
        if t1 is None:  # trailing words without events: share the last start
            for i in range(k, j):
                token_start[i] = t0
        else:
            chars = [len(tokens[i]) + 1 for i in range(k - 1, j)]
            cum = np.cumsum(chars) / sum(chars)
            for n, i in enumerate(range(k, j)):
                token_start[i] = t0 + (t1 - t0) * cum[n]
        k = j
    r0, r1 = int(ref.live[0]), int(ref.live[-1]) + 1
    r = cepstra(ref.frames, r0, r1)
    r.setflags(write=False)
    return tuple(float(t) for t in token_start), r, r0, r1


def align_words(frames: Frames, speech: np.ndarray, transcript: str, language: str | None) -> tuple[list[WordTiming] | None, str | None]:
    """Word timings in the recording, or (None, reason)."""
    from emotioncot.measure.espeak_text import supported

    spans = [(m.start(), m.end(), m.group()) for m in syllables._WORD.finditer(transcript)]
    tokens = [w for _, _, w in spans]
    if not tokens:
        return None, "transcript has no words"
    if not supported(language):
        return None, f"language {language!r} not supported by eSpeak NG"
    span = np.flatnonzero(speech)
    if len(span) < 10:
        return None, "too little speech to align"
    ref_word_starts, r, r0, r1 = _reference(transcript, language)
    a, b = int(span[0]), int(span[-1]) + 1
    x = cepstra(frames, a, b)
    if len(x) < 2 or len(r) < 2:
        return None, "too little speech to align"
    cost = np.sqrt(((x[:, None, :] - r[None, :, :]) ** 2).sum(axis=2))
    path = dtw_path(cost)
    step_s = FEATURE_STEP * HOP_S
    rec_of_ref = np.full(len(r), len(x) - 1)
    ref_frames, first = np.unique(path[:, 1], return_index=True)
    rec_of_ref[ref_frames] = path[first, 0]  # first recording frame aligned to each reference frame
    starts = []
    for t in ref_word_starts:
        ri = int(np.clip(round((t - r0 * HOP_S) / step_s), 0, len(r) - 1))
        starts.append(a * HOP_S + rec_of_ref[ri] * step_s)
    starts[0] = a * HOP_S
    ends = starts[1:] + [b * HOP_S]
    ref_starts = [max(0.0, t - r0 * HOP_S) for t in ref_word_starts]
    ref_durs = np.diff(ref_starts + [(r1 - r0) * HOP_S])
    timings = [WordTiming(w, s, max(e, s + HOP_S)) for w, s, e in zip(tokens, starts, ends)]
    for t, d in zip(timings, ref_durs):
        t.ref_dur_s = float(max(d, HOP_S))  # type: ignore[attr-defined]
    return timings, None


def _z(v: np.ndarray) -> np.ndarray:
    sd = np.std(v)
    return (v - np.mean(v)) / sd if sd > 1e-9 else np.zeros_like(v)


def dtw_prominence(frames: Frames, speech: np.ndarray, f0: np.ndarray, transcript: str, language: str | None,
                   max_words: int = 2) -> tuple[list[str], str | None, list[dict]]:
    """(stressed words, reason when none could be scored, per-word scores)."""
    timings, reason = align_words(frames, speech, transcript, language)
    if timings is None:
        return [], reason, []
    if len(timings) < 2:
        return [], "a single word has no other word to stand out from", []
    # Words aligned to under MIN_WORD_S are left out of the statistics: their peaks come from one or two
    # frames and their z-scores would distort every other word's.
    measurable = [t for t in timings if t.end_s - t.start_s >= MIN_WORD_S]
    if len(measurable) < 2:
        return [], f"fewer than two words aligned to at least {MIN_WORD_S * 1000:.0f} ms", []
    voiced = f0 > 0
    med = median(f0[voiced & speech]) if (voiced & speech).any() else None
    lvl_ref = median(frames.level_db[speech])
    f0_peak, lvl_peak, lengthen = [], [], []
    for t in measurable:
        a, b = int(t.start_s / HOP_S), max(int(t.start_s / HOP_S) + 1, int(t.end_s / HOP_S))
        v = f0[a:b][voiced[a:b]]
        f0_peak.append(12 * np.log2(percentile(v, 90) / med) if (med and len(v) >= 3) else 0.0)
        lvl_peak.append(float(np.max(frames.level_db[a:b]) - lvl_ref))
        lengthen.append(float(np.log((t.end_s - t.start_s) / t.ref_dur_s)))  # type: ignore[attr-defined]
    lengthen = np.array(lengthen)
    lengthen = lengthen - median(lengthen)
    score = _z(np.array(f0_peak)) + _z(np.array(lvl_peak)) + 0.5 * _z(lengthen)
    scored = {id(t): float(s) for t, s in zip(measurable, score)}
    details = [
        {"word": t.word, "start_s": round(t.start_s, 3), "end_s": round(t.end_s, 3),
         "prominence": round(scored[id(t)], 3) if id(t) in scored else None}
        for t in timings
    ]
    skip = function_words(language)
    content = [i for i, t in enumerate(measurable) if t.word.lower() not in skip]
    ranked = sorted(content, key=lambda i: -score[i])
    chosen = [i for k, i in enumerate(ranked[:max_words]) if score[i] >= (1.0 if k == 0 else 2.0)]
    return [measurable[i].word for i in sorted(chosen)], None, details


StressBackend = Callable[..., tuple]
STRESS_BACKENDS: dict[str, StressBackend] = {"dtw": dtw_prominence}


def register_stress_backend(name: str, fn: StressBackend) -> None:
    STRESS_BACKENDS[name] = fn
