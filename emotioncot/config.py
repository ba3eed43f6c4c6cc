"""All configuration in one pydantic model. The CLI only fills it; build.json records it (secrets excluded)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestConfig(_Section):
    seed: int = 13
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    text_disjoint: bool = False
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)


class MeasureConfig(_Section):
    pitch_method: Literal["praat", "pyworld"] = "praat"
    f0_min_hz: float = 75.0  # Praat's default for speech; its window is 3 periods of the floor (lower costs time)
    f0_min_low_voice_hz: float = 50.0  # floor of a second pass when the first finds a low voice (median < 1.25 x f0_min_hz)
    f0_max_hz: float = 600.0
    min_pause_s: float = 0.2
    min_excursion_s: float = 0.1  # octave-off F0 stretches at least this long and confident are kept
    min_voiced_frames: int = 10  # fewer voiced 10 ms frames: F0 statistics are null
    min_duration_s: float = 0.25  # shorter clips are "too short"
    silence_dbfs: float = -80.0  # a peak below this is silence
    min_rate_speech_s: float = 0.3  # less speech: rates are null
    stress_method: str = "dtw"  # a name in emotioncot.measure.stress.STRESS_BACKENDS, or "none"
    stress_max_speech_s: float = 30.0  # longer speech is not aligned (DTW memory and time grow with its square)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)


class CalibrateConfig(_Section):
    group_by: Literal["auto", "corpus", "corpus_gender", "speaker"] = "auto"
    quantiles: tuple[float, float] = (1 / 3, 2 / 3)
    min_group_size: int = 6  # smaller groups fall back to the next coarser grouping
    thresholds_file: Optional[Path] = None
    min_voiced_fraction: float = 0.1  # pitch from less voicing is unreliable: excluded, level null
    min_snr_db: float = 5.0  # energy / effort from noisier audio is unreliable
    min_speech_s: float = 0.3  # rates from less speech are unreliable
    rate_range_sps: tuple[float, float] = (1.0, 12.0)  # rates outside are measurement failures
    level_weight: float = 0.5  # weight of active level vs alpha ratio in vocal effort (0 = alpha only)
    report: bool = True  # write calibration_report.txt (+ .png when matplotlib is installed)


class WriteConfig(_Section):
    writer: Literal["template", "openai"] = "template"
    base_url: Optional[str] = None
    model: Optional[str] = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    max_retries: int = 4
    timeout_s: float = 60.0
    temperature: float = 0.7
    seed: Optional[int] = 0
    label_mode: Literal["aware", "blind"] = "aware"
    rationale_prompt: Optional[Path] = None
    caption_prompt: Optional[Path] = None
    price_input_per_mtok: Optional[float] = None
    price_output_per_mtok: Optional[float] = None


class FilterConfig(_Section):
    min_words: int = 50
    max_words: int = 200
    require_format: bool = False


class ExportConfig(_Section):
    embed_audio: bool = False
    shard_max_mb: float = 256.0


class BuildConfig(_Section):
    """Everything a build depends on. Parts of it key each stage's cached results."""

    ingest: IngestConfig = Field(default_factory=IngestConfig)
    measure: MeasureConfig = Field(default_factory=MeasureConfig)
    calibrate: CalibrateConfig = Field(default_factory=CalibrateConfig)
    write: WriteConfig = Field(default_factory=WriteConfig)
    filter: FilterConfig = Field(default_factory=FilterConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)

    def public_dict(self) -> dict:
        """The config as recorded in build.json: paths as text; secrets are never in the model (only the
        *name* of the variable holding an API key)."""
        return self.model_dump(mode="json")


def cache_dir() -> Path:
    """Where synthesised demo audio and other regenerable files live (EMOTIONCOT_CACHE overrides)."""
    base = os.environ.get("EMOTIONCOT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "emotioncot"
    )
    return Path(base)


def project_root() -> Path:
    """The folder holding ``prompts/`` and ``manifests/`` (EMOTIONCOT_HOME overrides)."""
    env = os.environ.get("EMOTIONCOT_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent
