"""Age level and gender from the EmotionThinker release's speaker model, opt-in (``--speaker-model``).

The model is ``audeering/wav2vec2-large-robust-24-ft-age-gender`` (licence CC BY-NC-SA 4.0: non-commercial,
share-alike; a dataset whose attributes come from it carries that note in its card), or a local folder holding
a copy. It is loaded as its model card loads it: a ``Wav2Vec2Processor`` and ``AgeGenderModel`` (a wav2vec2
encoder, mean-pooled, with two heads of ``dense -> tanh -> out_proj``): ``age`` gives 0..1 over 0..100 years,
``gender`` a softmax over (female, male, child). Clips are read at 16 kHz mono (at most ``MAX_SECONDS``).

Per speaker (``speaker_id``, from the source or the voice clusters) the median age and the median of each
gender probability are taken; the age maps to the release's levels (``taxonomy.age_level_from_years``), and
"child" above the others makes the level Child. A gender is stated only when its median probability is at
least ``MIN_PROBABILITY``. Rows with a gender or age from the source keep them; rows without a speaker get
nothing (an attribute is never taken from one clip of an unknown speaker). What is filled is marked
``age_source`` / ``gender_source = "estimated"``, with the model and its numbers in ``meta["speaker_model"]``.
"""

from __future__ import annotations

from statistics import median

import numpy as np

LICENCE = "CC BY-NC-SA 4.0"
DEFAULT_MODEL = "audeering/wav2vec2-large-robust-24-ft-age-gender"
SAMPLE_RATE = 16000
MAX_SECONDS = 20.0
MIN_PROBABILITY = 0.75
GENDER_UNITS = ("female", "male", "child")


def _model_classes():
    import torch
    from torch import nn
    from transformers import Wav2Vec2Model, Wav2Vec2PreTrainedModel

    class ModelHead(nn.Module):
        """The release's classification head."""

        def __init__(self, config, num_labels):
            super().__init__()
            self.dense = nn.Linear(config.hidden_size, config.hidden_size)
            self.dropout = nn.Dropout(config.final_dropout)
            self.out_proj = nn.Linear(config.hidden_size, num_labels)

        def forward(self, features, **kwargs):
            x = self.dropout(features)
            x = torch.tanh(self.dense(x))
            return self.out_proj(self.dropout(x))

    class AgeGenderModel(Wav2Vec2PreTrainedModel):
        """The release's speech age and gender model (module names match its checkpoint)."""

        def __init__(self, config):
            super().__init__(config)
            self.config = config
            self.wav2vec2 = Wav2Vec2Model(config)
            self.age = ModelHead(config, 1)
            self.gender = ModelHead(config, 3)
            self.post_init()

        def forward(self, input_values):
            hidden = self.wav2vec2(input_values)[0].mean(dim=1)
            return hidden, self.age(hidden), torch.softmax(self.gender(hidden), dim=1)

    return ModelHead, AgeGenderModel


class SpeakerModel:
    """The loaded processor and model; ``predict(samples_16k)`` -> (age in years, {female, male, child})."""

    def __init__(self, name_or_path: str):
        from transformers import Wav2Vec2Processor

        _, AgeGenderModel = _model_classes()
        try:
            self.processor = Wav2Vec2Processor.from_pretrained(name_or_path)
            self.model = AgeGenderModel.from_pretrained(name_or_path).eval()
        except (OSError, ValueError) as exc:  # not found, not a model folder, not a valid hub id
            raise ValueError(f"--speaker-model {name_or_path}: cannot load the age/gender model ({exc}); give "
                             f"{DEFAULT_MODEL} (downloaded once by transformers) or a local folder with its "
                             f"config.json, weights and processor files") from None
        self.name = name_or_path

    def predict(self, samples: np.ndarray) -> tuple[float, dict[str, float]]:
        import torch

        values = self.processor(samples, sampling_rate=SAMPLE_RATE)["input_values"][0]
        with torch.no_grad():
            _, age, gender = self.model(torch.from_numpy(np.asarray(values, np.float32)).reshape(1, -1))
        years = float(age[0, 0]) * 100.0
        return years, {unit: float(p) for unit, p in zip(GENDER_UNITS, gender[0].tolist())}


def _clip(row: dict) -> np.ndarray:
    from emotioncot.audio.io import read_record_audio
    from emotioncot.measure.signal import resample

    samples, rate = read_record_audio(row)
    samples = samples[: int(MAX_SECONDS * rate)]
    return resample(samples, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else samples


def speaker_attributes(per_clip: list[tuple[float, dict[str, float]]]) -> dict:
    """One speaker's age level and gender from its clips' predictions (medians; see the module docstring)."""
    years = median(age for age, _ in per_clip)
    probs = {unit: median(p[unit] for _, p in per_clip) for unit in GENDER_UNITS}
    from emotioncot.taxonomy import age_level_from_years

    level = "Child" if probs["child"] > max(probs["female"], probs["male"]) else age_level_from_years(years)
    adult = max(("female", "male"), key=probs.get)
    gender = {"female": "Female", "male": "Male"}[adult] if probs[adult] >= MIN_PROBABILITY else None
    return {"age_years": round(years, 1), "age_level": level, "gender": gender,
            "probabilities": {k: round(v, 3) for k, v in probs.items()}, "clips": len(per_clip)}


def apply_speaker_model(rows: list[dict], name_or_path: str, progress: bool | None = None) -> dict:
    """Fill age level and gender per speaker from the model (in place); returns counts of what was filled."""
    from tqdm import tqdm

    model = SpeakerModel(name_or_path)
    by_speaker: dict[tuple, list[tuple[float, dict]]] = {}
    failed = 0
    for row in tqdm(rows, desc="ingest: speaker model", unit="clip", disable=True if progress is False else None):
        if not row.get("speaker_id"):
            continue
        try:
            prediction = model.predict(_clip(row))
        except Exception as exc:  # one unreadable clip is left out of its speaker's median; measure reports it
            row.setdefault("meta", {})["speaker_model_error"] = f"{type(exc).__name__}: {exc}"
            failed += 1
            continue
        by_speaker.setdefault((row.get("corpus"), row["speaker_id"]), []).append(prediction)
    found = {key: speaker_attributes(clips) for key, clips in by_speaker.items()}
    filled = {"age_level": 0, "gender": 0, "speakers": len(found), "clips_failed": failed}
    for row in rows:
        attrs = found.get((row.get("corpus"), row.get("speaker_id")))
        if attrs is None:
            continue
        row.setdefault("meta", {})["speaker_model"] = {"model": model.name, "licence": LICENCE, **attrs}
        if not row.get("age_level") and row.get("age") is None and attrs["age_level"]:
            row["age_level"], row["age_source"] = attrs["age_level"], "estimated"
            filled["age_level"] += 1
        if not row.get("gender") and attrs["gender"]:
            row["gender"], row["gender_source"] = attrs["gender"], "estimated"
            filled["gender"] += 1
    return filled
