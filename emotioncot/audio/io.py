"""Reading audio: soundfile for WAV/FLAC/OGG, PyAV (its own FFmpeg, no system ffmpeg) for everything else
(mp4, m4a, mp3). Segments are read by time without decoding the whole file where the format allows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf


class AudioError(ValueError):
    """The file cannot be used as audio; the message names the file and the problem."""


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


_SOUNDFILE_EXT = {".wav", ".flac", ".ogg", ".aiff", ".aif", ".au", ".w64", ".caf"}


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: file does not exist")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty")
    return path


_STREAMING_SIZES = (0, 0xFFFFFFFF)  # writers that cannot seek back leave the size unset: not a promise


def check_wav_complete(path: Path) -> None:
    """Raise ``AudioError`` when a RIFF/WAVE header promises more audio data than the file holds.

    libsndfile silently reads what is there, so a file cut short in a copy or a download would be
    measured as a shorter clip against the full transcript; here it is an error naming the file."""
    with open(path, "rb") as fh:
        problem = wav_shortfall(fh, path.stat().st_size)
    if problem:
        raise AudioError(f"{path}: {problem}")


def wav_shortfall(fh, size: int) -> str | None:
    """What a truncated WAV lacks ("truncated WAV: the header promises ..."), or None; ``fh`` is a binary
    file object of ``size`` bytes (a file, or embedded bytes in a BytesIO)."""
    import struct

    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None  # RF64, W64 or not a WAV at all: soundfile decides
    pos, block_align = 12, None
    while pos + 8 <= size:
        fh.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
        if chunk_id == b"fmt ":
            fmt = fh.read(min(chunk_size, 16))
            if len(fmt) >= 14:
                block_align = struct.unpack("<H", fmt[12:14])[0] or None
        if chunk_id == b"data":
            available = size - (pos + 8)
            if chunk_size in _STREAMING_SIZES or chunk_size <= available:
                return None

            def frames(n: int) -> str:
                return f" ({n // block_align} frames)" if block_align else ""

            return (f"truncated WAV: the header promises {chunk_size} bytes of audio data{frames(chunk_size)} "
                    f"but the file holds {available}{frames(available)}")
        pos += 8 + chunk_size + (chunk_size & 1)
    return None


def pick_channel(data: np.ndarray, channel: int, path: str | Path) -> np.ndarray:
    """Column ``channel`` of (frames, channels) samples, kept 2-D; an error naming the file if it has none."""
    if not 0 <= channel < data.shape[1]:
        raise AudioError(f"{path}: has {data.shape[1]} channel(s), channel {channel} was asked for")
    return data[:, [channel]]


def audio_info(path: str | Path) -> AudioInfo:
    """Duration, rate and channels from the header only."""
    path = _existing_file(path)
    if path.suffix.lower() in _SOUNDFILE_EXT:
        check_wav_complete(path)
        try:
            info = sf.info(str(path))
        except Exception as exc:  # soundfile raises a bare RuntimeError/LibsndfileError
            raise AudioError(f"{path}: not a readable audio file ({exc})") from None
        return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames))
    return _av_info(path)


def _av_info(path: Path) -> AudioInfo:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream")
            stream = container.streams.audio[0]
            rate = int(stream.codec_context.sample_rate or stream.rate)
            channels = int(stream.codec_context.channels or 1)
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / 1_000_000
            else:
                seconds = 0.0
            return AudioInfo(rate, channels, int(round(seconds * rate)))
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from None


def record_channel(record: dict) -> int | None:
    """The channel an utterance lives on, for recordings with one speaker per channel (``meta["channel"]``)."""
    meta = record.get("meta") or {}
    if isinstance(meta, str):  # JSON text in stage tables and exports
        import json

        meta = json.loads(meta) if meta else {}
    channel = meta.get("channel")
    return int(channel) if channel is not None else None


def read_record_audio(record: dict) -> tuple[np.ndarray, int]:
    """The mono samples of one utterance record: its segment, on its own channel where it has one."""
    return read_audio(record["audio_path"], record.get("start_s"), record.get("end_s"), channel=record_channel(record))


def read_audio(
    path: str | Path, start_s: float | None = None, end_s: float | None = None, mono: bool = True,
    channel: int | None = None,
) -> tuple[np.ndarray, int]:
    """Samples as float32 in [-1, 1] and the sample rate. ``channel`` picks one channel (a conversation
    recorded with one speaker per channel, as in Expresso); otherwise ``mono`` averages the channels."""
    path = _existing_file(path)
    if path.suffix.lower() in _SOUNDFILE_EXT:
        check_wav_complete(path)
        try:
            with sf.SoundFile(str(path)) as fh:
                rate = fh.samplerate
                start = int(round((start_s or 0.0) * rate))
                stop = int(round(end_s * rate)) if end_s is not None else fh.frames
                fh.seek(min(start, fh.frames))
                data = fh.read(max(0, stop - start), dtype="float32", always_2d=True)
        except Exception as exc:
            raise AudioError(f"{path}: not a readable audio file ({exc})") from None
    else:
        data, rate = _av_read(path, start_s, end_s)
    if data.size == 0:
        raise AudioError(f"{path}: no samples" + (f" between {start_s} s and {end_s} s" if start_s or end_s else ""))
    if channel is not None:
        data = pick_channel(data, channel, path)[:, 0]
    elif mono:
        data = mean_of_channels(data)
    return np.ascontiguousarray(data, dtype=np.float32), int(rate)


def mean_of_channels(data: np.ndarray) -> np.ndarray:
    """``data.mean(axis=1)`` of float32 (frames, channels), the same to the bit, without numpy's reduction over a
    short strided axis (about 2.5 ms for a 4 s stereo file, some 5 % of measuring it from the command line). numpy
    sums fewer than 8 values in order from +0.0 (so -0.0 + -0.0 gives +0.0) and divides by the count; so does this."""
    n = data.shape[1]
    if n >= 8 or data.dtype != np.float32:
        return data.mean(axis=1)
    total = np.float32(0) + data[:, 0]
    for k in range(1, n):
        total += data[:, k]
    total /= np.float32(n)
    return total


def av_decode(source, label: str) -> tuple[np.ndarray, int]:
    """All samples of the first audio stream of ``source`` (a path or a file-like object), as float32
    (frames, channels), with PyAV's own FFmpeg; errors name ``label``."""
    import av

    try:
        with av.open(source) as container:
            if not container.streams.audio:
                raise AudioError(f"{label}: no audio stream")
            stream = container.streams.audio[0]
            rate = int(stream.codec_context.sample_rate)
            resampler = av.AudioResampler(format="flt", layout=stream.codec_context.layout.name, rate=rate)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, len(out.layout.channels)))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1, len(out.layout.channels)))
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(f"{label}: not a readable audio file ({exc})") from None
    if not chunks:
        raise AudioError(f"{label}: no audio samples decoded")
    return np.concatenate(chunks, axis=0), rate


def _av_read(path: Path, start_s: float | None, end_s: float | None) -> tuple[np.ndarray, int]:
    data, rate = av_decode(str(path), str(path))
    start = int(round((start_s or 0.0) * rate))
    stop = int(round(end_s * rate)) if end_s is not None else len(data)
    return data[start:stop], rate
