"""The measure settings as a plain dataclass: what ``measure_signal`` uses when given no configuration, and what
``emotioncot analyze FILE ...`` passes when no ``--config`` is given.

Why a second class beside ``emotioncot.config.MeasureConfig``: importing pydantic and building the configuration
models costs more CPU than measuring a short clip (about 0.1-0.15 s of a fresh process), and a file measured
from the command line needs only the defaults. The names and defaults are the pydantic model's: the test
``tests/test_measure_cli.py::test_plain_measure_settings_are_the_configs_defaults`` fails if they drift apart.
A config file, a build folder and the pipeline still go through ``MeasureConfig`` (validation, build.json)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class MeasureSettings:
    pitch_method: str = "praat"
    f0_min_hz: float = 75.0
    f0_min_low_voice_hz: float = 50.0
    f0_max_hz: float = 600.0
    min_pause_s: float = 0.2
    min_excursion_s: float = 0.1
    min_voiced_frames: int = 10
    min_range_voiced_frames: int = 40
    relative_rate: bool = False
    max_words_per_s: float = 8.0
    min_duration_s: float = 0.25
    silence_dbfs: float = -80.0
    min_rate_speech_s: float = 0.3
    stress_method: str = "dtw"
    stress_max_speech_s: float = 30.0
    estimate_gender: bool = True
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
