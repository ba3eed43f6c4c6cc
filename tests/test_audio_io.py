"""Reading audio: segments, channels (one speaker per channel), and the errors that name the file."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from emotioncot.audio.io import AudioError, read_audio, read_record_audio
from emotioncot.export.audio import audio_cell


@pytest.fixture()
def two_speaker_wav(tmp_path):
    sr = 16000
    t = np.arange(sr * 2) / sr
    left = 0.3 * np.sin(2 * np.pi * 150 * t)  # speaker A on channel 0
    right = 0.1 * np.sin(2 * np.pi * 400 * t)  # speaker B on channel 1
    path = tmp_path / "conv.wav"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="PCM_16")
    return path, left, right, sr


def test_a_record_on_one_channel_reads_that_channel_only(two_speaker_wav):
    path, left, right, sr = two_speaker_wav
    rec = {"id": "b", "audio_path": str(path), "start_s": 0.5, "end_s": 1.0, "meta": {"channel": 1}}
    y, rate = read_record_audio(rec)
    assert rate == sr and len(y) == sr // 2
    np.testing.assert_allclose(y, right[sr // 2 : sr], atol=1e-4)
    # Stored as JSON text (stage tables, exports), the channel is found too.
    y2, _ = read_record_audio({**rec, "meta": '{"channel": 0}'})
    np.testing.assert_allclose(y2, left[sr // 2 : sr], atol=1e-4)


def test_the_export_cuts_the_segment_on_its_channel(two_speaker_wav):
    path, left, right, sr = two_speaker_wav
    cell = audio_cell({"id": "a", "audio_path": str(path), "meta": {"channel": 0}}, embed=False)
    y, rate = sf.read(io.BytesIO(cell["bytes"]), dtype="float32")
    assert rate == sr and y.ndim == 1
    np.testing.assert_allclose(y, left, atol=1e-4)


def test_a_missing_channel_is_an_error_naming_the_file(two_speaker_wav):
    path, *_ = two_speaker_wav
    with pytest.raises(AudioError, match=r"conv\.wav.*2 channel\(s\), channel 5"):
        read_audio(path, channel=5)


def test_empty_and_missing_files_name_the_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: file is empty"):
        read_audio(empty)
    with pytest.raises(AudioError, match=r"nope\.flac: file does not exist"):
        read_audio(tmp_path / "nope.flac")


def test_the_mean_of_channels_is_numpys_to_the_bit():
    from emotioncot.audio.io import mean_of_channels

    rng = np.random.default_rng(3)
    for channels in range(1, 10):
        data = rng.standard_normal((20011, channels)).astype(np.float32)
        data *= rng.choice([1e-30, 1.0, 1e30], size=data.shape).astype(np.float32)
        data[::97] = -0.0  # numpy's sum starts from +0.0: a silent frame of -0.0 comes out +0.0
        data[5, 0], data[7, -1], data[9, 0] = np.inf, np.nan, -np.inf
        with np.errstate(over="ignore", invalid="ignore"):
            want, got = data.mean(axis=1), mean_of_channels(data)
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.array_equal(np.ascontiguousarray(got).view(np.uint32), want.view(np.uint32)), channels
