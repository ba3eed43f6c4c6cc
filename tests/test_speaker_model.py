"""The opt-in speaker model (``--speaker-model``): the release's age/gender architecture, loaded as the release
loads it, run end to end on a tiny random model of the same architecture built here (no download)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")


def _tiny_model(folder):
    """A wav2vec2 + age/gender heads model with random weights, saved like the published one (config,
    weights, processor files with a CTC vocabulary), so that from_pretrained reads it the same way."""
    from transformers import Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2Processor

    from emotioncot.measure.age_gender import _model_classes

    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2, final_dropout=0.1, vocab_size=8)
    _, AgeGenderModel = _model_classes()
    import torch

    torch.manual_seed(0)
    AgeGenderModel(config).save_pretrained(folder)
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps({"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "a": 5, "b": 6, "c": 7}))
    processor = Wav2Vec2Processor(
        feature_extractor=Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                                   do_normalize=True, return_attention_mask=False),
        tokenizer=Wav2Vec2CTCTokenizer(str(vocab)))
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return _tiny_model(tmp_path_factory.mktemp("tiny-age-gender"))


def test_the_release_architecture_loads_and_predicts_age_and_three_gender_units(tiny_model):
    from emotioncot.measure.age_gender import SpeakerModel

    model = SpeakerModel(str(tiny_model))
    rng = np.random.default_rng(0)
    years, probs = model.predict(rng.normal(0, 0.1, 16000).astype(np.float32))
    assert set(probs) == {"female", "male", "child"} and abs(sum(probs.values()) - 1) < 1e-5
    assert np.isfinite(years)
    # a trained checkpoint's weights land in the same modules: every head parameter was read from the folder
    from safetensors.torch import load_file

    saved = load_file(str(tiny_model / "model.safetensors"))
    assert {"age.dense.weight", "age.out_proj.weight", "gender.dense.weight", "gender.out_proj.weight"} <= set(saved)
    state = model.model.state_dict()
    assert all(np.allclose(state[k].numpy(), saved[k].numpy()) for k in saved)


def test_a_missing_model_is_a_clear_error(tmp_path):
    from emotioncot.measure.age_gender import SpeakerModel

    with pytest.raises(ValueError, match="cannot load the age/gender model"):
        SpeakerModel(str(tmp_path / "nothing-here"))


def test_speaker_attributes_take_medians_and_withhold_an_unsure_gender():
    from emotioncot.measure.age_gender import speaker_attributes

    sure = speaker_attributes([(0.0 + a, {"female": 0.1, "male": 0.85, "child": 0.05}) for a in (31, 35, 70)])
    assert sure["age_level"] == "Young Adult" and sure["gender"] == "Male" and sure["age_years"] == 35
    unsure = speaker_attributes([(45.0, {"female": 0.45, "male": 0.5, "child": 0.05})] * 3)
    assert unsure["gender"] is None and unsure["age_level"] == "Middle-aged"
    child = speaker_attributes([(30.0, {"female": 0.3, "male": 0.2, "child": 0.5})])
    assert child["age_level"] == "Child"


def test_build_with_the_speaker_model_fills_age_level_and_gender_marked_estimated(tiny_model, test_data, tmp_path):
    """End to end: a list without speaker, gender or age columns, clustered by voice, the tiny model's
    age and gender per speaker, through measure, write, filter and export."""
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import build

    wavs = sorted((test_data / "ravdess").glob("*.wav"))[:4] + sorted((test_data / "emodb" / "wav").glob("*.wav"))[:4]
    listing = tmp_path / "clips.jsonl"
    listing.write_text("".join(json.dumps({"audio_path": str(w), "transcription": "Kids are talking by the door",
                                           "emotion": "neutral"}) + "\n" for w in wavs))
    config = BuildConfig()
    config.ingest.speaker_model = str(tiny_model)
    config.ingest.workers = config.measure.workers = 1
    config.report.enabled = False
    out = tmp_path / "build"
    build([f"jsonl:{listing}?allow_outside=1"], out, config, progress=False, log=lambda m: None)
    rows = [json.loads(line) for line in (out / "emotioncot.jsonl").read_text().splitlines()]
    assert rows
    from emotioncot.schema import AgeLevel

    for row in rows:
        assert row["age_level"] in AgeLevel.__args__ and row["age_source"] == "estimated"
        assert row["speaker_source"] == "clustered"
        if row["gender"] is not None:
            assert row["gender_source"] == "estimated"
    card = (out / "README.md").read_text()
    assert "CC BY-NC-SA 4.0" in card and "estimated" in card
