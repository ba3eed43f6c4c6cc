"""A user's own list of real clips (JSONL / CSV, with and without speaker, gender, age, language columns): what
the list says reaches the rows as it says it, what it does not say is not made up, and every bad row is named by
list file and line while the rest go on.

The clips are real recordings from ../shared/data (EmoDB speaker 03, RAVDESS actor 01), reached through a
symlinked folder next to the list, as a user links in a folder of clips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from emotioncot.config import IngestConfig
from emotioncot.ingest.core import ingest_sources


def _emodb_sentences(data: Path) -> dict[str, str]:
    return {r["code"]: r["text"] for r in csv.DictReader((data / "emodb" / "sentences.tsv").open(), delimiter="\t")}


@pytest.fixture
def folder(test_data, tmp_path) -> Path:
    """A list folder with the real clips linked in as ``clips/``."""
    (tmp_path / "clips").symlink_to(test_data)
    return tmp_path


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _no_clustering() -> IngestConfig:
    return IngestConfig(workers=1, cluster_speakers=False, estimate_language=False)


def test_an_age_in_years_gives_the_age_group_marked_as_stated(folder, test_data):
    text = _emodb_sentences(test_data)
    rows = [{"audio_path": f"clips/emodb/wav/{name}", "transcription": text[name[2:5]], "emotion": "happy",
             "speaker": "03", "age": age, "age_level": level}
            for name, age, level in (("03a01Fa.wav", "31", ""), ("03a02Fc.wav", "31", "Middle-aged"),
                                     ("03a04Fd.wav", "", ""))]
    listing = _write_csv(folder / "ages.csv", rows)
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    assert errors == []
    by_name = {Path(r["audio_path"]).name: r for r in got}
    # EmoDB's speaker table: speaker 03 is 31, a young adult (the release's groups: 20-39)
    assert (by_name["03a01Fa.wav"]["age"], by_name["03a01Fa.wav"]["age_level"], by_name["03a01Fa.wav"]["age_source"]) \
        == (31.0, "Young Adult", "metadata")
    # a stated age group wins over the one the years would give
    assert by_name["03a02Fc.wav"]["age_level"] == "Middle-aged"
    # no age given: none stated
    assert (by_name["03a04Fd.wav"]["age_level"], by_name["03a04Fd.wav"]["age_source"]) == (None, None)


RAVDESS_LABELS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
                  "07": "disgust", "08": "surprised"}


def _label_rows(test_data: Path) -> list[dict]:
    """RAVDESS actor 01 labelled as the corpus names its classes, spelled as people type them."""
    rows = []
    for wav in sorted((test_data / "ravdess").glob("*.wav")):
        label = RAVDESS_LABELS[wav.name.split("-")[2]]
        spelled = {"angry": "Angry ", "sad": "SAD", "calm": "Calm "}.get(label, label)
        rows.append({"audio_path": f"clips/ravdess/{wav.name}", "transcription": "Kids are talking by the door.",
                     "emotion": spelled, "speaker": "01"})
    rows.append({"audio_path": "clips/emodb/wav/03a01Nc.wav", "transcription": "Der Lappen liegt auf dem Eisschrank.",
                 "emotion": "frustrated", "speaker": "03"})
    rows.append({"audio_path": "clips/emodb/wav/03a04Lc.wav",
                 "transcription": "Heute abend könnte ich es ihm sagen.", "emotion": "Boredom", "speaker": "03"})
    return rows


def _classes(rows: list[dict]) -> dict[str, set]:
    out: dict[str, set] = {}
    for r in rows:
        out.setdefault(r["native_label"], set()).add(r["emotion"])
    return out


def test_labels_the_corpora_keep_apart_are_not_merged_into_a_class(folder, test_data):
    """RAVDESS `calm` and IEMOCAP `fru` have no class in the corpus manifests; the same words in a user's list
    must not become neutral and angry behind the user's back (they did, through the answer-reading aliases)."""
    listing = _write_csv(folder / "labels.csv", _label_rows(test_data))
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    assert errors == []
    classes = _classes(got)
    assert classes["Calm "] == {None} and classes["frustrated"] == {None} and classes["Boredom"] == {None}
    # the corpus's own class names, in any case and with stray spaces, are mapped
    assert classes["Angry "] == {"angry"} and classes["SAD"] == {"sad"} and classes["fearful"] == {"fear"}
    assert classes["surprised"] == {"surprise"} and classes["disgust"] == {"contempt or disgust"}
    # the same clips read through the corpus reader: calm has no class there either
    from emotioncot.ingest.sources.ravdess import read

    corpus_rows = [r for r in read(test_data / "ravdess", {}) if "error" not in r]
    assert {r["emotion"] for r in corpus_rows if r["native_label"] == "calm"} == {None}
    # merged on purpose, the label map matches it however it is spelled in the list
    mapped, _ = ingest_sources([f"csv:{listing}?labels=calm:neutral,frustrated:"], _no_clustering(), progress=False)
    assert _classes(mapped)["Calm "] == {"neutral"} and _classes(mapped)["frustrated"] == {None}
    # the summary says how to give such a label a class
    from emotioncot.ingest.core import format_summary

    assert "?labels=NATIVE:CLASS" in format_summary(got, errors)
    # and counts them as kept apart, not as labels it does not know
    from emotioncot.ingest.core import taxonomy_exclusions

    why = {e["native_label"]: e["why"] for e in taxonomy_exclusions(got)}
    assert why == {"Calm ": "kept apart (?labels=)", "frustrated": "kept apart (?labels=)", "Boredom": "unknown label"}


def test_an_hf_dataset_maps_labels_as_a_list_does(test_data, tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = _label_rows(test_data)
    ds = datasets.Dataset.from_dict({
        "audio": [str((test_data / r["audio_path"].removeprefix("clips/")).resolve()) for r in rows],
        "emotion": [r["emotion"] for r in rows], "text": [r["transcription"] for r in rows],
        "speaker": [r["speaker"] for r in rows]})
    ds.save_to_disk(str(tmp_path / "mine"))
    got, errors = ingest_sources([f"hf:{tmp_path / 'mine'}"], _no_clustering(), progress=False)
    assert errors == [] and len(got) == len(rows)
    classes = _classes(got)
    assert classes["Calm "] == {None} and classes["frustrated"] == {None} and classes["Angry "] == {"angry"}


def test_every_bad_row_is_named_by_list_file_and_line_and_the_rest_go_on(folder, test_data):
    """A missing file, an unreadable one and a repeated clip are found after the list is read (in the audio
    headers, in the id check); their errors name the list line all the same, and the duplicate names the line it
    repeats. Every error counts under the list's corpus, not under "csv"."""
    text = _emodb_sentences(test_data)
    (folder / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt not a real header")
    good = [{"audio_path": f"clips/emodb/wav/{name}", "transcription": text[name[2:5]], "emotion": "neutral",
             "speaker": "03", "age": "31"} for name in ("03a01Nc.wav", "03a02Nc.wav", "03a04Nc.wav")]
    bad = [{**good[0], "audio_path": "clips/emodb/wav/03x99Nz.wav"},  # line 5: no such file
           {**good[0], "audio_path": "corrupt.wav"},  # line 6
           {**good[1], "age": "thirty"},  # line 7
           dict(good[2])]  # line 8: line 4 again
    listing = _write_csv(folder / "mine.csv", good + bad)
    with listing.open("a") as fh:
        fh.write("clips/emodb/wav/03a05Nc.wav,too,many,fields,for,the,header\n")  # line 9
    got, errors = ingest_sources([f"csv:{listing}?corpus=mine"], _no_clustering(), progress=False)
    assert sorted(Path(r["audio_path"]).name for r in got) == ["03a01Nc.wav", "03a02Nc.wav", "03a04Nc.wav"]
    by_line = {}
    for e in errors:
        assert e["reason"].startswith(f"{listing}:"), e
        by_line[int(e["reason"][len(str(listing)) + 1:].split(":")[0])] = e
    assert sorted(by_line) == [5, 6, 7, 8, 9]
    assert "03x99Nz.wav" in by_line[5]["reason"] and "does not exist" in by_line[5]["reason"]
    assert "corrupt.wav" in by_line[6]["reason"] and "not a readable audio file" in by_line[6]["reason"]
    assert "age is 'thirty', expected a number" in by_line[7]["reason"]
    assert f"the same clip as {listing}:4" in by_line[8]["reason"]
    assert "7 fields, the header has 5" in by_line[9]["reason"]
    assert {e["corpus"] for e in errors} == {"mine"}
    # each kept row says which list line it came from
    assert sorted(r["meta"]["list_row"] for r in got) == [f"{listing}:{n}" for n in (2, 3, 4)]


def test_column_names_are_read_whatever_their_case(folder, test_data):
    """A header written `Audio_Path,Transcription,Emotion,Speaker,Gender` (as a spreadsheet exports it) was read as
    unknown columns: every row failed for want of an audio path, and with only `Emotion` capitalised every clip
    would have lost its label without a word."""
    text = _emodb_sentences(test_data)
    rows = [{" Audio_Path": f"clips/emodb/wav/{name}", "Transcription": text[name[2:5]], "Emotion ": emotion,
             "SPEAKER": "03", "Gender": "male", "Recorded": "2024"}
            for name, emotion in (("03a01Wa.wav", "angry"), ("03a01Nc.wav", "neutral"))]
    listing = _write_csv(folder / "caps.csv", rows)
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    assert errors == []
    assert sorted((r["emotion"], r["speaker_id"], r["gender"], r["transcript"][:9]) for r in got) == [
        ("angry", "03", "Male", "Der Lappe"), ("neutral", "03", "Male", "Der Lappe")]
    assert all(r["meta"]["Recorded"] == "2024" for r in got)  # a column of the user's own keeps its name
    (folder / "caps.jsonl").write_text(json.dumps({"Path": "clips/emodb/wav/03a01Wa.wav", "Label": "Angry"}) + "\n")
    got, errors = ingest_sources([f"jsonl:{folder / 'caps.jsonl'}"], _no_clustering(), progress=False)
    assert errors == [] and [r["emotion"] for r in got] == ["angry"]
    # a list with no audio column at all says which columns it has
    (folder / "noaudio.csv").write_text("file,emotion\nclips/emodb/wav/03a01Wa.wav,angry\n")
    got, errors = ingest_sources([f"csv:{folder / 'noaudio.csv'}"], _no_clustering(), progress=False)
    assert got == [] and "noaudio.csv:2: no audio_path (columns: file, emotion" in errors[0]["reason"]


def test_a_gender_the_list_does_not_state_costs_no_clip_and_is_not_made_up(folder, test_data):
    """`unknown` and `other` refused the whole row (the schema knows Male and Female only); `woman` did too,
    though the hf: reader reads it. Now: the two genders in their usual spellings, none stated for the rest,
    and a value that is neither is an error that shows the value."""
    text = _emodb_sentences(test_data)
    given = {"03a01Fa.wav": "Unknown", "03a01Nc.wav": "other", "03a01Wa.wav": "Man", "03a02Fc.wav": "w",
             "03a02Nc.wav": "F", "03a02Ta.wav": "mael"}
    rows = [{"audio_path": f"clips/emodb/wav/{name}", "transcription": text[name[2:5]], "emotion": "happy",
             "speaker": f"s{n}", "gender": g} for n, (name, g) in enumerate(given.items())]
    listing = _write_csv(folder / "genders.csv", rows)
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    by_name = {Path(r["audio_path"]).name: r for r in got}
    assert set(by_name) == set(given) - {"03a02Ta.wav"}
    assert {n: (r["gender"], r["gender_source"]) for n, r in by_name.items()} == {
        "03a01Fa.wav": (None, None), "03a01Nc.wav": (None, None), "03a01Wa.wav": ("Male", "metadata"),
        "03a02Fc.wav": ("Female", "metadata"), "03a02Nc.wav": ("Female", "metadata")}
    assert by_name["03a01Fa.wav"]["meta"]["gender_given"] == "Unknown"
    assert [e["reason"] for e in errors] == [
        f"{listing}:7: gender is 'mael'; expected male or female (m/f, man/woman), or unknown/other to state none"]


def test_a_speaker_the_list_calls_other_gets_no_gender_from_the_voice(folder, test_data, tmp_path):
    """RAVDESS actor 01 (median F0 140 Hz) is estimated Male where the list says `unknown`; where it says `other`
    no estimate may state Male or Female, in the rows or in the text."""
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import build

    wavs = sorted((test_data / "ravdess").glob("*.wav"))[:8]
    rows = [{"audio_path": f"clips/ravdess/{w.name}", "transcription": "Kids are talking by the door.",
             "emotion": RAVDESS_LABELS[w.name.split("-")[2]], "speaker": "a" if n < 4 else "b",
             "gender": "other" if n < 4 else "unknown"} for n, w in enumerate(wavs)]
    listing = _write_csv(folder / "other.csv", rows)
    config = BuildConfig()
    config.report.enabled = False
    config.ingest.estimate_language = False
    build([f"csv:{listing}"], tmp_path / "out", config, progress=False, log=lambda m: None)
    records = [json.loads(line) for line in (tmp_path / "out" / "emotioncot.jsonl").read_text().splitlines()]
    genders = {(r["speaker_id"], r["gender"], r["gender_source"]) for r in records}
    assert genders == {("a", None, None), ("b", "Male", "estimated")}
    for r in records:
        if r["speaker_id"] == "a":
            text = f"{r['caption']} {r['cot_analysis']}".lower()
            assert not any(word in text.split() for word in ("male", "female", "man", "woman")), text


def test_a_clip_put_in_place_after_the_build_is_found_by_the_rerun(folder, test_data, tmp_path):
    """The ingest of a list was kept as long as the list file was unchanged: a missing clip copied in afterwards
    kept its 'file does not exist' on every rerun, --retry-failed included, and a clip replaced after the build kept
    the record of the old audio. Now the rerun finds the clip, measures it and makes its record, the next unchanged
    rerun skips every stage again, and a clip broken afterwards loses its record with the reason."""
    import shutil

    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import build

    text = _emodb_sentences(test_data)
    names = ("03a01Wa.wav", "03a02Wb.wav", "03a04Wc.wav", "03a05Wa.wav")
    rows = [{"audio_path": f"clips/emodb/wav/{name}", "transcription": text[name[2:5]], "emotion": "angry",
             "speaker": "03", "gender": "male", "language": "de"} for name in names[:3]]
    rows.append({**rows[0], "audio_path": "late/03a05Wa.wav", "transcription": text["a05"]})
    listing = _write_csv(folder / "late.csv", rows)
    config = BuildConfig()
    config.report.enabled = False
    out = tmp_path / "out"

    def records() -> list[str]:
        return sorted(Path(json.loads(line)["audio_path"]).name
                      for line in (out / "emotioncot.jsonl").read_text().splitlines())

    first = build([f"csv:{listing}"], out, config, progress=False, log=lambda m: None)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert records() == sorted(names[:3]) and first["errors"] == 1
    assert errors[0]["reason"] == f"{listing}:5: {folder / 'late' / '03a05Wa.wav'}: file does not exist"
    (folder / "late").mkdir()
    shutil.copy(test_data / "emodb" / "wav" / "03a05Wa.wav", folder / "late" / "03a05Wa.wav")
    second = build([f"csv:{listing}"], out, config, progress=False, log=lambda m: None)
    assert records() == sorted(names) and second["errors"] == 0
    assert (out / "errors.jsonl").read_text().strip() == ""
    third = build([f"csv:{listing}"], out, config, progress=False, log=lambda m: None)
    assert set(third["skipped"]) == {"ingest", "measure", "calibrate", "write", "filter", "export"}
    # --retry-failed reads a clip that is still broken again, and redoes nothing after ingest when it still fails
    (folder / "late" / "03a05Wa.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt broken")
    build([f"csv:{listing}"], out, config, progress=False, log=lambda m: None)
    assert records() == sorted(names[:3])
    again = build([f"csv:{listing}"], out, config, progress=False, log=lambda m: None, retry_failed=True)
    assert "ingest" not in again["skipped"] and {"calibrate", "write", "filter", "export"} <= set(again["skipped"])
    assert records() == sorted(names[:3]) and again["errors"] == 1


def test_a_language_given_by_name_or_in_capitals_is_the_code_the_measure_stage_reads(folder, test_data):
    """`English` was kept as written: no eSpeak voice, so no syllable count and no speaking rate for any clip; the
    card listed `english` as a language."""
    from emotioncot.measure.syllables import transcript_syllables

    text = _emodb_sentences(test_data)
    given = {"03a01Fa.wav": "German", "03a01Nc.wav": "DE", "03a01Wa.wav": "de-DE", "03a02Fc.wav": "Klingonese"}
    rows = [{"audio_path": f"clips/emodb/wav/{name}", "transcription": text[name[2:5]], "emotion": "happy",
             "speaker": "03", "language": language} for name, language in given.items()]
    rows.append({"audio_path": "clips/ravdess/01-01-01-01-01-01-01.wav", "transcription": "Kids are talking by the door.",
                 "emotion": "neutral", "speaker": "01", "language": "English"})
    listing = _write_csv(folder / "languages.csv", rows)
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    languages = {Path(r["audio_path"]).name: r["language"] for r in got}
    assert languages == {"03a01Fa.wav": "de", "03a01Nc.wav": "de", "03a01Wa.wav": "de-DE",
                         "01-01-01-01-01-01-01.wav": "en"}
    assert all(r["language_source"] == "metadata" for r in got)
    assert [e["reason"].split(": ", 1)[1] for e in errors] == [
        "language is 'Klingonese'; expected an ISO 639-1 code (en, de, fr ...), a locale (en-GB) or a language's "
        "English name (German)"]
    english = next(r for r in got if r["language"] == "en")
    assert transcript_syllables(english["transcript"], english["language"])[0] == 7  # Kids are talk-ing by the door
    # an hf: dataset's language column is read the same way
    datasets = pytest.importorskip("datasets")
    # (a value that is no language leaves the row's language unstated there: a dataset is not edited as a list is)
    wavs = [str(test_data / "ravdess" / name) for name in ("01-01-01-01-01-01-01.wav", "01-01-03-01-01-01-01.wav")]
    ds = datasets.Dataset.from_dict({"audio": wavs, "emotion": ["neutral", "happy"], "speaker": ["01", "01"],
                                     "text": ["Kids are talking by the door."] * 2, "language": ["English", "Klingonese"]})
    ds.save_to_disk(str(folder / "hf"))
    got, errors = ingest_sources([f"hf:{folder / 'hf'}"], _no_clustering(), progress=False)
    assert errors == [] and [(r["language"], r["meta"].get("language_given")) for r in got] == [
        ("en", None), (None, "Klingonese")]


def _partly_named_list(folder: Path, test_data: Path) -> Path:
    """EmoDB 03's clips, every other one naming its speaker (24 named, 25 not), and RAVDESS 01's, none named."""
    text = _emodb_sentences(test_data)
    emodb = sorted((test_data / "emodb" / "wav").glob("*.wav"))
    rows = [{"audio_path": f"clips/emodb/wav/{w.name}", "transcription": text[w.name[2:5]], "emotion": "neutral",
             "speaker": "03" if n % 2 else ""} for n, w in enumerate(emodb)]
    rows += [{"audio_path": f"clips/ravdess/{w.name}", "transcription": "Kids are talking by the door.",
              "emotion": "neutral", "speaker": ""} for w in sorted((test_data / "ravdess").glob("*.wav"))]
    return _write_csv(folder / "mine.csv", rows)


def test_clips_without_an_id_of_a_named_speaker_stay_in_that_speakers_split(folder, test_data):
    """A list that names the speaker of some clips only: the others were clustered among themselves into a
    speaker of their own (`mine-spk01`), dealt into a split of its own, so EmoDB speaker 03's voice could be in
    train and in test. They now cluster with the named clips and take that speaker's id, marked clustered."""
    pytest.importorskip("resemblyzer")
    listing = _partly_named_list(folder, test_data)
    config = IngestConfig(workers=1, estimate_language=False)
    got, errors = ingest_sources([f"csv:{listing}"], config, progress=False)
    assert errors == []
    emodb_rows = [r for r in got if "/emodb/" in r["audio_path"]]
    assert {r["speaker_id"] for r in emodb_rows} == {"03"}
    assert {r["speaker_source"] for r in emodb_rows} == {"metadata", "clustered"}
    assert len({r["split"] for r in emodb_rows}) == 1
    ravdess_rows = [r for r in got if "/ravdess/" in r["audio_path"]]
    assert len({r["speaker_id"] for r in ravdess_rows}) == 1 and ravdess_rows[0]["speaker_id"] != "03"
    # the summary says how many took a named speaker's id
    info = next(r for r in emodb_rows if r["speaker_source"] == "clustered")["meta"]["speaker_clustering"]
    assert info["joined_named_speakers"] == 25 and info["clusters"] == 2  # 25 EmoDB clips had no id


def test_a_list_naming_most_speakers_is_not_refused_for_the_clips_it_does_not_name(folder, test_data):
    """The clips without an id (here 40) are what ``ingest.max_cluster_clips`` bounds: the named speakers' clips
    (24) join the clustering only as far as the rest of the bound allows (5), and still draw their speaker's
    unnamed clips to them. Counting them against the bound refused the list."""
    pytest.importorskip("resemblyzer")
    listing = _partly_named_list(folder, test_data)
    config = IngestConfig(workers=1, estimate_language=False, max_cluster_clips=45)
    got, errors = ingest_sources([f"csv:{listing}"], config, progress=False)
    assert errors == []
    emodb_rows = [r for r in got if "/emodb/" in r["audio_path"]]
    assert {r["speaker_id"] for r in emodb_rows} == {"03"} and len({r["split"] for r in emodb_rows}) == 1
    info = next(r for r in emodb_rows if r["speaker_source"] == "clustered")["meta"]["speaker_clustering"]
    assert info["joined_named_speakers"] == 25 and info["clips"] == 40


def test_a_split_column_that_puts_a_speaker_in_two_splits_is_said_at_once_and_can_be_dealt_again(folder, test_data,
                                                                                                   tmp_path):
    """A list's own split column is kept as given; one that put EmoDB speaker 03 in train and test built without a
    word, and only `validate` failed afterwards. The build says so, and ?splits=reassign (as for hf:) deals
    speaker-disjoint splits instead."""
    from emotioncot.config import BuildConfig
    from emotioncot.ingest.core import format_summary
    from emotioncot.pipeline import build

    text = _emodb_sentences(test_data)
    emodb = sorted((test_data / "emodb" / "wav").glob("*.wav"))[:9]
    rows = [{"audio_path": f"clips/emodb/wav/{w.name}", "transcription": text[w.name[2:5]], "emotion": "neutral",
             "speaker": "03", "split": ("train", "validation", "test")[n % 3]} for n, w in enumerate(emodb)]
    rows += [{"audio_path": f"clips/ravdess/{w.name}", "transcription": "Kids are talking by the door.",
              "emotion": "neutral", "speaker": "01", "split": ""} for w in sorted((test_data / "ravdess").glob("*.wav"))]
    listing = _write_csv(folder / "split.csv", rows)
    got, errors = ingest_sources([f"csv:{listing}"], _no_clustering(), progress=False)
    assert errors == [] and {r["split"] for r in got if r["speaker_id"] == "03"} == {"train", "validation", "test"}
    assert "warning: speaker '03' of split is in 3 splits (test, train, validation)" in format_summary(got, errors)
    config = BuildConfig()
    config.report.enabled = False
    said: list[str] = []
    build([f"csv:{listing}"], tmp_path / "out", config, progress=False, log=said.append)
    assert any("speaker '03' of split is in 3 splits" in line and "?splits=reassign" in line for line in said)
    dealt, _ = ingest_sources([f"csv:{listing}?splits=reassign"], _no_clustering(), progress=False)
    assert all(len({r["split"] for r in dealt if r["speaker_id"] == s}) == 1 for s in ("03", "01"))
    assert "in 3 splits" not in format_summary(dealt, [])


def test_an_hf_datasets_gender_other_withholds_the_estimate_as_a_lists_does(test_data, tmp_path):
    datasets = pytest.importorskip("datasets")
    from emotioncot.stream import withholds_gender

    wavs = sorted((test_data / "ravdess").glob("*.wav"))[:3]
    datasets.Dataset.from_dict({"audio": [str(w) for w in wavs], "emotion": ["neutral"] * 3,
                                "speaker": ["a", "b", "c"], "gender": ["other", "unknown", "woman"]}
                               ).save_to_disk(str(tmp_path / "set"))
    got, errors = ingest_sources([f"hf:{tmp_path / 'set'}"], _no_clustering(), progress=False)
    by_speaker = {r["speaker_id"]: r for r in got}
    assert errors == [] and {s: r["gender"] for s, r in by_speaker.items()} == {"a": None, "b": None, "c": "Female"}
    assert [withholds_gender(by_speaker[s]) for s in "abc"] == [True, False, False]
    assert by_speaker["a"]["meta"]["gender_given"] == "other"


def test_the_source_kind_decides_how_a_list_is_read_not_its_suffix(folder, test_data):
    """`csv:clips.txt` was read as JSON Lines (only a `.csv` suffix made a list CSV): every row 'not valid JSON'."""
    (folder / "clips.txt").write_text("audio_path,emotion,speaker\nclips/emodb/wav/03a01Wa.wav,angry,03\n")
    got, errors = ingest_sources([f"csv:{folder / 'clips.txt'}"], _no_clustering(), progress=False)
    assert errors == [] and [(r["emotion"], r["speaker_id"]) for r in got] == [("angry", "03")]
    (folder / "clips.list").write_text(json.dumps({"audio_path": "clips/emodb/wav/03a01Wa.wav", "emotion": "angry"}))
    got, errors = ingest_sources([f"jsonl:{folder / 'clips.list'}"], _no_clustering(), progress=False)
    assert errors == [] and [r["emotion"] for r in got] == ["angry"]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_list_separated_by_semicolons_or_tabs_is_read(folder, separator):
    """A spreadsheet saved where the decimal mark is a comma writes `;`; a .tsv has tabs. Both were one column."""
    lines = [["audio_path", "transcription", "emotion", "speaker", "age"],
             ["clips/emodb/wav/03a01Wa.wav", "Der Lappen liegt auf dem Eisschrank.", "angry", "03", "31"]]
    (folder / "sep.csv").write_text("".join(separator.join(line) + "\n" for line in lines))
    got, errors = ingest_sources([f"csv:{folder / 'sep.csv'}"], _no_clustering(), progress=False)
    assert errors == [] and [(r["emotion"], r["speaker_id"], r["transcript"], r["age"]) for r in got] == [
        ("angry", "03", "Der Lappen liegt auf dem Eisschrank.", 31.0)]


def test_an_empty_list_says_it_is_empty(tmp_path):
    from emotioncot.errors import BuildError
    from emotioncot.pipeline import build

    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(BuildError) as caught:
        build([f"jsonl:{tmp_path / 'empty.jsonl'}"], tmp_path / "out", progress=False, log=lambda m: None)
    assert str(caught.value).endswith("the sources gave no items at all (an empty list, or a folder with no clips "
                                      "where its layout puts them)")
    assert not (tmp_path / "out").exists()


def test_the_release_field_names_are_read_as_the_release_means_them(folder):
    """EmotionThinker's release names the age group `age_group` (read_jsonl and the filter read it so); a list in
    that format lost its age groups to `meta`."""
    line = {"audio_path": "clips/emodb/wav/03a01Wa.wav", "transcription": "Der Lappen liegt auf dem Eisschrank.",
            "gt": "angry", "gender_new": "Male", "age_group": "Young Adult"}
    (folder / "release.jsonl").write_text(json.dumps(line) + "\n")
    got, errors = ingest_sources([f"jsonl:{folder / 'release.jsonl'}"], _no_clustering(), progress=False)
    assert errors == []
    assert [(r["emotion"], r["gender"], r["age_level"], r["age_source"]) for r in got] == [
        ("angry", "Male", "Young Adult", "metadata")]
