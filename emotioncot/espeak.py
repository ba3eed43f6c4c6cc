"""A minimal ctypes binding to the eSpeak NG library shipped by the ``espeakng-loader`` wheel.

eSpeak NG keeps global state, so one process synthesises one clip at a time (a lock guards it).
Word events give the start time of every word, which later serves as ground truth for alignment.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from functools import partial
from dataclasses import dataclass

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 0x02
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
EVENT_WORD = 1
RAND_SEED = 13
PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_int64),  # a union of int / const char* / char[8]
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class Synthesis:
    samples: np.ndarray  # int16 mono
    sample_rate: int
    word_starts_s: list[tuple[str, float]]
    word_events: list[tuple[int, int, int]]  # raw eSpeak word events: (1-based character position, length, ms)


class ESpeak:
    _lock = threading.Lock()
    _instance: "ESpeak | None" = None

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Initialize.restype = ctypes.c_int
        rate = self._lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise (espeakng-loader data path)")
        self.sample_rate = rate
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int, int]] = []  # (text position, length, audio ms)
        self._raised: BaseException | None = None  # an exception from inside the callback, for synthesize()
        self._callback = _CALLBACK(self._on_audio)
        self._lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> "ESpeak":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_audio(self, wav, count, events) -> int:
        # ctypes prints and drops an exception raised in a callback, and the build's SIGINT handler raises
        # Interrupted wherever Python runs, which during synthesis is here: Ctrl-C was swallowed and the build
        # ran on. One raised in the body is kept here, one raised on entry (before the try) reaches
        # ``_keep_unraisable``; synthesize() raises either once eSpeak returns. Synthesis runs to its end
        # (return 0): stopping it (return 1) left state behind that changed the next synthesis by 30 samples.
        try:
            if count > 0:
                self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            i = 0
            while events[i].type != 0:  # espeakEVENT_LIST_TERMINATED
                ev = events[i]
                if ev.type == EVENT_WORD:
                    self._words.append((ev.text_position, ev.length, ev.audio_position))
                i += 1
            return 0
        except BaseException as exc:  # noqa: BLE001  (re-raised by synthesize)
            if self._raised is None:
                self._raised = exc
            return 0

    def _keep_unraisable(self, previous_hook, unraisable) -> None:
        """``sys.unraisablehook`` during synthesis: what our callback raised is kept for synthesize()."""
        if unraisable.object == self._on_audio:
            if self._raised is None:
                self._raised = unraisable.exc_value
        else:
            previous_hook(unraisable)

    def synthesize(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int, volume: int) -> Synthesis:
        with self._lock:
            self._chunks, self._words, self._raised = [], [], None
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {voice!r}")
            for name, value in (("rate", rate), ("pitch", pitch), ("range", pitch_range), ("volume", volume)):
                self._lib.espeak_SetParameter(PARAM[name], int(value), 0)
            # Breath and whisper noise come from eSpeak's own generator, seeded from the clock by default.
            self._lib.espeak_ng_SetRandSeed(ctypes.c_long(RAND_SEED))
            data = text.encode("utf-8")
            previous_hook = sys.unraisablehook
            sys.unraisablehook = partial(self._keep_unraisable, previous_hook)
            try:
                err = self._lib.espeak_Synth(data, len(data) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None)
                self._lib.espeak_Synchronize()
            finally:
                sys.unraisablehook = previous_hook
            if self._raised is not None:
                raised, self._raised = self._raised, None
                raise raised
            if err != 0:
                raise RuntimeError(f"eSpeak NG synthesis failed (code {err}) for {text!r}")
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            raw = text.encode("utf-8")
            words = [
                (raw[pos - 1 : pos - 1 + length].decode("utf-8", "replace"), ms / 1000.0)
                for pos, length, ms in self._words
            ]
            return Synthesis(samples.astype(np.int16), self.sample_rate, words, list(self._words))
