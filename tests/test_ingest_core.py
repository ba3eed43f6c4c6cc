"""The generic parts of ingest: source specs, Hugging Face and JSONL/CSV sources, bad input, splits,
the summary, manifests, the CLI, and the demo corpus going through the same path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotioncot.config import IngestConfig
from emotioncot.ingest import ingest_sources, parse_source
from emotioncot.ingest.core import format_summary, summarize
from emotioncot.ingest.splits import assign_splits


def wav(path: Path, seconds: float = 0.4, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), 0.1 * np.sin(np.arange(int(seconds * rate)) / 7.0), rate)
    return path


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(int(seconds * rate)), rate, format="WAV")
    return buf.getvalue()


def test_parse_source_forms(tmp_path):
    s = parse_source("IEMOCAP=/data/IEMOCAP_full_release?fold=4")
    assert (s.name, s.path, s.options) == ("iemocap", Path("/data/IEMOCAP_full_release"), {"fold": "4"})
    assert parse_source("crema-d=/x").name == "crema_d"
    s = parse_source("hf:org/emotion-set:en?emotion=style&split=train")
    assert s.name == "hf" and s.options["hf_target"] == "org/emotion-set" and s.options["hf_config"] == "en"
    assert s.options["emotion"] == "style" and s.path is None
    s = parse_source(f"hf:{tmp_path}")
    assert s.options["hf_target"] == str(tmp_path) and s.options["hf_config"] is None
    s = parse_source("jsonl:clips.jsonl?corpus=mine")
    assert (s.name, s.path, s.options) == ("jsonl", Path("clips.jsonl"), {"corpus": "mine"})
    assert parse_source("demo").name == "demo" and parse_source("demo").path is None


def _hf_dataset(folder: Path) -> Path:
    import datasets

    features = datasets.Features({
        "audio": {"bytes": datasets.Value("binary"), "path": datasets.Value("string")},
        "style": datasets.ClassLabel(names=["ang", "happy", "bored"]),
        "normalized_text": datasets.Value("string"),
        "speaker": datasets.Value("string"),
        "gender": datasets.Value("string"),
        "utt": datasets.Value("string"),
    })
    train = datasets.Dataset.from_dict({
        "audio": [{"bytes": wav_bytes(0.5), "path": "clip_a.wav"}, {"bytes": wav_bytes(0.3), "path": None},
                  {"bytes": b"not audio at all", "path": "c.wav"}],
        "style": [0, 1, 2], "normalized_text": ["stop it", "what a day", "fine"],
        "speaker": ["s1", "s2", "s1"], "gender": ["female", "M", None], "utt": ["a", "b", "c"],
    }, features=features).cast_column("audio", datasets.Audio(decode=False))
    test = datasets.Dataset.from_dict({
        "audio": [{"bytes": wav_bytes(0.25), "path": None}], "style": [1], "normalized_text": ["hello"],
        "speaker": ["s3"], "gender": ["male"], "utt": ["d"],
    }, features=features).cast_column("audio", datasets.Audio(decode=False))
    datasets.DatasetDict({"train": train, "test": test}).save_to_disk(str(folder))
    return folder


def test_hf_saved_dataset_with_column_mapping(tmp_path):
    folder = _hf_dataset(tmp_path / "emo_set")
    spec = f"hf:{folder}?audio=audio&emotion=style&transcript=normalized_text&id=utt&labels=ang:angry,bored:"
    rows, errors = ingest_sources([spec], IngestConfig(workers=1), progress=False)
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"emo_set_a", "emo_set_b", "emo_set_d"}
    assert [e["id"] for e in errors] == ["emo_set_c"] and "not a readable audio file" in errors[0]["reason"]
    a = by_id["emo_set_a"]
    assert (a["native_label"], a["emotion"], a["transcript"], a["speaker_id"], a["gender"]) == ("ang", "angry", "stop it", "s1", "Female")
    assert (a["split"], a["duration_s"]) == ("train", pytest.approx(0.5)) and a["audio_path"].endswith(".wav")
    assert Path(a["audio_path"]).read_bytes() == wav_bytes(0.5)  # embedded bytes written to the cache
    b = by_id["emo_set_b"]
    assert (b["emotion"], b["gender"], b["duration_s"]) == ("happy", "Male", pytest.approx(0.3))
    d = by_id["emo_set_d"]
    assert (d["split"], d["duration_s"], d["emotion"]) == ("test", pytest.approx(0.25), "happy")
    # a second run gives the same ids and reuses the cached audio
    again, _ = ingest_sources([spec], IngestConfig(workers=1), progress=False)
    assert [r["id"] for r in again] == [r["id"] for r in rows] and [r["audio_path"] for r in again] == [r["audio_path"] for r in rows]
    # one split only; a column that does not exist is named in the error
    rows, _ = ingest_sources([f"hf:{folder}?split=test"], IngestConfig(workers=1), progress=False)
    assert [r["transcript"] for r in rows] == ["hello"]
    with pytest.raises(ValueError, match="column 'sound'"):
        ingest_sources([f"hf:{folder}?audio=sound"], IngestConfig(workers=1), progress=False)


def test_hf_dataset_with_path_column_references_files(tmp_path):
    import datasets

    wav(tmp_path / "set" / "wavs" / "x.wav", 0.6)
    datasets.Dataset.from_dict({
        "file": ["wavs/x.wav", "wavs/missing.wav"], "label": ["Sad", "calm"], "text": ["oh no", "ok"],
    }).save_to_disk(str(tmp_path / "set"))
    rows, errors = ingest_sources([f"hf:{tmp_path / 'set'}?corpus=plain"], IngestConfig(workers=1), progress=False)
    assert [(r["id"], r["corpus"], r["emotion"], r["transcript"]) for r in rows] == [("plain_all_0000000", "plain", "sad", "oh no")]
    assert rows[0]["audio_path"] == str((tmp_path / "set" / "wavs" / "x.wav").resolve())
    assert [e["id"] for e in errors] == ["plain_all_0000001"] and "does not exist" in errors[0]["reason"]


def test_jsonl_and_csv_emotionthinker_format(tmp_path):
    wav(tmp_path / "clips" / "a.wav")
    wav(tmp_path / "clips" / "b.wav")
    lines = [
        {"audio_path": "clips/a.wav", "transcription": "I can't believe it", "emotion": "Surprise", "gender": "Female", "age_level": "Young Adult"},
        {"audio_path": "clips/b.wav", "transcription": "whatever", "emotion": "bored"},
        {"audio_path": "clips/missing.wav", "transcription": "x", "emotion": "sad"},
    ]
    (tmp_path / "et.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n")
    rows, errors = ingest_sources([f"jsonl:{tmp_path / 'et.jsonl'}"], IngestConfig(workers=1), progress=False)
    assert [(r["transcript"], r["emotion"], r["native_label"], r["corpus"]) for r in rows] == [
        ("I can't believe it", "surprise", "Surprise", "et"), ("whatever", None, "bored", "et")]
    assert rows[0]["gender"] == "Female" and rows[0]["age_level"] == "Young Adult"
    reasons = sorted(e["reason"] for e in errors)
    assert len(reasons) == 2 and "does not exist" in reasons[0] and "et.jsonl:4: not valid JSON" in reasons[1]
    (tmp_path / "own.csv").write_text("audio_path,transcript,emotion,speaker_id\nclips/a.wav,hi there,angry,spk1\n")
    rows, errors = ingest_sources([f"csv:{tmp_path / 'own.csv'}?corpus=mine"], IngestConfig(workers=1), progress=False)
    assert errors == [] and (rows[0]["corpus"], rows[0]["emotion"], rows[0]["speaker_id"]) == ("mine", "angry", "spk1")


def _tess_like(root: Path) -> Path:
    for spk in ("OAF", "YAF"):
        for word in ("back", "lid"):
            for emo in ("angry", "happy"):
                wav(root / f"{spk}_{word}_{emo}.wav")
    return root


def test_bad_audio_unknown_label_and_summary(tmp_path):
    root = _tess_like(tmp_path / "tess")
    (root / "OAF_back_angry.wav").write_bytes(b"RIFF not really audio")  # unreadable
    (root / "YAF_lid_happy.wav").write_bytes(b"")  # empty
    wav(root / "YAF_dog_bewildered.wav")  # not a TESS label
    rows, errors = ingest_sources([f"tess={root}"], IngestConfig(workers=2), progress=False)
    assert len(rows) == 7
    reasons = {e["id"]: e["reason"] for e in errors}
    assert "not a readable audio file" in reasons["tess_OAF_back_angry"] and "OAF_back_angry.wav" in reasons["tess_OAF_back_angry"]
    assert "file is empty" in reasons["tess_YAF_lid_happy"]
    odd = next(r for r in rows if r["native_label"] == "bewildered")
    assert odd["emotion"] is None
    s = summarize(rows, errors)
    assert s["without_class"] == {("tess", "unknown label", "bewildered"): 1}
    assert sum(n for (c, _, _), n in s["utterances"].items() if c == "tess") == 7
    assert sum(s["left_out"].values()) == 2
    text = format_summary(rows, errors)
    assert "unknown label" in text and "'bewildered'" in text and "left out: 2 items" in text
    assert "not a readable audio file" in text and "file is empty" in text
    assert "OAF_back_angry.wav" in text and "<path>" not in text  # one of each kind: its own full reason


def test_counts_in_messages_agree_with_their_number():
    from emotioncot.wording import count

    assert [count(n, "clip") for n in (0, 1, 2, 1500)] == ["0 clips", "1 clip", "2 clips", "1,500 clips"]
    assert count(1, "utterance") == "1 utterance" and count(3, "query") == "3 queries" and count(2, "pass") == "2 passes"


def _crossed(n_speakers=12, n_sentences=10):
    """A fully crossed scripted design (every speaker says every sentence), as in CREMA-D."""
    return [
        {"id": f"c_{s}_{t}", "corpus": "c", "speaker_id": f"s{s}", "transcript": f"sentence {t}", "meta": {"sentence_id": f"t{t}"}}
        for s in range(n_speakers) for t in range(n_sentences)
    ]


def test_splits_speaker_and_sentence_disjoint_and_seeded():
    rows = _crossed()
    assign_splits(rows, (0.8, 0.1, 0.1), seed=3)
    by_speaker = {}
    for r in rows:
        by_speaker.setdefault(r["speaker_id"], set()).add(r["split"])
    assert all(len(v) == 1 for v in by_speaker.values())
    assert {r["split"] for r in rows} == {"train", "validation", "test"}
    again = _crossed()
    assign_splits(again, (0.8, 0.1, 0.1), seed=3)
    assert [r["split"] for r in again] == [r["split"] for r in rows]
    other = _crossed()
    assign_splits(other, (0.8, 0.1, 0.1), seed=4)
    assert [r["split"] for r in other] != [r["split"] for r in rows]

    rows = _crossed()
    assign_splits(rows, (0.8, 0.1, 0.1), seed=3, text_disjoint=True)
    kept = [r for r in rows if r["split"]]
    for key in ("speaker_id", "transcript"):
        groups = {}
        for r in kept:
            groups.setdefault(r[key], set()).add(r["split"])
        assert all(len(v) == 1 for v in groups.values()), key
    assert {r["split"] for r in kept} == {"train", "validation", "test"}
    assert 0.5 < len(kept) / len(rows) < 0.8  # crossing costs the off-diagonal cells


def test_official_splits_kept_and_rows_without_speaker():
    rows = [{"id": f"m{i}", "corpus": "meld", "speaker_id": "Joey", "split": s, "meta": {}} for i, s in enumerate(["train", "test"])]
    rows += [{"id": f"x{i}", "corpus": "x", "speaker_id": None, "meta": {}} for i in range(30)]
    assign_splits(rows, (0.8, 0.1, 0.1), seed=1)
    assert [r["split"] for r in rows[:2]] == ["train", "test"]
    assert {r["split"] for r in rows[2:]} == {"train", "validation", "test"}


def test_text_disjoint_over_real_corpora(test_data):
    """EmoDB (one speaker, 10 sentences) and RAVDESS: sentence-disjoint when asked."""
    rows, _ = ingest_sources([f"emodb={test_data / 'emodb'}"], IngestConfig(workers=2, text_disjoint=True), progress=False)
    groups = {}
    for r in rows:
        if r["split"]:
            groups.setdefault(r["transcript"], set()).add(r["split"])
    assert groups and all(len(v) == 1 for v in groups.values())


def test_manifests_complete_and_readers_documented():
    """Every native label a reader can produce is mapped or explicitly excluded in its manifest."""
    from emotioncot.ingest.manifest import label_status, list_manifests, load_manifest
    from emotioncot.ingest.sources import CORPORA, reader_module

    names = {m["name"] for m in list_manifests()}
    assert set(CORPORA) <= names
    for corpus in CORPORA:
        module = reader_module(corpus)
        assert module.__doc__ and len(module.__doc__) > 200, corpus
        manifest = load_manifest(module.NAME)
        for key in ("title", "licence", "homepage", "citation", "layout", "access"):
            assert manifest.get(key), (corpus, key)
        if manifest["access"] == "gated":
            assert manifest.get("request"), corpus
        unmapped = [l for l in module.NATIVE_LABELS if label_status(manifest, l) == "unknown"]
        assert unmapped == [], (corpus, unmapped)
        stray = [l for l in [*manifest["labels"], *(manifest.get("excluded") or [])] if l not in module.NATIVE_LABELS]
        assert stray == [], (corpus, stray)


def test_no_label_a_corpus_manifest_excludes_gets_a_class_from_a_list():
    """A list or dataset of a corpus's clips carries its native labels: every label some corpus manifest leaves out
    (RAVDESS and Expresso calm, EmoDB boredom, IEMOCAP fru ...) must stay without a class there too, not reach one
    through the answer aliases ("calm" reads as neutral in a model's answer). A new manifest exclusion that an
    alias would map fails here until ``STATES_OF_THEIR_OWN`` holds it."""
    from emotioncot.ingest.manifest import list_manifests
    from emotioncot.ingest.sources._common import unified_emotion

    forced = {(m["name"], label): unified_emotion(label, {}) for m in list_manifests()
              for label in (m.get("excluded") or [])}
    assert ("ravdess", "calm") in forced and ("emodb", "boredom") in forced and ("expresso", "bored") in forced
    assert {k: v for k, v in forced.items() if v is not None} == {}


def test_manifest_check_rejects_double_and_foreign_labels():
    from emotioncot.ingest.manifest import ManifestError, check_manifest

    with pytest.raises(ManifestError, match="outside the 9-class"):
        check_manifest({"labels": {"calm": "calm"}}, "x.yaml")
    with pytest.raises(ManifestError, match="both mapped and excluded"):
        check_manifest({"labels": {"calm": "neutral"}, "excluded": ["calm"]}, "x.yaml")


def _cli(*args):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_ingest_writes_table_and_prints_summary(tmp_path):
    import pandas as pd

    root = _tess_like(tmp_path / "tess")
    wav(root / "YAF_dog_bewildered.wav")
    (root / "OAF_lid_happy.wav").write_bytes(b"junk")
    result = _cli("ingest", "--corpus", f"tess={root}", "--out", str(tmp_path / "build"), "--split-seed", "5")
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(tmp_path / "build" / "manifest.parquet")
    assert len(table) == 8 and set(table["corpus"]) == {"tess"}
    assert "tess" in result.output and "unknown label" in result.output and "left out: 1 item\n" in result.output
    assert str(root / "OAF_lid_happy.wav") in result.output  # the failing file is named, not hidden as <path>
    # a file added under the corpus folder redoes the (otherwise cached) ingest
    wav(root / "YAF_dog_sad.wav")
    again = _cli("ingest", "--corpus", f"tess={root}", "--out", str(tmp_path / "build"), "--seed", "5")
    assert again.exit_code == 0 and len(pd.read_parquet(tmp_path / "build" / "manifest.parquet")) == 9
    missing = _cli("ingest", "--corpus", f"ears={tmp_path / 'nothing'}", "--out", str(tmp_path / "b2"))
    assert missing.exit_code != 0 and "nothing" in missing.output


def test_cli_corpora_lists_every_corpus():
    from emotioncot.ingest.sources import CORPORA

    result = _cli("corpora")
    assert result.exit_code == 0
    for corpus in CORPORA:
        assert corpus in result.output
    one = _cli("corpora", "iemocap")
    assert "sail.usc.edu" in one.output and "Session1/dialog/EmoEvaluation" in one.output and "licence" in one.output


def test_demo_goes_through_the_same_ingest_path(demo_corpus):
    rows, errors = ingest_sources(["demo"], IngestConfig(workers=2), progress=False)
    assert errors == [] and len(rows) == 216
    assert all(r["duration_s"] > 0 and r["split"] and r["meta"]["sample_rate"] for r in rows)
    by_speaker = {}
    for r in rows:
        by_speaker.setdefault(r["speaker_id"], set()).add(r["split"])
    assert all(len(v) == 1 for v in by_speaker.values())


def test_error_rows_match_the_schema(tmp_path):
    from emotioncot.schema import ErrorRow

    root = _tess_like(tmp_path / "tess")
    (root / "OAF_back_angry.wav").write_bytes(b"junk")
    wav(root / "nonsense.wav")
    _, errors = ingest_sources([f"tess={root}"], IngestConfig(workers=1), progress=False)
    assert len(errors) == 2
    for e in errors:
        ErrorRow.model_validate({"stage": "ingest", **e})
        assert e["corpus"] == "tess"
