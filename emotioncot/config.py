"""All configuration in one pydantic model. The CLI only fills it; build.json records it (secrets excluded)."""

from __future__ import annotations

import os
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Literal, Optional, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from emotioncot.measure.settings import MeasureSettings
from emotioncot.train.config import TrainConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestConfig(_Section):
    seed: int = 13
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    text_disjoint: bool = False
    # longer clips are cut at pauses (no transcript) or rejected (transcript); None: no limit
    max_clip_s: Optional[float] = Field(default=120.0, gt=0)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    # Sources that do not say (a plain clip list): what is estimated, each with its switch (docs/speakers.md).
    # A column in the list (speaker_id, language, gender, age_level) always wins over an estimate.
    cluster_speakers: bool = True  # clips without speaker ids are clustered by voice into speakers
    speaker_threshold: float = Field(default=0.45, gt=0, lt=2)  # cosine distance, average linkage (tested on real voices)
    # average linkage holds N^2/2 distances (15,000 clips: 0.9 GB); a larger source without speaker ids is refused
    max_cluster_clips: int = Field(default=15000, ge=2)
    estimate_language: bool = True  # a transcript without a language gets one from lingua, marked estimated
    language_candidates: tuple[str, ...] = (
        "en", "de", "fr", "es", "it", "pt", "nl", "zh", "ja", "ko", "ru", "pl", "sv", "el", "tr", "ar", "fa", "hi",
        "ur", "bn", "da", "fi")
    language_min_confidence: float = Field(default=0.5, ge=0, le=1)  # below it the language stays unset
    # audeering/wav2vec2-large-robust-24-ft-age-gender (CC BY-NC-SA 4.0) or a local folder of it: age level and
    # gender per speaker from the release's model; None: off (gender then comes from F0, age is not estimated)
    speaker_model: Optional[str] = None


def _model_of(cls: type, name: str) -> type[_Section]:
    """A configuration section made from a dataclass's fields (their types, defaults and default factories), so
    that settings needed without pydantic are declared once (``emotioncot.measure.settings``)."""
    hints = get_type_hints(cls)
    spec = {f.name: (hints[f.name], f.default if f.default is not MISSING else Field(default_factory=f.default_factory))
            for f in fields(cls)}
    return create_model(name, __base__=_Section, __module__=__name__, __doc__=cls.__doc__, **spec)


MeasureConfig = _model_of(MeasureSettings, "MeasureConfig")


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
    # what speed levels are cut from: syllables per second, or relative_rate (needs measure.relative_rate)
    speed_feature: Literal["articulation_rate_sps", "relative_rate"] = "articulation_rate_sps"
    report: bool = True  # write calibration_report.txt (+ .png when matplotlib is installed)
    # the evidence table (calibrate/evidence.py): an emotion with fewer clips in a corpus takes the literature
    # prior; a level counts for (against) an emotion when its share among the emotion's clips is at least
    # evidence_lift times (at most 1/evidence_lift times) its share among the corpus's other clips, and a one-sided
    # Fisher exact test puts the difference at p <= evidence_alpha (fewer clips than that: neither way)
    evidence_min_clips: int = 5
    evidence_lift: float = 1.5
    evidence_alpha: float = Field(default=0.05, gt=0, le=1)


class WriteConfig(_Section):
    # openai: live chat-completions requests; openai-batch: the same requests as OpenAI Batch API jobs
    # (/v1/files + /v1/batches; half the price, answers within the completion window)
    writer: Literal["template", "openai", "openai-batch"] = "template"
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
    send_audio: bool = False  # attach the clip as base64 WAV (input_audio) for audio-capable models
    backoff_base_s: float = 0.5  # 5xx / timeouts: wait base * 2**retry (half of it jittered), capped at backoff_max_s
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0  # cap on a 429's Retry-After
    # The stage stops when no request has got any HTTP answer for this long (a server that accepts
    # connections and never answers); timeout_s bounds each request, this the stage's lack of progress.
    no_progress_s: float = 120.0
    # answers as JSON fields (response_format with a JSON schema); "off": plain text only. An endpoint that
    # rejects the schema gets plain-text requests for the rest of the stage.
    structured: Literal["auto", "off"] = "auto"
    keep_think: bool = False  # keep the <think> block of a reasoning model's answer (stripped by default)
    # a record the filter rejects for reasons a model can fix is sent back with them, this many times
    repair_rounds: int = Field(default=1, ge=0)
    limit: Optional[int] = Field(default=None, ge=1)  # write only the first N records (trying a model or prompt)
    # the endpoint stops answering every worker: pause (backoff up to backoff_max_s between probes), then stop
    # after this long without an answer, keeping what was written
    outage_max_s: float = 300.0
    # answers from a batch results file made elsewhere (vLLM run-batch, a provider console), keyed by custom_id
    batch_results: Optional[Path] = None
    batch_poll_s: float = Field(default=30.0, gt=0)  # openai-batch: seconds between status polls
    # openai-batch: stop polling after this long (the batches stay journaled: a rerun polls them again)
    batch_max_wait_s: float = Field(default=26 * 3600.0, gt=0)
    batch_completion_window: str = "24h"
    batch_max_requests: int = Field(default=50_000, ge=1)  # the OpenAI Batch API's limits per input file
    batch_max_bytes: int = Field(default=200_000_000, ge=1024)
    # openai-batch: the first-round batches of up to this many chunks (of batch_max_requests // 2 records each) are
    # in flight at once: the next chunks' go while one is polled. A few, not all: providers cap the tokens a
    # model may have enqueued (OpenAI's batch queue limit, by usage tier); a refused one goes in its chunk's turn.
    # 1: each chunk's batches end before the next chunk is submitted.
    batch_chunks_in_flight: int = Field(default=4, ge=1)
    # batch answers cost this fraction of the live prices (--price-*-per-mtok); OpenAI's batch price is half
    batch_price_factor: float = Field(default=0.5, ge=0)

    def unusable(self) -> str | None:
        """Why no record can be written with these settings, or None. The template writer with ``label_mode:
        blind`` used to fail every record, each reported as that item's own failure: it is the run's error."""
        if self.writer == "template" and self.label_mode != "aware":
            return ("the template writer writes label-aware rationales only: --label-mode blind needs an LLM writer "
                    "(--writer openai or openai-batch with --model)")
        return None


class FilterConfig(_Section):
    """The quality filter (docs/filtering.md). Each check can be switched off; each has its own reason code."""

    # which checks run
    check_schema: bool = True
    check_length: bool = True
    check_format: bool = True
    check_language: bool = True
    check_grounding: bool = True
    check_numeric: bool = True
    check_label: bool = True
    check_transcript: bool = True
    check_duplicates: bool = True
    check_markup: bool = True  # prose only: no lists, headings, bold, numbered steps
    check_copied_prompt: bool = True  # no prompt headers or instructions repeated in the text
    check_caption: bool = True  # captions: grounding, copied prompt text, form, length, no emotion named
    # the argument: the balance of cues the rationale states is the evidence table's, and one gender is used
    check_argument: bool = True
    # thresholds.json whose evidence table the argument check weighs cues by (a build passes its own);
    # None: the documented literature prior (manifests/evidence_prior.yaml)
    evidence_file: Optional[Path] = None
    # length and format
    min_words: int = 50
    max_words: int = 200
    require_format: bool = False
    # language of the rationale (ISO 639-1; None: not checked)
    language: Optional[str] = "en"
    # grounding: which aspects; "strict" also rejects "high" said of a normal level, "opposite" only high vs low
    # "reference": a level said to be relative to "this speaker" must have been graded on the speaker's own clips
    grounding_aspects: list[Literal["pitch", "energy", "speed", "intonation", "stress", "gender", "age", "reference"]] = Field(
        default_factory=lambda: ["pitch", "energy", "speed", "intonation", "stress", "gender", "age", "reference"]
    )
    grounding_strictness: Literal["strict", "opposite"] = "strict"
    # skip statements about emotions in general ("anger would typically bring a louder voice")
    grounding_skip_generic: bool = True
    # label: mode for rows that do not say (JSONL input); how many closing sentences make the conclusion
    label_mode: Literal["aware", "blind"] = "aware"
    conclusion_sentences: int = Field(default=2, ge=1)
    blind_disagreement: Literal["reject", "keep"] = "reject"
    # transcription quote: similarity of the best-matching window; long transcriptions may be excerpted
    transcript_min_similarity: float = Field(default=0.8, ge=0, le=1)
    transcript_long_words: int = 30
    transcript_min_excerpt_words: int = 8
    # captions
    caption_min_words: int = 15
    caption_max_words: int = 120
    # near-duplicates: Jaccard similarity of word shingles
    duplicate_threshold: float = Field(default=0.9, gt=0, le=1)
    shingle_size: int = Field(default=5, ge=1)


class ExportConfig(_Section):
    embed_audio: bool = False
    shard_max_mb: float = 256.0
    # System prompt, question and answer format of the training views (emotioncot.export.views.PROMPT_STYLES).
    prompt_style: Literal["emotioncot", "emotionthinker"] = "emotioncot"
    # Rate of the clips a framework export (``export --for``) writes; speech LLM front ends want 16 kHz.
    portable_sample_rate: int = Field(default=16000, gt=0)
    # Cuts per WebDataset shard of ``export --for lhotse --webdataset`` (lhotse's writer; one shard holds whole cuts).
    webdataset_shard_size: int = Field(default=1000, gt=0)


class ReportConfig(_Section):
    """The explorer report (docs/report.md) that ``build`` writes into ``report/`` and ``emotioncot report`` rewrites."""

    enabled: bool = True
    sample: int = Field(default=27, ge=0)  # kept records with a page, spread over emotion and corpus
    max_rejected: int = Field(default=27, ge=0)  # rejected records with a page
    seed: int = 0


class ProsodyConfig(_Section):
    """Prosody-perception task data (``emotioncot prosody-tasks``); see docs/prosody_tasks.md."""

    tasks: tuple[str, ...] = ("attributes", "compare", "stress")
    per_utterance: int = 2  # compare (and stress) items made from each source utterance
    sample_rate: int = 16000  # generated audio is resampled to this rate (speech LLM front ends use 16 kHz)
    f0_method: Literal["harvest", "dio"] = "harvest"
    frame_period_ms: float = 5.0
    semitone_steps: tuple[float, ...] = (2.0, 3.0, 4.0)
    gain_db_steps: tuple[float, ...] = (3.0, 4.5, 6.0)
    tempo_ratios: tuple[float, ...] = (1.15, 1.2, 1.3)
    join_silence_s: float = 0.6
    stress_semitones: float = 3.0
    stress_gain_db: float = 5.0
    tolerance_semitones: float = 0.5
    tolerance_db: float = 0.5
    tolerance_tempo: float = 0.03
    balance_tolerance: float = 0.05  # most frequent answer at most this much above the rarest, per task
    min_per_answer: int = 2  # an answer rarer than this is left out of its task (it cannot be balanced)
    max_source_s: float = 8.0  # keeps a three-version item under 30 s, the audio window of Whisper-style encoders
    min_source_s: float = 0.5
    embed_audio: bool = False  # also store unmodified clips as bytes (generated clips always are)
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)


class ExecutorConfig(_Section):
    """Where the per-item stages run (see docs/scaling.md). Not part of any stage key: both executors
    produce identical tables, so a build started with one can be resumed with the other."""

    name: Literal["local", "ray"] = "local"
    ray_address: Optional[str] = None  # join this Ray cluster; None: start a private local Ray instance
    pin_cores: bool = True  # local: one worker per core, pinned (when there are at least as many cores as workers)
    shard_size: int = Field(default=64, ge=1)  # items per measure shard (the unit of work and of recovery)
    max_retries: int = Field(default=2, ge=0)  # Ray: retries of a shard whose worker died
    ray_object_store_mb: Optional[int] = None  # local Ray instance only; None: Ray's default
    write_cluster_concurrency: Optional[int] = None  # Ray: requests in flight across the cluster (None: write.concurrency)


class BuildConfig(_Section):
    """Everything a build depends on. Parts of it key each stage's cached results."""

    ingest: IngestConfig = Field(default_factory=IngestConfig)
    measure: MeasureConfig = Field(default_factory=MeasureConfig)
    calibrate: CalibrateConfig = Field(default_factory=CalibrateConfig)
    write: WriteConfig = Field(default_factory=WriteConfig)
    filter: FilterConfig = Field(default_factory=FilterConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    prosody: ProsodyConfig = Field(default_factory=ProsodyConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)

    def public_dict(self) -> dict:
        """The config as recorded in build.json: paths as text; secrets are never in the model (only the
        *name* of the variable holding an API key). A base URL loses any user:password and query string."""
        data = self.model_dump(mode="json")
        url = data["write"].get("base_url")
        if url:
            from urllib.parse import urlsplit, urlunsplit

            parts = urlsplit(url)
            host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
            data["write"]["base_url"] = urlunsplit((parts.scheme, host, parts.path, "", ""))
        return data


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
