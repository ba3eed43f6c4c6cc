"""One utterance in, every measurement out: the orchestration of the feature modules.

Order matters for speed: one resample to 16 kHz, one STFT, one Praat pitch pass; every feature reuses
them (VAD uses the voicing, voice quality the pitch track, stress the STFT)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from emotioncot.audio.io import read_record_audio
from emotioncot.measure import energy, gender, harmonicity, intonation, nuclei, pitch, syllables, vad, voice_quality
from emotioncot.measure.frames import analyse
from emotioncot.measure.quantiles import median
from emotioncot.measure.settings import MeasureSettings
from emotioncot.measure.signal import ANALYSIS_SR, HOP_S, prepare

if TYPE_CHECKING:  # pydantic is not imported to measure (settings.py says why)
    from emotioncot.config import MeasureConfig

# every measurement a row can carry; a value left None gets a reason
SPAN_MARGIN_S = 0.3

FIELDS = (
    "duration_s", "speech_s", "pause_count", "pause_total_s", "f0_median_hz", "f0_p5_hz", "f0_p95_hz",
    "f0_range_st", "f0_std_st", "voiced_fraction", "energy_dbfs", "peak_dbfs", "snr_db", "alpha_ratio_db",
    "articulation_rate_sps", "speaking_rate_sps", "syllable_count", "syllable_source", "intonation",
    "intonation_confidence", "jitter_local", "shimmer_local", "hnr_db", "f0_method", "f0_octave_fixed_frames",
    "relative_rate",
)


def _finish(out: dict, reasons: dict, default_reason: str | None = None) -> dict:
    for key in FIELDS:
        out.setdefault(key, None)
        if out[key] is None and key not in reasons:
            reasons[key] = default_reason or "not measured"
    out["null_reasons"] = {k: v for k, v in reasons.items() if out.get(k) is None or k == "stressed_words"}
    out.setdefault("stressed_words", [])
    return out


def measure_signal(
    y: np.ndarray,
    sr: int,
    transcript: str | None = None,
    config: MeasureConfig | MeasureSettings | None = None,
    language: str | None = None,
    details: dict | None = None,
) -> dict:
    """Measure an in-memory signal (any shape, any rate). ``details`` (a dict) receives the frame-level
    tracks and per-word stress scores for callers that want them."""
    config = config or MeasureSettings()
    x = prepare(np.asarray(y), int(sr))
    duration = len(x) / ANALYSIS_SR
    out: dict = {"duration_s": float(duration), "stressed_words": [], "error": None}
    reasons: dict[str, str] = {}
    if not np.isfinite(x).all():
        out["error"] = "audio contains NaN or infinite samples"
        return _finish(out, reasons, out["error"])
    peak = energy.peak_dbfs(x)
    if peak is None or peak < config.silence_dbfs:
        out["error"] = "digital silence (no signal)" if peak is None else f"silence (peak {peak:.0f} dBFS)"
        return _finish(out, reasons, out["error"])
    if duration < config.min_duration_s:
        out["error"] = f"too short ({duration:.2f} s, need {config.min_duration_s} s)"
        return _finish(out, reasons, out["error"])
    out["peak_dbfs"] = peak
    frames = analyse(x)

    # pitch before the final VAD (its voicing helps keep quiet vowels), but only over the span where an
    # energy-only VAD finds speech, plus a margin: leading and trailing silence costs Praat time, not accuracy
    rough = vad.detect_activity(frames, None, config.min_pause_s)
    a, b = 0, len(x)
    if rough.onset_s is not None:
        a = max(0, int((rough.onset_s - SPAN_MARGIN_S) * ANALYSIS_SR))
        b = min(len(x), int((rough.offset_s + SPAN_MARGIN_S) * ANALYSIS_SR))
    offset_s = a / ANALYSIS_SR
    span = x[a:b]
    engine = config.praat_pitch_engine
    sound = None
    if engine == "parselmouth":
        import parselmouth

        sound = parselmouth.Sound(span, sampling_frequency=ANALYSIS_SR)
    praat_track = None
    if config.pitch_method == "pyworld":
        track = pitch.track_pyworld(span, min(config.f0_min_hz, config.f0_min_low_voice_hz), config.f0_max_hz)
    else:
        track = praat_track = pitch.track_praat(span, config.f0_min_hz, config.f0_max_hz, engine, sound)
        voiced_hz = track.f0[track.f0 > 0]
        low_voice = len(voiced_hz) > 0 and median(voiced_hz) < 1.25 * config.f0_min_hz
        sparse = len(voiced_hz) < 0.4 * max(rough.speech_s, 0.0) / HOP_S
        if (low_voice or sparse) and config.f0_min_low_voice_hz < config.f0_min_hz:
            # a voice near or under the fast floor (a sad or creaky male at 70 Hz) is cut off, or tracked
            # on a harmonic where only a few periods pass; a lower floor measures it. When the trigger is
            # sparse voicing (which a whisper also has) the pass that finds more voicing wins.
            low = pitch.track_praat(span, config.f0_min_low_voice_hz, config.f0_max_hz, engine, sound)
            if low_voice or (low.f0 > 0).sum() > 1.2 * len(voiced_hz):
                track = praat_track = low
    out["f0_method"] = track.method
    # the track's times are on the span (as the Praat Pitch for the point process needs them); the grid is the clip's
    f0_raw, strength = pitch.on_frame_grid(replace(track, times=track.times + offset_s), frames.n)

    act = vad.detect_activity(frames, f0_raw > 0, config.min_pause_s)
    if act.speech_s <= 0:
        out["error"] = "no speech detected (only noise or silence)"
        return _finish(out, reasons, out["error"])
    pause_total_s = float(sum(b - a for a, b in act.pauses))
    # the mask counts whole frames on a grid that runs a hop past the last sample, so speech plus pauses could
    # exceed the clip by up to one hop (34 of 216 demo records did, by up to 9.8 ms)
    speech_s = min(act.speech_s, duration - pause_total_s)
    speech = act.mask
    out["speech_s"] = round(speech_s, 3)
    out["pause_count"] = len(act.pauses)
    out["pause_total_s"] = round(pause_total_s, 3)
    out["snr_db"] = act.snr_db
    out["energy_dbfs"] = energy.active_level_dbfs(frames, speech)
    out["alpha_ratio_db"] = energy.alpha_ratio_db(frames, speech)

    f0 = np.where(speech, f0_raw, 0.0)
    f0, fixes = pitch.correct_octaves(f0, strength, config.min_excursion_s)
    out["f0_octave_fixed_frames"] = int(fixes)
    stats, why = pitch.f0_statistics(f0, config.min_voiced_frames, config.min_range_voiced_frames)
    out.update(stats)
    reasons.update(why)
    out["voiced_fraction"] = float((f0 > 0).sum() / max(1, speech.sum()))
    if out["f0_median_hz"] is not None:
        g, conf = gender.estimate_gender(out["f0_median_hz"])
        out["estimated_gender"], out["estimated_gender_confidence"] = g, conf
        if conf is not None and conf < gender.MIN_CONFIDENCE:
            out["estimated_gender"] = None
            reasons["estimated_gender"] = f"median F0 too near the {gender.BOUNDARY_HZ:.0f} Hz boundary (confidence {conf})"

    label, conf, contour = intonation.classify(f0, speech, speech_s)
    out["intonation"], out["intonation_confidence"] = label, conf
    if label in ("uncertain", "too_short") and "reason" in contour:
        reasons["intonation_detail"] = contour["reason"]

    # voice quality
    if out["f0_median_hz"] is not None:
        if praat_track is None:
            praat_track = pitch.track_praat(span, config.f0_min_hz, config.f0_max_hz, engine, sound)
        if praat_track.praat_pitch is not None:
            if sound is None:
                import parselmouth

                sound = parselmouth.Sound(span, sampling_frequency=ANALYSIS_SR)
            jit, shim, why_vq = voice_quality.jitter_shimmer(sound, praat_track.praat_pitch)
        else:  # the frame-matrix engine: its ports of Praat's point process, jitter and shimmer (no parselmouth)
            from emotioncot.measure.periods import pulses
            from emotioncot.measure.perturbation import jitter_shimmer

            times = pulses(span, ANALYSIS_SR, praat_track.f0, float(praat_track.times[0]), HOP_S) if len(praat_track.f0) else []
            jit, shim, why_vq = jitter_shimmer(span, ANALYSIS_SR, times)
        out["jitter_local"], out["shimmer_local"] = jit, shim
        if why_vq:
            reasons["jitter_local"] = reasons["shimmer_local"] = why_vq
        out["hnr_db"], n_hnr = harmonicity.mean_hnr_db(span, ANALYSIS_SR, global_peak=float(np.abs(x).max()),
                                                        compiled=engine == "frames")
        if out["hnr_db"] is None:
            reasons["hnr_db"] = f"no periodic frames in Praat's harmonicity ({n_hnr})"
    else:
        for k in ("jitter_local", "shimmer_local", "hnr_db"):
            reasons[k] = "no reliable voicing"

    # syllables and rates; a transcript far too long for the audio is not its transcript (and would cost
    # unbounded time in eSpeak and in alignment): it is set aside with the reason
    if transcript and transcript.strip():
        n_words = len(syllables.words(transcript))
        most = config.max_words_per_s * duration + 5
        if n_words > most:
            why_text = (f"transcript has {n_words} words for {duration:.1f} s of audio (more than "
                        f"max_words_per_s = {config.max_words_per_s:g} allows): not used")
            reasons["syllable_source_detail"] = reasons["stressed_words"] = reasons["relative_rate"] = why_text
            transcript = None
    count, source = None, None
    if transcript and transcript.strip():
        count, source = syllables.transcript_syllables(transcript, language)
        if count is None:
            reasons["syllable_source_detail"] = source
            source = None
    if count is None:
        count = nuclei.count_nuclei(frames, speech, f0 > 0)
        source = "acoustic-nuclei"
    out["syllable_count"], out["syllable_source"] = float(count), source
    if speech_s >= config.min_rate_speech_s and count > 0:
        out["articulation_rate_sps"] = count / speech_s
        out["speaking_rate_sps"] = count / (speech_s + out["pause_total_s"])
    else:
        for k in ("articulation_rate_sps", "speaking_rate_sps"):
            reasons[k] = f"too little speech ({speech_s:.2f} s) or no syllables to rate"

    if config.relative_rate and transcript and transcript.strip() and speech_s > config.stress_max_speech_s:
        reasons["relative_rate"] = f"{speech_s:.0f} s of speech: longer than stress_max_speech_s, not rendered"
    elif config.relative_rate and transcript and transcript.strip() and speech_s >= config.min_rate_speech_s:
        from emotioncot.measure.expected import relative_rate

        out["relative_rate"], why_rel = relative_rate(transcript, language, speech_s)
        if why_rel:
            reasons["relative_rate"] = why_rel
    elif "relative_rate" not in reasons:
        reasons["relative_rate"] = "relative_rate is off (measure.relative_rate)" if not config.relative_rate else \
            "no transcript or too little speech"

    # word stress
    if "stressed_words" in reasons:
        pass  # already set aside (transcript not used)
    elif transcript and transcript.strip() and config.stress_method != "none":
        from emotioncot.measure.stress import STRESS_BACKENDS

        backend = STRESS_BACKENDS.get(config.stress_method)
        if backend is None:
            reasons["stressed_words"] = f"unknown stress backend {config.stress_method!r}"
        elif speech_s > config.stress_max_speech_s:
            reasons["stressed_words"] = f"{speech_s:.0f} s of speech: longer than stress_max_speech_s ({config.stress_max_speech_s:.0f} s), not aligned"
        else:
            words, why, scores = backend(frames, speech, f0, transcript, language)
            out["stressed_words"] = words
            if why:
                reasons["stressed_words"] = why
            if details is not None:
                details["word_scores"] = scores
    else:
        reasons["stressed_words"] = "no transcript" if config.stress_method != "none" else "stress detection off"

    if details is not None:
        details.update(f0_raw=f0_raw, f0=f0, speech=speech, frames=frames, activity=act, contour=contour,
                       octave_fixes=fixes)
    return _finish(out, reasons)


def measure_utterance(row: dict, config: MeasureConfig | MeasureSettings | None = None) -> dict:
    """Measure one ingested utterance (a dict with at least id and audio_path). Raises ``AudioError``
    when the audio cannot be read; silence and too-short clips return nulls with reasons and ``error``."""
    y, sr = read_record_audio(row)
    result = measure_signal(y, sr, row.get("transcript"), config, language=row.get("language"))
    result["id"] = row["id"]
    if row.get("gender") or not (config or MeasureSettings()).estimate_gender:  # metadata wins; an estimate only where the corpus is silent
        result.pop("estimated_gender", None)
        result.pop("estimated_gender_confidence", None)
    return result
