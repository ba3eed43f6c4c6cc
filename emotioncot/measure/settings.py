"""The measure settings, declared once: a plain dataclass, because measuring a file from the command line needs only
these values, and importing pydantic and building the configuration models costs more CPU than measuring a short
clip (about 0.1-0.15 s of a fresh process). ``emotioncot.config.MeasureConfig`` is the pydantic model made from this
class's fields (types, defaults), which a config file, a build folder and the pipeline go through (validation,
build.json); ``emotioncot analyze FILE ...`` without ``--config`` measures with this class itself."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class MeasureSettings:
    pitch_method: Literal["praat", "pyworld"] = "praat"
    # how "praat" runs: Praat's algorithms ported and compiled (Cython, emotioncot/measure/_*.pyx): the pitch on the
    # frame matrix (pitch_ac.py: about 3x less CPU, the same frames within 0.002 semitone), the point process for
    # jitter / shimmer (periods.py: 2x less, the same pulses), jitter and shimmer themselves (perturbation.py: within
    # 2e-15 of Praat's) and harmonicity's array steps (harmonicity_kernels.py: the same values to the bit); or Praat
    # itself through parselmouth, which imports in about 0.25 s and measures at about half the speed
    praat_pitch_engine: Literal["parselmouth", "frames"] = "frames"
    f0_min_hz: float = 75.0  # Praat's default for speech; its window is 3 periods of the floor (lower costs time)
    f0_min_low_voice_hz: float = 50.0  # floor of a second pass when the first finds a low voice (median < 1.25 x f0_min_hz)
    f0_max_hz: float = 600.0
    min_pause_s: float = 0.2
    min_excursion_s: float = 0.1  # octave-off F0 stretches at least this long and confident are kept
    min_voiced_frames: int = 10  # fewer voiced 10 ms frames: F0 statistics are null
    min_range_voiced_frames: int = 40  # fewer: the p5-p95 range is null (each tail then rests on >= 2 frames)
    relative_rate: bool = False  # also measure speed against eSpeak NG's reading of the same transcript
    max_words_per_s: float = 8.0  # a transcript with more words per second of audio does not belong to it
    min_duration_s: float = 0.25  # shorter clips are "too short"
    silence_dbfs: float = -80.0  # a peak below this is silence
    min_rate_speech_s: float = 0.3  # less speech: rates are null
    stress_method: str = "dtw"  # a name in emotioncot.measure.stress.STRESS_BACKENDS, or "none"
    stress_max_speech_s: float = 30.0  # longer speech is not aligned (DTW memory and time grow with its square)
    estimate_gender: bool = True  # offer a gender from F0 where the source gives none (stated per speaker only)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
