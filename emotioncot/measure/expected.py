"""Speed relative to what is said: the speech time eSpeak NG's neutral reading of the same transcript
takes, over the speech time of the recording.

Why: syllables per second depend on the words (long German compounds, clusters, unstressed function
words), so a speaker's fast and slow clips of different sentences are not comparable by rate alone.
eSpeak reads every text at one fixed rate (230 words per minute, the reference voice of stress
alignment), so ``relative_rate`` = expected speech s / measured speech s is 1.0 for a reading at that
pace whatever the text, above 1 faster, below slower. Speech time on both sides excludes pauses
(the reference: frames within 40 dB of its loudest, as in stress alignment)."""

from __future__ import annotations

from functools import lru_cache

from emotioncot.measure.signal import HOP_S


@lru_cache(maxsize=512)
def expected_speech_s(transcript: str, language: str | None) -> float:
    from emotioncot.measure.espeak_text import reading

    return float(len(reading(transcript, language).live) * HOP_S)


def relative_rate(transcript: str, language: str | None, speech_s: float) -> tuple[float | None, str | None]:
    """(relative rate, None) or (None, reason)."""
    from emotioncot.measure.espeak_text import supported

    if not supported(language):
        return None, f"language {language!r} not supported by eSpeak NG"
    expected = expected_speech_s(transcript, language)
    if expected <= 0 or speech_s <= 0:
        return None, "eSpeak NG rendered no speech for the transcript"
    return expected / speech_s, None
