"""The row models of every table a stage writes, in one place.

Tables are flat (one column per field) so that Parquet, pandas and ``datasets`` read them without
nesting. Fields holding dicts are stored as JSON text at the table boundary (see ``emotioncot.tables``).
The final record is the union of the stage models; its release fields keep the public EmotionCoT names
(``transcription``, ``cot_analysis``, ``pitch_level`` ...), see ``emotioncot.export.jsonl``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from emotioncot.taxonomy import EMOTIONS

Emotion = Literal[
    "neutral", "happy", "sad", "angry", "contempt or disgust", "confused", "whisper", "surprise", "fear"
]
PitchLevel = Literal["low", "normal", "high"]
EnergyLevel = Literal["low", "normal", "high"]
SpeedLevel = Literal["slow", "normal", "fast"]
Intonation = Literal["rising", "falling", "rising-falling", "falling-rising", "flat", "expressive", "uncertain", "too_short"]
Gender = Literal["Male", "Female"]
AgeLevel = Literal["Child", "Teenager", "Young Adult", "Middle-aged", "Elderly"]
Split = Literal["train", "validation", "test"]

assert set(Emotion.__args__) == set(EMOTIONS)  # one vocabulary, two spellings of it


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    @classmethod
    def columns(cls) -> list[str]:
        return list(cls.model_fields)


class Utterance(_Row):
    """One utterance as ingested: where its audio is and what the corpus says about it."""

    id: str = Field(min_length=1)
    corpus: str = Field(min_length=1)
    audio_path: str = Field(min_length=1)
    start_s: Optional[float] = Field(default=None, ge=0)
    end_s: Optional[float] = Field(default=None, ge=0)
    duration_s: Optional[float] = Field(default=None, ge=0)
    speaker_id: Optional[str] = None
    # "clustered": the source gave no speaker ids; speaker_id is a voice cluster (emotioncot.ingest.speakers)
    speaker_source: Optional[Literal["metadata", "clustered"]] = None
    gender: Optional[Gender] = None
    gender_source: Optional[Literal["metadata", "estimated"]] = None
    age: Optional[float] = Field(default=None, ge=0, le=120)
    age_level: Optional[AgeLevel] = None
    age_source: Optional[Literal["metadata", "estimated"]] = None  # "estimated": from --speaker-model
    transcript: Optional[str] = None
    language: Optional[str] = None
    language_source: Optional[Literal["metadata", "estimated"]] = None  # "estimated": from the transcript (lingua)
    native_label: Optional[str] = None
    emotion: Optional[Emotion] = None
    soft_labels: Optional[dict[str, float]] = None
    valence: Optional[float] = None
    arousal: Optional[float] = None
    dominance: Optional[float] = None
    split: Optional[Split] = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("end_s")
    @classmethod
    def _end_after_start(cls, end_s, info):
        start = info.data.get("start_s")
        if end_s is not None and start is not None and end_s <= start:
            raise ValueError(f"end_s ({end_s}) must be after start_s ({start})")
        return end_s


class Measurements(_Row):
    """Acoustic measurements in physical units. A value that cannot be measured is None, with its reason
    in ``null_reasons`` (never a guess)."""

    id: str
    duration_s: Optional[float] = None
    speech_s: Optional[float] = None
    pause_count: Optional[int] = None
    pause_total_s: Optional[float] = None
    f0_median_hz: Optional[float] = None
    f0_p5_hz: Optional[float] = None
    f0_p95_hz: Optional[float] = None
    f0_range_st: Optional[float] = None
    f0_std_st: Optional[float] = None
    voiced_fraction: Optional[float] = None
    energy_dbfs: Optional[float] = None
    peak_dbfs: Optional[float] = None
    snr_db: Optional[float] = None
    alpha_ratio_db: Optional[float] = None
    articulation_rate_sps: Optional[float] = None
    speaking_rate_sps: Optional[float] = None
    syllable_count: Optional[float] = None
    syllable_source: Optional[str] = None
    f0_method: Optional[str] = None
    intonation: Optional[Intonation] = None
    intonation_confidence: Optional[float] = None
    jitter_local: Optional[float] = None
    shimmer_local: Optional[float] = None
    hnr_db: Optional[float] = None
    f0_octave_fixed_frames: Optional[int] = None
    relative_rate: Optional[float] = None
    stressed_words: list[str] = Field(default_factory=list)
    estimated_gender: Optional[Gender] = None
    estimated_gender_confidence: Optional[float] = None
    null_reasons: dict[str, str] = Field(default_factory=dict)
    error: Optional[str] = None


class Levels(_Row):
    """Calibrated levels: what a listener would call low / normal / high, relative to the calibration group."""

    id: str
    pitch_level: Optional[PitchLevel] = None
    energy_level: Optional[EnergyLevel] = None
    speed_level: Optional[SpeedLevel] = None
    level_group: Optional[str] = None
    level_fallback: Optional[str] = None  # levels graded on a coarser group than the record's own, and why
    energy_basis: Optional[Literal["alpha_ratio", "vocal_effort", "whisper"]] = None  # what energy_level was graded on
    level_reasons: dict[str, str] = Field(default_factory=dict)


class GeneratedText(_Row):
    """A caption and a chain-of-thought rationale, with the provenance of what wrote them."""

    id: str
    caption: str = Field(min_length=1)
    cot_analysis: str = Field(min_length=1)
    writer: Literal["template", "openai"]
    model: Optional[str] = None
    prompt_id: Optional[str] = None
    prompt_hash: Optional[str] = None
    label_mode: Literal["aware", "blind"] = "aware"
    inferred_emotion: Optional[Emotion] = None
    seed: Optional[int] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None


class Record(Utterance):
    """The final, filtered record: utterance + measurements + levels + text."""

    # measurements (duration_s is shared with Utterance)
    speech_s: Optional[float] = None
    pause_count: Optional[int] = None
    pause_total_s: Optional[float] = None
    f0_median_hz: Optional[float] = None
    f0_p5_hz: Optional[float] = None
    f0_p95_hz: Optional[float] = None
    f0_range_st: Optional[float] = None
    f0_std_st: Optional[float] = None
    voiced_fraction: Optional[float] = None
    energy_dbfs: Optional[float] = None
    peak_dbfs: Optional[float] = None
    snr_db: Optional[float] = None
    alpha_ratio_db: Optional[float] = None
    articulation_rate_sps: Optional[float] = None
    speaking_rate_sps: Optional[float] = None
    syllable_count: Optional[float] = None
    syllable_source: Optional[str] = None
    f0_method: Optional[str] = None
    intonation: Optional[Intonation] = None
    intonation_confidence: Optional[float] = None
    jitter_local: Optional[float] = None
    shimmer_local: Optional[float] = None
    hnr_db: Optional[float] = None
    f0_octave_fixed_frames: Optional[int] = None
    relative_rate: Optional[float] = None
    stressed_words: list[str] = Field(default_factory=list)
    null_reasons: dict[str, str] = Field(default_factory=dict)
    # levels
    pitch_level: Optional[PitchLevel] = None
    energy_level: Optional[EnergyLevel] = None
    speed_level: Optional[SpeedLevel] = None
    level_group: Optional[str] = None
    level_fallback: Optional[str] = None  # levels graded on a coarser group than the record's own, and why
    energy_basis: Optional[Literal["alpha_ratio", "vocal_effort", "whisper"]] = None  # what energy_level was graded on
    level_reasons: dict[str, str] = Field(default_factory=dict)
    # text
    caption: str = Field(min_length=1)
    cot_analysis: str = Field(min_length=1)
    writer: Literal["template", "openai"]
    model: Optional[str] = None
    prompt_id: Optional[str] = None
    prompt_hash: Optional[str] = None
    label_mode: Literal["aware", "blind"] = "aware"
    inferred_emotion: Optional[Emotion] = None
    seed: Optional[int] = None
    # provenance
    tool_version: Optional[str] = None
    thresholds_version: Optional[str] = None


class Rejection(_Row):
    """A record the filter rejected, with machine-readable codes and a human explanation."""

    id: str
    reject_reasons: list[str] = Field(min_length=1)
    explanation: str


class ErrorRow(_Row):
    """One failed item of one stage (errors.jsonl)."""

    stage: str
    id: Optional[str] = None
    path: Optional[str] = None
    reason: str
    corpus: Optional[str] = None  # ingest: the source the item came from (for the per-corpus summary)


STAGE_MODELS: dict[str, type[_Row]] = {
    "ingest": Utterance,
    "measure": Measurements,
    "calibrate": Levels,
    "write": GeneratedText,
    "filter": Record,
}
