"""Switches for what a source leaves unsaid (speakers, language, gender, age), shared by ``build`` and
``ingest`` (not a command module: nothing to register). See docs/speakers.md."""

from __future__ import annotations

from typing import Optional

import typer

from emotioncot.config import BuildConfig

SPEAKER_MODEL = typer.Option(
    None, "--speaker-model",
    help="Age level and gender per speaker from the EmotionThinker release's model: "
         "audeering/wav2vec2-large-robust-24-ft-age-gender (licence CC BY-NC-SA 4.0, non-commercial) or a local "
         "folder of it. Off by default (gender then comes from F0 per speaker; age is not estimated).",
)
NO_SPEAKER_CLUSTERS = typer.Option(
    False, "--no-speaker-clusters",
    help="Do not cluster clips without speaker ids into speakers by voice (each clip is then its own speaker "
         "for splits, and no gender is estimated for it).",
)
NO_LANGUAGE_ESTIMATE = typer.Option(
    False, "--no-language-estimate", help="Do not estimate a transcript's language when the source gives none.")
NO_GENDER_ESTIMATE = typer.Option(
    False, "--no-gender-estimate", help="Do not estimate gender from F0 when the source gives none.")


def apply_estimate_options(cfg: BuildConfig, speaker_model: Optional[str], no_speaker_clusters: bool,
                           no_language_estimate: bool, no_gender_estimate: bool = False) -> BuildConfig:
    if speaker_model:
        cfg.ingest.speaker_model = speaker_model
    if no_speaker_clusters:
        cfg.ingest.cluster_speakers = False
    if no_language_estimate:
        cfg.ingest.estimate_language = False
    if no_gender_estimate:
        cfg.measure.estimate_gender = False
    return cfg
