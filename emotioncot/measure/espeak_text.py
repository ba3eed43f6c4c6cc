"""eSpeak NG text services for measurement: phonemes (syllable counts in any eSpeak language) and a
reference rendering with word timings (for word alignment). Uses the library shipped by the
``espeakng-loader`` wheel through the demo's ctypes binding; no network, no downloaded data."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from emotioncot.espeak import ESpeak

IPA_MODE = 0x02


_ALIASES = {"en": "en-us", "eng": "en-us", "ger": "de", "deu": "de", "fra": "fr", "fre": "fr", "spa": "es", "zh": "cmn",
            "ita": "it", "por": "pt", "rus": "ru", "jpn": "ja", "kor": "ko", "ara": "ar", "hin": "hi"}


REFERENCE_VARIANT = "Storm"  # a bundled eSpeak NG variant with "flutter 0"


def _candidates(language: str | None) -> list[str]:
    if not language:
        return ["en-us"]
    code = language.strip().lower().replace("_", "-")
    base = code.split("-")[0]
    out = [_ALIASES.get(code, code), _ALIASES.get(base, base)]
    return list(dict.fromkeys(out))


@lru_cache(maxsize=64)
def resolve_voice(language: str | None) -> str | None:
    """The eSpeak voice for a language code ('en', 'en-GB', 'de-DE', 'pt_BR', 'deu' ...), or None."""
    engine = ESpeak.get()
    with engine._lock:
        for name in _candidates(language):
            if engine._lib.espeak_SetVoiceByName(name.encode()) == 0:
                return name
    return None


def voice_for(language: str | None) -> str:
    return resolve_voice(language) or _candidates(language)[0]


def supported(language: str | None) -> bool:
    return resolve_voice(language) is not None


def phonemes(text: str, language: str | None) -> str | None:
    """IPA phonemes of ``text`` (words separated by spaces), or None if eSpeak has no such language."""
    voice = resolve_voice(language)
    if voice is None:
        return None
    engine = ESpeak.get()
    lib = engine._lib
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
    with engine._lock:
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            return None
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        parts = []
        while ptr.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(ptr), 1, IPA_MODE)  # 1 = UTF-8 text
            if out:
                parts.append(out.decode("utf-8", "replace"))
        return " ".join(parts)


def render(text: str, language: str | None):
    """eSpeak's own reading of ``text`` (a neutral reference) and its word events as
    (character offset in ``text``, start time in s): eSpeak may read one written token as several
    words ("etc." -> "et cetera"), so callers match events to their tokens by text position."""
    engine = ESpeak.get()
    # A variant without pitch flutter: eSpeak's flutter phase runs on from one utterance to the next, so
    # with it the same text renders differently depending on what was rendered before in the process, and
    # the alignment (hence the stressed words) would depend on the order clips are measured in.
    voice = f"{voice_for(language)}+{REFERENCE_VARIANT}"
    synth = engine.synthesize(text, voice, rate=230, pitch=50, pitch_range=50, volume=100)
    # positions are 1-based, in characters
    events = [(pos - 1, ms / 1000.0) for pos, _length, ms in synth.word_events]
    return synth, events


@dataclass(frozen=True)
class Reading:
    """eSpeak's reference reading of a text, analysed as a recording is: its word events (as ``render``
    gives them), its frames, and its live frames (within 40 dB of its loudest: speech, not the silence
    eSpeak leaves around it)."""

    events: tuple[tuple[int, float], ...]
    frames: object  # emotioncot.measure.frames.Frames
    live: np.ndarray


@lru_cache(maxsize=4)
def reading(text: str, language: str | None) -> Reading:
    """``render`` and its analysis, once per (text, language): word alignment and ``relative_rate`` both read
    the same rendering of a clip's transcript. Only the last few are kept (a reading's frames hold its whole
    power spectrum, up to megabytes for a long text); across clips each user keeps its own small result per
    text (``stress._reference``, ``expected.expected_speech_s``), which is what acted corpora, repeating a
    handful of sentences hundreds of times, hit."""
    from emotioncot.measure.frames import analyse
    from emotioncot.measure.signal import prepare

    synth, events = render(text, language)
    frames = analyse(prepare(synth.samples.astype(np.float64) / 32768.0, synth.sample_rate))
    live = np.flatnonzero(frames.level_db > frames.level_db.max() - 40) if frames.n else np.zeros(0, int)
    live.setflags(write=False)
    return Reading(tuple(events), frames, live)
