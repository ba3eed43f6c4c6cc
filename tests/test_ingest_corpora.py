"""Each corpus as a miniature tree in its real distribution layout (real file-name schemes, label-file
syntax and metadata columns, from the corpora's documentation) with generated audio, read through the one
ingest path and checked row by row. CREMA-D, EmoDB and RAVDESS use the real files in ../shared/data."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emotioncot.config import IngestConfig
from emotioncot.ingest import ingest_sources
from emotioncot.ingest.sources._common import CorpusLayoutError


def wav(path: Path, seconds: float = 0.5, rate: int = 16000, channels: int = 1, freq: float = 220.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * np.pi * freq * t)
    data = np.stack([tone] * channels, axis=1) if channels > 1 else tone
    sf.write(str(path), data, rate, subtype="PCM_16")
    return path


def media(path: Path, seconds: float = 1.0, rate: int = 48000, video: bool = True) -> Path:
    """A small mp4 (video + AAC audio) or m4a (AAC only) written with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    out = av.open(str(path), "w", format="mp4")
    vs = out.add_stream("mpeg4", rate=10) if video else None
    audio = out.add_stream("aac", rate=rate)
    audio.layout = "stereo"
    if vs is not None:
        vs.width, vs.height, vs.pix_fmt = 32, 32, "yuv420p"
        for i in range(int(seconds * 10)):
            img = np.full((32, 32, 3), i * 20 % 255, np.uint8)
            for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
    n = int(seconds * rate)
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / rate)).astype(np.float32)
    for start in range(0, n, 1024):
        chunk = np.ascontiguousarray(np.stack([tone[start:start + 1024]] * 2))
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, start
        for packet in audio.encode(frame):
            out.mux(packet)
    for packet in audio.encode():
        out.mux(packet)
    out.close()
    return path


def ingest(spec: str, **config):
    rows, errors = ingest_sources([spec], IngestConfig(workers=2, **config), progress=False)
    return {r["id"]: r for r in rows}, errors


# ---------------------------------------------------------------- real recordings


def test_emodb_real_recordings(test_data):
    rows, errors = ingest(f"emodb={test_data / 'emodb'}")
    assert errors == []
    assert len(rows) == len(list((test_data / "emodb" / "wav").glob("*.wav"))) == 49
    r = rows["emodb_03a01Fa"]
    assert (r["speaker_id"], r["gender"], r["age"], r["age_level"]) == ("03", "Male", 31, "Young Adult")
    assert (r["native_label"], r["emotion"], r["language"]) == ("happiness", "happy", "de")
    assert r["transcript"] == "Der Lappen liegt auf dem Eisschrank."
    assert r["meta"]["sentence_id"] == "a01" and r["meta"]["sample_rate"] == 16000
    # the manifest's sentence table agrees with the corpus's own sentences.tsv
    with open(test_data / "emodb" / "sentences.tsv", encoding="utf-8") as fh:
        texts = {row["code"]: row["text"] for row in csv.DictReader(fh, delimiter="\t")}
    for r in rows.values():
        assert r["transcript"] == texts[r["meta"]["sentence_id"]]
        info = sf.info(r["audio_path"])
        assert r["duration_s"] == pytest.approx(info.frames / info.samplerate)
    boredom = [r for r in rows.values() if r["native_label"] == "boredom"]
    assert boredom and all(r["emotion"] is None for r in boredom)
    assert {r["emotion"] for r in rows.values() if r["id"][-2] == "W"} == {"angry"}


def test_ravdess_real_recordings(test_data, tmp_path):
    # the real files, inside the Actor_NN folder the Zenodo zip unpacks to
    actor = tmp_path / "Actor_01"
    actor.mkdir()
    for f in (test_data / "ravdess").glob("*.wav"):
        (actor / f.name).symlink_to(f)
    rows, errors = ingest(f"ravdess={tmp_path}")
    assert errors == [] and len(rows) == 15
    r = rows["ravdess_01-01-06-02-01-01-01"]
    assert (r["native_label"], r["emotion"], r["speaker_id"], r["gender"]) == ("fearful", "fear", "01", "Male")
    assert r["transcript"] == "Kids are talking by the door."
    assert r["meta"]["intensity"] == "strong" and r["meta"]["sample_rate"] == 48000 and r["meta"]["channels"] == 2
    assert rows["ravdess_01-01-02-01-01-01-01"]["emotion"] is None  # calm: excluded, kept
    assert rows["ravdess_01-01-07-01-01-01-01"]["emotion"] == "contempt or disgust"


def test_corpus_folder_linked_in_from_shared_storage(test_data, tmp_path):
    # wav/ is a symlink, as when a corpus is linked from shared storage; Path.rglob does not follow it before 3.13
    root = tmp_path / "emodb"
    root.mkdir()
    (root / "wav").symlink_to(test_data / "emodb" / "wav", target_is_directory=True)
    for name in ("speakers.tsv", "sentences.tsv"):
        shutil.copy(test_data / "emodb" / name, root)
    rows, errors = ingest(f"emodb={root}")
    assert errors == [] and len(rows) == 49
    # a whole corpus folder that is itself a link, with a link back up inside it, is read once and ends
    actors = tmp_path / "store" / "Actor_01"
    actors.mkdir(parents=True)
    for f in (test_data / "ravdess").glob("*.wav"):
        (actors / f.name).symlink_to(f)
    (actors / "up").symlink_to(tmp_path / "store", target_is_directory=True)
    (tmp_path / "ravdess").symlink_to(tmp_path / "store", target_is_directory=True)
    rows, errors = ingest(f"ravdess={tmp_path / 'ravdess'}")
    assert len(rows) == 15, errors


def test_ravdess_song_and_female_actor(tmp_path):
    wav(tmp_path / "Actor_02" / "03-01-03-01-02-01-02.wav")
    wav(tmp_path / "Actor_02" / "03-02-03-01-02-01-02.wav")  # song
    wav(tmp_path / "Actor_02" / "notes.wav")
    rows, errors = ingest(f"ravdess={tmp_path}")
    r = rows["ravdess_03-01-03-01-02-01-02"]
    assert (r["gender"], r["emotion"], r["transcript"]) == ("Female", "happy", "Dogs are sitting by the door.")
    reasons = sorted(e["reason"] for e in errors)
    assert len(reasons) == 2 and "not a RAVDESS file name" in reasons[0] and "song" in reasons[1]


def _crema_tree(test_data, tmp_path, clips):
    root = tmp_path / "CREMA-D"
    (root / "processedResults").mkdir(parents=True)
    shutil.copy(test_data / "crema-d" / "VideoDemographics.csv", root)
    shutil.copy(test_data / "crema-d" / "summaryTable.csv", root / "processedResults")
    for clip in clips:
        wav(root / "AudioWAV" / f"{clip}.wav")
    return root


def test_crema_d_real_metadata(test_data, tmp_path):
    with open(test_data / "crema-d" / "summaryTable.csv", newline="") as fh:
        summary = {row["FileName"]: row for row in csv.DictReader(fh)}
    with open(test_data / "crema-d" / "VideoDemographics.csv", newline="") as fh:
        people = {row["ActorID"]: row for row in csv.DictReader(fh)}
    tie = next(name for name, row in summary.items() if ":" in row["VoiceVote"])
    clips = ["1001_IEO_NEU_XX", "1001_IEO_HAP_LO", "1002_DFA_ANG_XX", "1091_WSI_SAD_XX", tie]
    root = _crema_tree(test_data, tmp_path, clips)
    rows, errors = ingest(f"crema_d={root}")
    assert errors == [] and set(rows) == {f"crema_d_{c}" for c in clips}
    r = rows["crema_d_1001_IEO_HAP_LO"]
    assert (r["native_label"], r["emotion"], r["speaker_id"]) == ("HAP", "happy", "1001")
    assert (r["gender"], r["age"]) == ("Male", 51.0) and r["transcript"] == "It's eleven o'clock."
    # voice-only majority for this clip is neutral although the actor acted happy
    assert r["soft_labels"] == {"neutral": 1.0}
    assert r["meta"]["crowd"]["face"]["vote"] == ["H"] and r["meta"]["crowd"]["voice"]["level"] == [71.67]
    assert r["meta"]["level"] == "low" and r["meta"]["sentence_id"] == "IEO"
    r = rows["crema_d_1002_DFA_ANG_XX"]
    assert (r["gender"], r["age"], r["transcript"]) == ("Female", 21.0, "Don't forget a jacket.")
    for clip in clips:
        actor = clip[:4]
        row = rows[f"crema_d_{clip}"]
        assert row["gender"] == people[actor]["Sex"] and row["age"] == float(people[actor]["Age"])
        votes = summary[clip]["VoiceVote"].split(":")
        assert row["soft_labels"] == pytest.approx({
            {"A": "angry", "D": "contempt or disgust", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}[v]: 1 / len(votes)
            for v in votes
        })


def test_crema_d_missing_vote_table_names_path(test_data, tmp_path):
    root = _crema_tree(test_data, tmp_path, ["1001_IEO_NEU_XX"])
    (root / "processedResults" / "summaryTable.csv").unlink()
    with pytest.raises(FileNotFoundError, match="processedResults/summaryTable.csv"):
        ingest(f"crema_d={root}")


# ---------------------------------------------------------------- generated trees


def test_tess_flat_and_kaggle_layouts(tmp_path):
    wav(tmp_path / "flat" / "OAF_back_angry.wav", rate=24414)
    wav(tmp_path / "flat" / "YAF_lid_ps.wav", rate=24414)
    kaggle = tmp_path / "kaggle" / "TESS Toronto emotional speech set data"
    wav(kaggle / "OAF_Pleasant_surprise" / "OAF_chair_ps.wav")
    wav(kaggle / "YAF_sad" / "YAF_chair_sad.wav")
    rows, errors = ingest(f"tess={tmp_path / 'flat'}")
    assert errors == []
    r = rows["tess_OAF_back_angry"]
    assert (r["speaker_id"], r["gender"], r["age"], r["age_level"]) == ("OAF", "Female", 64, "Elderly")
    assert (r["emotion"], r["transcript"], r["meta"]["sentence_id"]) == ("angry", "Say the word back.", "back")
    assert rows["tess_YAF_lid_ps"]["emotion"] == "surprise" and rows["tess_YAF_lid_ps"]["age_level"] == "Young Adult"
    rows, errors = ingest(f"tess={tmp_path / 'kaggle'}")
    assert set(rows) == {"tess_OAF_chair_ps", "tess_YAF_chair_sad"} and rows["tess_OAF_chair_ps"]["native_label"] == "ps"


def test_savee_original_and_flat_layouts(tmp_path):
    for name in ("a01", "n30", "sa15", "su02"):
        wav(tmp_path / "orig" / "AudioData" / "DC" / f"{name}.wav", rate=44100)
    wav(tmp_path / "orig" / "AudioData" / "AudioData" / "DC" / "a01.wav")  # nested duplicate in some downloads
    wav(tmp_path / "flat" / "ALL" / "JK_d03.wav")
    wav(tmp_path / "flat" / "ALL" / "KL_h15.wav")
    rows, errors = ingest(f"savee={tmp_path / 'orig'}")
    assert set(rows) == {"savee_DC_a01", "savee_DC_n30", "savee_DC_sa15", "savee_DC_su02"}
    assert [e["reason"] for e in errors] == ["second copy of the same clip"]
    assert [rows[f"savee_DC_{c}"]["emotion"] for c in ("a01", "n30", "sa15", "su02")] == ["angry", "neutral", "sad", "surprise"]
    assert all(r["gender"] == "Male" and r["speaker_id"] == "DC" for r in rows.values())
    rows, _ = ingest(f"savee={tmp_path / 'flat'}")
    assert rows["savee_JK_d03"]["emotion"] == "contempt or disgust" and rows["savee_KL_h15"]["speaker_id"] == "KL"


def test_mead_m4a_through_pyav(tmp_path):
    media(tmp_path / "M003" / "audio" / "angry" / "level_3" / "001.m4a", 0.8, 44100, video=False)
    media(tmp_path / "W009" / "audio" / "contempt" / "level_1" / "012.m4a", 0.6, 48000, video=False)
    media(tmp_path / "W009" / "audio" / "neutral" / "level_1" / "040.m4a", 0.5, 48000, video=False)
    rows, errors = ingest(f"mead={tmp_path}")
    assert errors == []
    r = rows["mead_M003_angry_level_3_001"]
    assert (r["speaker_id"], r["gender"], r["emotion"], r["meta"]["intensity"]) == ("M003", "Male", "angry", 3)
    assert r["duration_s"] == pytest.approx(0.8, abs=0.03) and r["meta"]["sample_rate"] == 44100
    r = rows["mead_W009_contempt_level_1_012"]
    assert (r["gender"], r["native_label"], r["emotion"]) == ("Female", "contempt", "contempt or disgust")


def _esd_tree(root: Path, variant: str):
    base = root / "Emotion Speech Dataset"
    lines_en = ["0011_000001\tThe nine the eggs.\tNeutral", "0011_000351\tThe nine the eggs.\tAngry", "", "garbage line"]
    (base / "0011").mkdir(parents=True)
    (base / "0011" / "0011.txt").write_bytes(("\n".join(lines_en) + "\n").encode("utf-16"))
    (base / "0001").mkdir(parents=True)
    (base / "0001" / "0001.txt").write_bytes("0001_000701\t打远一看，它们的确很是美丽。\t快乐\n".encode("gb2312"))
    sub = (lambda split: f"{split}/") if variant == "split" else (lambda split: "")
    wav(base / "0011" / "Neutral" / f"{sub('evaluation')}0011_000001.wav")
    wav(base / "0011" / "Angry" / f"{sub('train')}0011_000351.wav")
    wav(base / "0001" / "Happy" / f"{sub('test')}0001_000701.wav")
    return root


@pytest.mark.parametrize("variant", ["split", "flat"])
def test_esd_both_layouts_and_encodings(tmp_path, variant):
    rows, errors = ingest(f"esd={_esd_tree(tmp_path, variant)}")
    assert errors == [] and len(rows) == 3
    r = rows["esd_0011_000351"]
    assert (r["speaker_id"], r["gender"], r["language"], r["emotion"]) == ("0011", "Male", "en", "angry")
    assert r["transcript"] == "The nine the eggs."
    assert r["meta"]["sentence_id"] == rows["esd_0011_000001"]["meta"]["sentence_id"] == "en001"
    r = rows["esd_0001_000701"]
    assert (r["gender"], r["language"], r["emotion"], r["transcript"]) == ("Female", "zh", "happy", "打远一看，它们的确很是美丽。")
    assert r["meta"]["transcript_label"] == "快乐"
    assert r["meta"].get("official_split") == ("test" if variant == "split" else None)


def test_esd_missing_transcript_names_path(tmp_path):
    root = _esd_tree(tmp_path, "flat")
    (root / "Emotion Speech Dataset" / "0001" / "0001.txt").unlink()
    with pytest.raises(CorpusLayoutError, match=r"Emotion Speech Dataset/0001/0001\.txt"):
        ingest(f"esd={root}")


IEMOCAP_EVAL = (
    "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
    "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
    "C-E2:\tNeutral;\t()\nC-E3:\tNeutral;\t()\nC-E4:\tNeutral;\t()\nC-F1:\tNeutral;\t(curious)\n"
    "A-E3:\tval 3; act 2; dom  2;\t()\nA-F1:\tval 3; act 2; dom  1;\t()\n\n"
    "[10.0100 - 11.3925]\tSes01F_impro01_M000\tfru\t[2.0000, 3.5000, 3.5000]\n"
    "C-E1:\tFrustration; Anger;\t()\nC-E3:\tAnger;\t()\nC-M1:\tFrustration;\t()\n\n"
    "[14.8872 - 18.0175]\tSes01F_impro01_F001\txxx\t[2.5000, 2.0000, 2.5000]\n"
    "C-E2:\tNeutral;\t()\nC-E4:\tSadness;\t()\n\n"
    "[20.0000 - 21.0000]\tSes01F_impro01_M001\texc\t[4.0000, 4.0000, 3.0000]\n"
    "C-E1:\tExcited;\t()\n\n"
)


def _iemocap_tree(root: Path) -> Path:
    release = root / "IEMOCAP_full_release"
    for session, dialog, turns in (
        (1, "Ses01F_impro01", ["Ses01F_impro01_F000", "Ses01F_impro01_M000", "Ses01F_impro01_F001"]),
        (5, "Ses05M_script01_1", ["Ses05M_script01_1_F000"]),
    ):
        s = release / f"Session{session}"
        for turn in turns:
            wav(s / "sentences" / "wav" / dialog / f"{turn}.wav", 0.4)
        (s / "sentences" / "wav" / dialog / ".DS_Store").write_bytes(b"x")
        (s / "dialog" / "EmoEvaluation" / "Categorical").mkdir(parents=True)
        (s / "dialog" / "EmoEvaluation" / "Categorical" / f"{dialog}_e1_cat.txt").write_text("junk\n")
        (s / "dialog" / "transcriptions").mkdir(parents=True)
    (release / "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt").write_text(IEMOCAP_EVAL)
    (release / "Session1/dialog/transcriptions/Ses01F_impro01.txt").write_text(
        "Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
        "Ses01F_impro01_M000 [010.0100-011.3925]: Do you have your forms?\n"
        "M: [BREATHING]\n"
    )
    (release / "Session5/dialog/EmoEvaluation/Ses05M_script01_1.txt").write_text(
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[1.0000 - 2.5000]\tSes05M_script01_1_F000\tang\t[1.5000, 4.5000, 4.0000]\nC-E1:\tAnger;\t()\n\n"
    )
    (release / "Session5/dialog/transcriptions/Ses05M_script01_1.txt").write_text(
        "Ses05M_script01_1_F000 [001.0000-002.5000]: Get out [LAUGHTER] now.\n"
    )
    return root


def test_iemocap_labels_votes_speakers_folds(tmp_path):
    rows, errors = ingest(f"iemocap={_iemocap_tree(tmp_path)}")
    # M001 is in the evaluation file but has no wav: an error naming the expected audio path
    assert [e["id"] for e in errors] == ["iemocap_Ses01F_impro01_M001"]
    assert "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M001.wav" in errors[0]["reason"]
    r = rows["iemocap_Ses01F_impro01_F000"]
    assert (r["speaker_id"], r["gender"], r["native_label"], r["emotion"]) == ("Ses01_F", "Female", "neu", "neutral")
    assert r["transcript"] == "Excuse me." and (r["valence"], r["arousal"], r["dominance"]) == (2.5, 2.5, 2.5)
    assert r["soft_labels"] == {"neutral": 1.0}  # self-evaluation F1 not counted
    assert r["meta"]["evaluations"]["F1"] == {"labels": ["Neutral"], "comment": "curious"}
    assert r["meta"]["attribute_votes"] == {"E3": {"val": 3.0, "act": 2.0, "dom": 2.0}, "F1": {"val": 3.0, "act": 2.0, "dom": 1.0}}
    assert r["split"] == "train" and r["meta"]["dialog_start_s"] == 6.2901
    r = rows["iemocap_Ses01F_impro01_M000"]  # the partner's turn: the man, not the dialog's F
    assert (r["speaker_id"], r["gender"], r["native_label"], r["emotion"]) == ("Ses01_M", "Male", "fru", None)
    assert r["soft_labels"] == {"angry": 1.0} and r["meta"]["votes_unmapped"] == 1
    assert (r["valence"], r["arousal"], r["dominance"]) == (2.0, 3.5, 3.5)
    r = rows["iemocap_Ses01F_impro01_F001"]
    assert r["emotion"] is None and r["soft_labels"] == {"neutral": 0.5, "sad": 0.5} and r["transcript"] is None
    r = rows["iemocap_Ses05M_script01_1_F000"]
    assert (r["speaker_id"], r["emotion"], r["split"]) == ("Ses05_F", "angry", "test")
    assert r["transcript"] == "Get out [LAUGHTER] now."
    rows4, _ = ingest(f"iemocap={tmp_path}?fold=1")
    assert rows4["iemocap_Ses01F_impro01_F000"]["split"] == "test" and rows4["iemocap_Ses05M_script01_1_F000"]["split"] == "validation"


def test_iemocap_missing_evaluation_folder_names_path(tmp_path):
    root = _iemocap_tree(tmp_path)
    shutil.rmtree(root / "IEMOCAP_full_release/Session5/dialog/EmoEvaluation")
    with pytest.raises(FileNotFoundError, match="Session5/dialog/EmoEvaluation"):
        ingest(f"iemocap={root}")


MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime\r\n"


def _meld_tree(root: Path, train_in_subfolder: bool = False) -> Path:
    raw = root / "MELD.Raw"
    train_dir = raw / "train" if train_in_subfolder else raw
    train_dir.mkdir(parents=True, exist_ok=True)
    (train_dir / "train_sent_emo.csv").write_bytes((
        MELD_HEADER
        + '1,also I was the point person on my company\u0092s transition from the KL-5 to GR-6 system.,Chandler,neutral,neutral,0,0,8,21,"00:16:16,059","00:16:21,731"\r\n'
        + '2,"You must\u2019ve had your hands full, huh.",The Interviewer,joy,positive,0,1,8,21,"00:16:21,940","00:16:23,442"\r\n'
        + '3,Oh.,Joey,disgust,negative,125,3,1,1,"00:00:01,000","00:00:02,000"\r\n'
    ).encode("utf-8"))
    (raw / "dev_sent_emo.csv").write_text(MELD_HEADER + '1,Oh my God!,Rachel,surprise,positive,0,0,1,2,"00:01:00,000","00:01:01,500"\r\n', encoding="utf-8")
    (raw / "test_sent_emo.csv").write_text(MELD_HEADER + '1,Why?,Ross,sadness,negative,1,0,3,4,"00:02:00,000","00:02:01,000"\r\n', encoding="utf-8")
    media(train_dir / "train_splits" / "dia0_utt0.mp4", 1.2)
    media(train_dir / "train_splits" / "dia0_utt1.mp4", 0.7)
    media(raw / "dev_splits_complete" / "dia0_utt0.mp4", 0.5)
    media(raw / "output_repeated_splits_test" / "dia1_utt0.mp4", 0.5)
    media(raw / "output_repeated_splits_test" / "final_videos_testdia1_utt0.mp4", 0.9)
    return root


@pytest.mark.parametrize("train_in_subfolder", [False, True])
def test_meld_official_splits_and_mp4_audio(tmp_path, train_in_subfolder):
    rows, errors = ingest(f"meld={_meld_tree(tmp_path, train_in_subfolder)}")
    assert [e["id"] for e in errors] == ["meld_train_dia125_utt3"] and "dia125_utt3.mp4 is missing" in errors[0]["reason"]
    r = rows["meld_train_dia0_utt0"]
    assert (r["speaker_id"], r["native_label"], r["emotion"], r["split"]) == ("Chandler", "neutral", "neutral", "train")
    assert r["transcript"] == "also I was the point person on my company\u2019s transition from the KL-5 to GR-6 system."
    assert r["duration_s"] == pytest.approx(1.2, abs=0.05) and r["meta"]["channels"] == 2
    assert r["meta"]["episode_start_s"] == pytest.approx(976.059) and r["meta"]["sentiment"] == "neutral"
    r = rows["meld_train_dia0_utt1"]
    assert (r["speaker_id"], r["emotion"], r["transcript"]) == ("The Interviewer", "happy", "You must\u2019ve had your hands full, huh.")
    assert rows["meld_dev_dia0_utt0"]["split"] == "validation" and rows["meld_dev_dia0_utt0"]["emotion"] == "surprise"
    r = rows["meld_test_dia1_utt0"]
    assert r["split"] == "test" and r["audio_path"].endswith("final_videos_testdia1_utt0.mp4")
    assert r["duration_s"] == pytest.approx(0.9, abs=0.05)


def test_meld_missing_label_file_names_path(tmp_path):
    root = _meld_tree(tmp_path)
    (root / "MELD.Raw" / "dev_sent_emo.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"MELD.Raw/dev_sent_emo.csv"):
        ingest(f"meld={root}")


def _msp_tree(root: Path, typo: bool = False) -> Path:
    top = root / "MSP-PODCAST-Publish-1.12"
    rows = [
        "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set",
        "MSP-PODCAST_0001_0008.wav,N,2.2,4.0,2.6,30,Male,Test1",
        "MSP-PODCAST_0001_0009.wav,C,3.777778,3.555556,3.777778,39,Female,Train",
        "MSP-PODCAST_0002_0033.wav,X,4.0,3.0,4.5,Unknown,Unknown,Development",
        "MSP-PODCAST_0003_0001.wav,A,6.0,2.0,5.0,41,Male,Train",
    ]
    name = "labels_concensus.csv" if typo else "labels_consensus.csv"
    (top / "Labels").mkdir(parents=True)
    (top / "Labels" / name).write_text("\n".join(rows) + "\n")
    for stem in ("MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0009", "MSP-PODCAST_0002_0033"):
        wav(top / "Audios" / "Audios" / f"{stem}.wav", 0.6)
    (top / "Transcripts").mkdir()
    (top / "Transcripts" / "MSP-PODCAST_0001_0008.txt").write_text("and that was the point\n")
    return top


@pytest.mark.parametrize("typo", [False, True])
def test_msp_podcast_labels_and_official_split(tmp_path, typo):
    rows, errors = ingest(f"msp_podcast={_msp_tree(tmp_path, typo)}")
    assert [e["id"] for e in errors] == ["msp_podcast_MSP-PODCAST_0003_0001"] and "is missing" in errors[0]["reason"]
    r = rows["msp_podcast_MSP-PODCAST_0001_0008"]
    assert (r["emotion"], r["speaker_id"], r["gender"], r["split"]) == ("neutral", "30", "Male", "test")
    assert (r["arousal"], r["valence"], r["dominance"]) == (2.2, 4.0, 2.6)
    assert r["transcript"] == "and that was the point" and r["meta"]["official_split"] == "Test1"
    r = rows["msp_podcast_MSP-PODCAST_0001_0009"]
    assert (r["native_label"], r["emotion"], r["gender"], r["split"], r["transcript"]) == ("C", "contempt or disgust", "Female", "train", None)
    r = rows["msp_podcast_MSP-PODCAST_0002_0033"]
    assert (r["emotion"], r["speaker_id"], r["gender"], r["split"]) == (None, None, None, "validation")


def test_msp_podcast_missing_labels_names_path(tmp_path):
    top = _msp_tree(tmp_path)
    shutil.rmtree(top / "Labels")
    with pytest.raises(FileNotFoundError, match=r"Labels/labels_consensus.csv"):
        ingest(f"msp_podcast={top}")


def _expresso_tree(root: Path) -> Path:
    ex = root / "expresso"
    audio = ex / "audio_48khz"
    wav(audio / "read/ex01/happy/base/ex01_happy_00001.wav", 0.5, 48000)
    wav(audio / "read/ex03/default/base/ex03_default_emphasis_00010.wav", 0.5, 48000)
    wav(audio / "read/ex03/default/longform/ex03_default_longform_00001.wav", 3.0, 48000)
    wav(audio / "read/ex02/singing/base/ex02_singing_00001.wav", 0.5, 48000)
    wav(audio / "conversational/ex04-ex01/sad-sympathetic/ex04-ex01_sad-sympathetic_001.wav", 4.0, 48000, channels=2)
    wav(audio / "conversational/ex01-ex02/laughing/ex01-ex02_laughing_002.wav", 1.0, 48000, channels=2)
    (ex / "read_transcriptions.txt").write_text(
        "ex01_happy_00001\tI *love* this.\nex03_default_emphasis_00010\tOf course, *always*.\n"
        "ex03_default_longform_00001\tA long passage. In two parts.\n"
    )
    (ex / "VAD_segments.txt").write_text(
        "# VAD segments\n# format: file\\t(start, end) ...\n"
        "ex04-ex01_sad-sympathetic_001/channel1\t(0.10, 1.20) (2.00, 3.50)\n"
        "ex04-ex01_sad-sympathetic_001/channel2\t(1.30, 1.90)\n"
        "ex03_default_longform_00001\t(0.00, 1.00) (1.50, 2.90)\n"
    )
    (ex / "splits").mkdir()
    (ex / "splits/train.txt").write_text("# comment\nex01_happy_00001\n")
    (ex / "splits/dev.txt").write_text("ex04-ex01_sad-sympathetic_001\t(,60.0s)\n")
    (ex / "splits/test.txt").write_text("ex03_default_emphasis_00010\n")
    return root


def test_expresso_read_longform_and_conversational_channels(tmp_path):
    rows, errors = ingest(f"expresso={_expresso_tree(tmp_path)}")
    assert [e["reason"].split(" ")[0] for e in errors] == ["singing"]
    r = rows["expresso_ex01_happy_00001"]
    assert (r["speaker_id"], r["emotion"], r["transcript"], r["start_s"]) == ("ex01", "happy", "I love this.", None)
    assert r["meta"]["stressed_words"] == ["love"] and r["meta"]["official_split"] == "train"
    r = rows["expresso_ex03_default_emphasis_00010"]
    assert (r["native_label"], r["emotion"], r["meta"]["substyle"], r["transcript"]) == ("default", "neutral", "default_emphasis", "Of course, always.")
    seg = rows["expresso_ex03_default_longform_00001_001"]
    assert (seg["start_s"], seg["end_s"], seg["duration_s"]) == (1.5, 2.9, pytest.approx(1.4))
    assert seg["transcript"] is None and seg["meta"]["file_transcript"] == "A long passage. In two parts."
    assert (seg["speaker_id"], seg["emotion"]) == ("ex03", "neutral")
    a1, a2 = rows["expresso_ex04-ex01_sad-sympathetic_001_ch1_000"], rows["expresso_ex04-ex01_sad-sympathetic_001_ch1_001"]
    b = rows["expresso_ex04-ex01_sad-sympathetic_001_ch2_000"]
    assert (a1["speaker_id"], a1["native_label"], a1["emotion"], a1["meta"]["channel"]) == ("ex04", "sad", "sad", 0)
    assert (a2["start_s"], a2["end_s"]) == (2.0, 3.5)
    assert (b["speaker_id"], b["native_label"], b["emotion"], b["meta"]["channel"]) == ("ex01", "sympathetic", None, 1)
    assert (b["start_s"], b["end_s"], b["meta"]["official_split"]) == (1.3, 1.9, "validation")
    # no VAD entry: one utterance per channel, whole file
    assert {rows[f"expresso_ex01-ex02_laughing_002_ch{c}"]["speaker_id"] for c in (1, 2)} == {"ex01", "ex02"}
    assert len(rows) == 2 + 2 + 3 + 2


def test_expresso_segment_past_end_is_an_error(tmp_path):
    root = _expresso_tree(tmp_path)
    vad = root / "expresso" / "VAD_segments.txt"
    vad.write_text(vad.read_text() + "ex01-ex02_laughing_002/channel1\t(0.20, 5.00)\n")
    rows, errors = ingest(f"expresso={root}")
    bad = [e for e in errors if e["id"] == "expresso_ex01-ex02_laughing_002_ch1_000"]
    assert bad and "after the file's end" in bad[0]["reason"]


def _ears_tree(root: Path) -> Path:
    (root / "speaker_statistics.json").write_text(json.dumps({
        "p001": {"age": "36-45", "ethnicity": "white or caucasian", "gender": "male", "weight": "160 - 180 lbs", "native language": "german", "height": "6' - 6'3"},
        "p102": {"age": "18-25", "ethnicity": "asian", "gender": "female", "weight": "100 - 120 lbs", "native language": "english", "height": "5'3 - 5'6"},
    }))
    (root / "transcripts.json").write_text(json.dumps({
        "emo_anger_sentences": "Nobody ever listens to me.",
        "rainbow_01_regular": "When the sunlight strikes raindrops in the air, they act as a prism.",
        "sentences_01_whisper": "A short whispered sentence.",
    }))
    for stem in ("emo_anger_sentences", "emo_anger_freeform", "rainbow_01_regular", "sentences_01_whisper",
                 "freeform_speech_01", "nonverbal_laughing"):
        wav(root / "p001" / f"{stem}.wav", 0.3, 48000)
    wav(root / "p102" / "emo_embarassment_sentences.wav", 0.3, 48000)
    return root


def test_ears_labels_transcripts_speakers(tmp_path):
    rows, errors = ingest(f"ears={_ears_tree(tmp_path)}")
    assert errors == [] and len(rows) == 7
    r = rows["ears_p001_emo_anger_sentences"]
    assert (r["speaker_id"], r["gender"], r["age_level"], r["emotion"]) == ("p001", "Male", "Middle-aged", "angry")
    assert r["transcript"] == "Nobody ever listens to me." and r["meta"]["age_range"] == "36-45"
    assert r["meta"]["native language"] == "german"
    assert rows["ears_p001_emo_anger_freeform"]["transcript"] is None and rows["ears_p001_emo_anger_freeform"]["emotion"] == "angry"
    assert (rows["ears_p001_rainbow_01_regular"]["native_label"], rows["ears_p001_rainbow_01_regular"]["emotion"]) == ("regular", "neutral")
    assert rows["ears_p001_sentences_01_whisper"]["emotion"] == "whisper"
    assert rows["ears_p001_sentences_01_whisper"]["meta"]["sentence_id"] == "sentences_01"
    assert rows["ears_p001_freeform_speech_01"]["native_label"] == "freeform" and rows["ears_p001_freeform_speech_01"]["emotion"] is None
    assert rows["ears_p001_nonverbal_laughing"]["native_label"] == "nonverbal"
    r = rows["ears_p102_emo_embarassment_sentences"]
    assert (r["gender"], r["age_level"], r["native_label"], r["emotion"], r["meta"]["benchmark_split"]) == ("Female", "Young Adult", "embarassment", None, "test")


def test_ears_missing_speaker_table_names_path(tmp_path):
    root = _ears_tree(tmp_path)
    (root / "speaker_statistics.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"speaker_statistics.json"):
        ingest(f"ears={root}")


# ---------------------------------------------------------------- every corpus at once


TREES = {
    "tess": lambda p: (wav(p / "OAF_back_angry.wav"), wav(p / "YAF_back_sad.wav"), wav(p / "OAF_dog_happy.wav"), wav(p / "YAF_dog_neutral.wav"), p)[-1],
    "savee": lambda p: ([wav(p / "AudioData" / s / f"{c}0{i}.wav") for s in ("DC", "JE", "JK", "KL") for c in ("a", "n") for i in (1, 2)], p)[-1],
    "mead": lambda p: ([media(p / a / "audio" / "happy" / "level_1" / f"00{i}.m4a", 0.3, video=False) for a in ("M003", "W009", "M012") for i in (1, 2)], p)[-1],
    "esd": lambda p: _esd_tree(p, "split"),
    "iemocap": _iemocap_tree,
    "meld": _meld_tree,
    "msp_podcast": _msp_tree,
    "expresso": _expresso_tree,
    "ears": _ears_tree,
}


def test_every_corpus_together_splits_and_label_coverage(tmp_path, test_data):
    """All twelve corpora in one ingest: ids unique, every native label mapped or excluded in its manifest,
    speakers never in two splits where the split is ours, official splits kept."""
    from emotioncot.ingest.manifest import label_status, load_manifest

    specs = [f"emodb={test_data / 'emodb'}", f"ravdess={test_data / 'ravdess'}",
             f"crema_d={_crema_tree(test_data, tmp_path / 'c', ['1001_IEO_NEU_XX', '1002_IEO_SAD_HI', '1003_TIE_ANG_XX', '1004_TIE_FEA_XX'])}"]
    for name, make in TREES.items():
        folder = tmp_path / name
        folder.mkdir()
        specs.append(f"{name}={make(folder)}")
    rows, errors = ingest_sources(specs, IngestConfig(workers=2), progress=False)
    corpora = {r["corpus"] for r in rows}
    assert corpora == {"emodb", "ravdess", "crema_d", *TREES}
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert label_status(load_manifest(r["corpus"]), r["native_label"]) in ("mapped", "excluded"), r
        assert r["split"] in ("train", "validation", "test")
    by_speaker = {}
    for r in rows:
        if r["speaker_id"] and r["corpus"] not in ("meld",):  # MELD's official split shares characters
            by_speaker.setdefault((r["corpus"], r["speaker_id"]), set()).add(r["split"])
    assert all(len(s) == 1 for s in by_speaker.values()), {k: v for k, v in by_speaker.items() if len(v) > 1}
    # corpora with several speakers use more than one split
    for corpus in ("savee", "mead", "crema_d"):
        assert len({r["split"] for r in rows if r["corpus"] == corpus}) >= 2, corpus


def test_every_corpus_text_disjoint(tmp_path, test_data):
    """With text_disjoint, neither a speaker nor a sentence crosses splits in any corpus whose split is ours."""
    from emotioncot.ingest.splits import sentence_key

    specs = [f"emodb={test_data / 'emodb'}", f"ravdess={test_data / 'ravdess'}",
             f"crema_d={_crema_tree(test_data, tmp_path / 'c', [f'10{a:02d}_{s}_ANG_XX' for a in range(1, 13) for s in ('IEO', 'TIE', 'DFA', 'WSI', 'TSI')])}"]
    for name, make in TREES.items():
        folder = tmp_path / name
        folder.mkdir()
        specs.append(f"{name}={make(folder)}")
    rows, _ = ingest_sources(specs, IngestConfig(workers=2, text_disjoint=True), progress=False)
    ours = [r for r in rows if r["corpus"] not in ("meld", "msp_podcast", "iemocap") and r["split"]]
    for key in (lambda r: r["speaker_id"], sentence_key):
        groups = {}
        for r in ours:
            if key(r):
                groups.setdefault((r["corpus"], key(r)), set()).add(r["split"])
        assert groups and all(len(v) == 1 for v in groups.values())
    crema = [r for r in rows if r["corpus"] == "crema_d"]
    assert len({r["split"] for r in crema if r["split"]}) >= 2  # a crossed design still yields several splits
    assert any(r["split"] is None for r in crema)  # and costs the off-diagonal cells
    # official splits are untouched by text_disjoint
    assert all(r["split"] for r in rows if r["corpus"] in ("meld", "msp_podcast", "iemocap"))
