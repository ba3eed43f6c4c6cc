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
    f0_min_hz: float = 60.0
    f0_max_hz: float = 600.0
    min_pause_s: float = 0.2
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)


class CalibrateConfig(_Section):
    group_by: Literal["auto", "corpus", "corpus_gender", "speaker"] = "auto"
    quantiles: tuple[float, float] = (1 / 3, 2 / 3)
    min_group_size: int = 6
    thresholds_file: Optional[Path] = None


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
    send_audio: bool = False  # attach the clip as base64 WAV (input_audio) for audio-capable models
    backoff_base_s: float = 0.5  # 5xx / timeouts: wait base * 2**retry (half of it jittered), capped at backoff_max_s
    backoff_max_s: float = 30.0
    retry_after_max_s: float = 120.0  # cap on a 429's Retry-After


class FilterConfig(_Section):
    min_words: int = 50
    max_words: int = 200
    require_format: bool = False


class ExportConfig(_Section):
    embed_audio: bool = False
    shard_max_mb: float = 256.0


class ExecutorConfig(_Section):
    """Where the per-item stages run (see docs/scaling.md). Not part of any stage key: both executors
    produce identical tables, so a build started with one can be resumed with the other."""

    name: Literal["local", "ray"] = "local"
    ray_address: Optional[str] = None  # join this Ray cluster; None: start a private local Ray instance
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
