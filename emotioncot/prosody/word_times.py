"""Word times for stress questions on real recordings: the measure stage's own alignment of the transcript
(eSpeak NG reference, DTW; ``emotioncot.measure.stress.align_words`` through ``measure_signal``).

A build keeps the stressed words but not the times of every word, so without this a real build gave no
``stress_word`` item at all ("no word times in the record's metadata"). The times are put in
``meta["words"]`` (the form ``tasks_stress.word_spans`` reads), with ``meta["words_source"]`` saying where
they came from; records that already have word times (the demo's synthesiser) are left as they are."""

from __future__ import annotations

from tqdm import tqdm

from emotioncot.config import ExecutorConfig, MeasureConfig
from emotioncot.errors import BuildError
from emotioncot.prosody.tasks_stress import word_spans

SOURCE = "measure-stage alignment (eSpeak NG reference, DTW)"


def aligned_words(rec: dict, config: MeasureConfig) -> tuple[list[list] | None, str | None]:
    """[[word, start_s, end_s], ...] of one record's audio, or (None, why)."""
    from emotioncot.audio.io import read_record_audio
    from emotioncot.measure.features import measure_signal

    if not (rec.get("transcript") or "").strip():
        return None, "no transcript to align"
    try:
        y, sr = read_record_audio(rec)
    except Exception as exc:  # one bad clip never stops the run; plan() records why
        return None, f"{rec.get('audio_path')}: cannot read ({type(exc).__name__}: {exc})"
    details: dict = {}
    result = measure_signal(y, sr, rec["transcript"], config, language=rec.get("language"), details=details)
    words = details.get("word_scores") or []
    if not words:
        return None, (result.get("null_reasons") or {}).get("stressed_words") or "the words could not be aligned"
    return [[w["word"], w["start_s"], w["end_s"]] for w in words], None


def _align_at(job: tuple[int, dict, MeasureConfig]) -> tuple[list[list] | None, str | None]:
    return aligned_words(job[1], job[2])


def with_word_times(records: list[dict], config: MeasureConfig | None = None, workers: int = 1,
                    progress: bool = False, executor_config: ExecutorConfig | None = None,
                    run: dict | None = None) -> list[dict]:
    """The records, those without word times given ``meta["words"]`` (or ``meta["words_error"]``: why not),
    aligned on ``executor_config``'s executor (default: a local pool of ``workers``; ``run`` gets which)."""
    from emotioncot.executors import outcomes

    config = config or MeasureConfig()
    todo = [i for i, r in enumerate(records) if word_spans(r) is None and r.get("split")]
    if not todo:
        return records
    bar = tqdm(total=len(todo), desc="prosody: word times", unit="utt", disable=not progress)
    results: dict[int, tuple] = {}
    lost = []
    jobs = ((i, records[i], config) for i in todo)
    for (i, _rec, _cfg), outcome in outcomes(executor_config, max(1, min(workers, len(todo))), _align_at, jobs, run):
        if outcome.ok:
            results[i] = outcome.value
        else:  # aligned_words keeps a bad clip's reason: this is a dead worker or a bug
            lost.append(f"{records[i]['id']}: {outcome.error}")
        bar.update()
    bar.close()
    if lost:
        raise BuildError(f"prosody word times: {len(lost)} record(s) were lost (a worker died or failed): "
                         + "; ".join(lost[:5]) + (" ..." if len(lost) > 5 else ""))
    out = list(records)
    for i in todo:
        words, why = results[i]
        meta = dict(out[i].get("meta") or {})
        if words:
            meta.update(words=words, words_source=SOURCE)
        else:
            meta["words_error"] = why
        out[i] = {**out[i], "meta": meta}
    return out
