"""Work the measurement does once and reuses (issue 33): each shortcut gives what the long way gives."""

from __future__ import annotations

import numpy as np

from emotioncot.audio.io import read_audio
from emotioncot.config import MeasureConfig
from emotioncot.measure import espeak_text, measure_signal
from emotioncot.measure.harmonicity import _local_peaks


def test_local_peaks_equal_the_maximum_over_each_window_cut_at_the_ends():
    rng = np.random.default_rng(3)
    for n, hop, half in ((4000, 160, 107), (1000, 160, 107), (333, 50, 40), (2000, 441, 294)):
        x = np.abs(rng.standard_normal(n))
        centres = np.arange(0, n, hop)
        want = [x[max(0, c - half): c + half + 1].max() for c in centres]
        assert np.array_equal(_local_peaks(x, centres, half), want), (n, hop, half)


def test_one_espeak_reading_per_sentence_serves_stress_and_relative_rate(test_data, monkeypatch):
    """With relative_rate on, word alignment and relative_rate both need eSpeak's reading of the transcript:
    it is rendered once, and a second clip of the same sentence renders nothing; the results are those of
    a process that rendered it afresh."""
    from emotioncot.measure.expected import expected_speech_s
    from emotioncot.measure.stress import _reference

    clips = sorted((test_data / "ravdess").glob("*.wav"))[:2]
    text, cfg = "Kids are talking by the door", MeasureConfig(relative_rate=True)
    for cache in (espeak_text.reading, _reference, expected_speech_s):
        cache.cache_clear()
    rendered = []
    real_render = espeak_text.render
    monkeypatch.setattr(espeak_text, "render", lambda *a: rendered.append(a) or real_render(*a))
    first = [measure_signal(*read_audio(c), text, cfg, language="en") for c in clips]
    assert rendered == [(text, "en")]
    assert all(m["relative_rate"] > 0 and "stressed_words" not in m["null_reasons"] for m in first)
    for cache in (espeak_text.reading, _reference, expected_speech_s):
        cache.cache_clear()
    again = [measure_signal(*read_audio(c), text, cfg, language="en") for c in clips[::-1]][::-1]
    assert again == first
