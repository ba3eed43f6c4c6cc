"""Building the prosody task dataset: plan every item, generate and verify the audio (one WORLD analysis per
source utterance, resumable), balance the answers, export.

Generated clips are written to ``OUT/work/clips/`` (atomically) and each finished source utterance is
journalled in ``OUT/work/journal.jsonl``, keyed by everything its items depend on, so an interrupted run
redoes only the utterances it had not finished. Every item that was planned and not exported is listed in
``OUT/dropped.jsonl`` with its reason.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from emotioncot import __version__
from emotioncot.config import ExecutorConfig, ProsodyConfig
from emotioncot.errors import BuildError
from emotioncot.prosody import tasks_compare, tasks_stress
from emotioncot.prosody.questions import with_options
from emotioncot.prosody.schema import FAMILIES, TASKS
from emotioncot.prosody.tasks_attributes import attribute_items
from emotioncot.tables import atomic_path, commit, write_json_atomic, write_text_atomic
from emotioncot.workspace import Journal, stable_hash

GENERATION_VERSION = "1"


def _duration(rec: dict) -> float | None:
    if rec.get("duration_s"):
        return float(rec["duration_s"])
    if rec.get("start_s") is not None and rec.get("end_s") is not None:
        return float(rec["end_s"] - rec["start_s"])
    return None


def plan(records: list[dict], config: ProsodyConfig) -> tuple[dict[str, list[dict]], list[dict]]:
    """Generated items per source id (compare and stress), dealt out round-robin per task and split."""
    per_source: dict[str, list[dict]] = defaultdict(list)
    skipped: list[dict] = []
    split_turn: Counter = Counter()
    task_turn: Counter = Counter()
    for rec in sorted(records, key=lambda r: r["id"]):
        split = rec.get("split")
        duration = _duration(rec)
        reason = None
        if not split:
            reason = "record has no split"
        elif duration is not None and duration > config.max_source_s:
            reason = f"source is {duration:.1f} s long, over max_source_s {config.max_source_s} s"
        elif duration is not None and duration < config.min_source_s:
            reason = f"source is {duration:.2f} s long, under min_source_s {config.min_source_s} s"
        elif not rec.get("f0_median_hz"):
            reason = "no voiced speech measured (whispered or unvoiced: no pitch to change or compare)"
        if reason:
            for family in ("compare", "stress"):
                if family in config.tasks:
                    skipped.append({"source_id": rec["id"], "task": family, "reason": reason})
            continue
        if "compare" in config.tasks:
            for j in range(config.per_utterance):
                n_tasks = len(tasks_compare.COMPARE_TASKS)
                task = tasks_compare.COMPARE_TASKS[tasks_compare.deal(f"compare/{split}", split_turn[("compare", split)], n_tasks)]
                split_turn[("compare", split)] += 1
                item = tasks_compare.plan_item(task, task_turn[(task, split)], config, split)
                task_turn[(task, split)] += 1
                per_source[rec["id"]].append({**item, "split": split, "id": f"{rec['id']}__{task}__{j}"})
        if "stress" in config.tasks:
            words_used = set()
            for j in range(config.per_utterance):
                item = tasks_stress.plan_item(rec, task_turn[("stress_word", split)], config, split)
                if isinstance(item, str):
                    skipped.append({"source_id": rec["id"], "task": "stress_word", "reason": item})
                    break
                if item["answer"] in words_used:
                    continue
                words_used.add(item["answer"])
                task_turn[("stress_word", split)] += 1
                per_source[rec["id"]].append({**item, "split": split, "id": f"{rec['id']}__stress_word__{j}"})
    return dict(per_source), skipped


def _plan_key(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "versions"}


def source_key(rec: dict, items: list[dict], config: ProsodyConfig) -> str:
    try:
        st = os.stat(rec["audio_path"])
        stamp = [st.st_size, int(st.st_mtime)]
    except OSError:
        stamp = None
    cfg = config.model_dump(mode="json", exclude={"workers", "tasks", "per_utterance", "balance_tolerance", "min_per_answer", "embed_audio"})
    return stable_hash(
        GENERATION_VERSION, __version__, rec["id"], rec["audio_path"], stamp, rec.get("start_s"), rec.get("end_s"),
        rec.get("transcript"), cfg, [_plan_key(i) for i in items],
    )


def _source_fields(rec: dict) -> dict:
    return {
        "source_id": rec["id"],
        "corpus": rec.get("corpus"),
        "speaker_id": rec.get("speaker_id"),
        "split": rec.get("split"),
        "transcript": rec.get("transcript"),
    }


def generate_source(rec: dict, items: list[dict], config: ProsodyConfig, clip_dir: str) -> dict:
    """All generated items of one source utterance: one WORLD analysis, one resynthesis set per item.

    Returns {"items": [...], "drops": [...]}; never raises for a bad clip (its items are dropped)."""
    import soundfile as sf

    from emotioncot.audio.io import read_record_audio
    from emotioncot.prosody import world

    base = _source_fields(rec)
    try:
        y, sr = read_record_audio(rec)
        y, sr = world.resample(y, sr, config.sample_rate)
        source = world.Source(world.analyze(y, sr, config.frame_period_ms, config.f0_method))
    except Exception as exc:  # one bad clip never stops the run
        reason = f"{rec['audio_path']}: cannot analyse ({type(exc).__name__}: {exc})"
        return {"items": [], "drops": [{**base, "id": i["id"], "task": i["task"], "reason": reason} for i in items]}
    out_items, drops = [], []
    for item in items:
        family = TASKS[item["task"]]
        try:
            if family == "compare":
                audio, measured, reason = tasks_compare.render(source, item, rec.get("transcript"), config)
            else:
                audio, measured, reason = tasks_stress.render(source, item, config)
        except Exception as exc:
            audio, measured, reason = None, {}, f"generation failed ({type(exc).__name__}: {exc})"
        if reason:
            drops.append({**base, "id": item["id"], "task": item["task"], "reason": reason, "measured": measured})
            continue
        clip = Path(clip_dir) / f"{stable_hash(item['id'])}.wav"
        tmp = atomic_path(clip)
        try:
            sf.write(str(tmp), np.clip(audio, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
            commit(tmp, clip)
        finally:
            tmp.unlink(missing_ok=True)
        out_items.append(
            {
                **base,
                **{k: item[k] for k in ("id", "task", "stem", "options", "answer", "balance_key", "intended")},
                "family": family,
                "audio_path": None,
                "start_s": None,
                "end_s": None,
                "audio_generated": True,
                "clip_file": str(clip),
                "duration_s": len(audio) / sr,
                "sample_rate": sr,
                "measured": measured,
            }
        )
    return {"items": out_items, "drops": drops}


class SourceTask(NamedTuple):
    """The generated items of one source utterance, to render on a worker."""

    source_id: str
    record: dict
    items: list[dict]
    config: ProsodyConfig
    clip_dir: str


def generate_source_task(task: SourceTask) -> dict:
    return generate_source(task.record, task.items, task.config, task.clip_dir)


def _generate_all(records: list[dict], plans: dict[str, list[dict]], out: Path, config: ProsodyConfig, progress: bool,
                  executor_config: ExecutorConfig | None = None, run: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Every source's items on the executor (the clips are written by the workers into ``out/work/clips``: on a
    Ray cluster that folder must be shared storage), journalled as each source finishes; ``run`` gets what ran
    them."""
    from emotioncot.executors import outcomes

    by_id = {r["id"]: r for r in records}
    clip_dir = out / "work" / "clips"
    clip_dir.mkdir(parents=True, exist_ok=True)
    items, drops = [], []
    with Journal(out / "work" / "journal.jsonl") as journal:
        keys = {sid: source_key(by_id[sid], plan_items, config) for sid, plan_items in plans.items()}

        def done(sid: str) -> bool:
            entry = journal.get(keys[sid])
            return entry is not None and all(Path(i["clip_file"]).exists() for i in entry["items"])

        todo = [sid for sid in plans if not done(sid)]
        bar = tqdm(total=len(plans), initial=len(plans) - len(todo), desc="prosody clips", unit="utt", disable=not progress)
        if todo:
            lost = []
            tasks = (SourceTask(sid, by_id[sid], plans[sid], config, str(clip_dir)) for sid in todo)
            workers = max(1, min(config.workers, len(todo)))
            for task, outcome in outcomes(executor_config, workers, generate_source_task, tasks, run):
                if outcome.ok:
                    journal.append(keys[task.source_id], outcome.value)
                else:  # generate_source keeps a bad clip's reasons: this is a dead worker or a bug
                    lost.append(f"{task.source_id}: {outcome.error}")
                bar.update()
            if lost:
                raise BuildError(f"prosody tasks: {len(lost)} source(s) were lost (a worker died or failed); rerun to "
                                 "do just those: " + "; ".join(lost[:5]) + (" ..." if len(lost) > 5 else ""))
        bar.close()
        for sid in plans:
            entry = journal.get(keys[sid])
            items += entry["items"]
            drops += entry["drops"]
    return items, drops


def balance(items: list[dict], config: ProsodyConfig) -> tuple[list[dict], list[dict]]:
    """Per task: leave out answers rarer than ``min_per_answer`` in any split, finalise the options of
    attribute questions to the answers left, then trim every (task, split) so that the most frequent
    answer is at most ``1 + balance_tolerance`` times the rarest. Trimming keeps a stable pseudo-random
    subset (ordered by a hash of the item id)."""
    dropped: list[dict] = []
    by_task: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        by_task[it["task"]].append(it)
    kept_all: list[dict] = []
    for task, task_items in sorted(by_task.items()):
        splits = sorted({it["split"] for it in task_items})
        counts = {s: Counter(it["balance_key"] for it in task_items if it["split"] == s) for s in splits}
        keys = set().union(*counts.values())
        usable = {k for k in keys if all(counts[s][k] >= config.min_per_answer for s in splits)}
        if "vocabulary" in task_items[0]:
            usable &= set(task_items[0]["vocabulary"])
        if len(usable) < 2:
            for it in task_items:
                dropped.append(_drop(it, f"balance: fewer than two answers reach {config.min_per_answer} items in every split ({dict(sum(counts.values(), Counter()))})"))
            continue
        if "vocabulary" in task_items[0]:
            options = [v for v in task_items[0]["vocabulary"] if v in usable]
        else:
            options = None
        for s in splits:
            in_split = [it for it in task_items if it["split"] == s]
            low = min(counts[s][k] for k in usable)
            cap = int(np.floor(low * (1 + config.balance_tolerance) + 1e-9))
            taken: Counter = Counter()
            for it in sorted(in_split, key=lambda i: stable_hash(i["id"])):
                k = it["balance_key"]
                if k not in usable:
                    dropped.append(_drop(it, f"balance: answer {k!r} too rare to balance in {task}"))
                elif taken[k] >= cap:
                    dropped.append(_drop(it, f"balance: {task} ({s}) already has {cap} items answered {k!r}"))
                else:
                    taken[k] += 1
                    kept_all.append({**it, **({"options": options} if options else {})})
    for it in kept_all:
        it["question"] = with_options(it["stem"], it["options"])
    return kept_all, dropped


def _drop(item: dict, reason: str) -> dict:
    return {k: item.get(k) for k in ("id", "task", "source_id", "split")} | {"reason": reason}


def _finish_attribute(item: dict) -> dict:
    from emotioncot.audio.io import audio_info

    info = audio_info(item["audio_path"])
    if not item.get("duration_s"):
        item["duration_s"] = info.duration_s
    item["sample_rate"] = info.sample_rate
    return item


def build_tasks(records: list[dict], out: Path, config: ProsodyConfig | None = None, progress: bool = True,
                measure_config=None, executor_config: ExecutorConfig | None = None) -> dict:
    """Make the task dataset of ``records`` (build records with levels, measurements, split) in ``out``;
    ``measure_config``: the build's measure settings, for aligning word times (default: the defaults);
    ``executor_config``: where the sources are rendered (default: a local pool of ``config.workers``)."""
    from emotioncot.export.writer import datasets_progress_bars
    from emotioncot.prosody.export import export_tasks

    config = config or ProsodyConfig()
    unknown = set(config.tasks) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown task families {sorted(unknown)}; choose from {', '.join(FAMILIES)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    items: list[dict] = []
    drops: list[dict] = []
    runs: dict[str, dict] = {}  # the executor of each step that ran on one (empty where nothing was left to do)
    if "attributes" in config.tasks:
        attr, skipped = attribute_items(records)
        for it in attr:
            try:
                items.append(_finish_attribute(it))
            except Exception as exc:
                drops.append({**_drop(it, f"source audio unusable ({exc})")})
        drops += skipped
    if "stress" in config.tasks:  # real recordings carry no word times: align them as the measure stage does
        from emotioncot.prosody.word_times import with_word_times

        records = with_word_times(records, measure_config, config.workers, progress, executor_config,
                                  runs.setdefault("word_times", {}))
    plans, skipped = plan(records, config)
    drops += skipped
    t0 = time.perf_counter()
    generated, gen_drops = (_generate_all(records, plans, out, config, progress, executor_config,
                                          runs.setdefault("generation", {})) if plans else ([], []))
    generation_s = time.perf_counter() - t0
    items += generated
    drops += gen_drops
    kept, trimmed = balance(items, config)
    drops += trimmed
    kept.sort(key=lambda i: (i["split"], i["source_id"], i["id"]))
    with datasets_progress_bars(progress):
        counts = export_tasks(kept, out, config)
    write_text_atomic(out / "dropped.jsonl", "".join(json.dumps(d, ensure_ascii=False, default=str) + "\n" for d in drops))
    generated_audio_s = sum(i["duration_s"] for i in generated)
    summary = {
        "tool": "emotioncot prosody-tasks",
        "tool_version": __version__,
        "config": config.model_dump(mode="json", exclude={"workers"}),
        "sources": len(records),
        "splits": counts,
        "tasks": dict(sorted(Counter(i["task"] for i in kept).items())),
        "answers": {t: dict(sorted(Counter(i["answer"] for i in kept if i["task"] == t).items())) for t in sorted({i["task"] for i in kept})},
        "dropped": len(drops),
        "drop_reasons": dict(Counter(_reason_class(d["reason"]) for d in drops).most_common()),
        "generated_audio_s": round(generated_audio_s, 2),
        "seconds": {"generation": round(generation_s, 2), "total": round(time.perf_counter() - started, 2)},
        "run": runs,
    }
    write_json_atomic(out / "prosody_tasks.json", summary)
    from emotioncot.prosody.export import write_card

    write_card(out, summary)
    return summary


def _reason_class(reason: str) -> str:
    """A short class of a drop reason, for counting (the full reason is in dropped.jsonl)."""
    if reason.startswith("balance:"):
        return "balance"
    for marker in ("pitch change", "level change", "tempo ratio", "word pitch change", "word level change", "outside the word", "cannot analyse", "generation failed"):
        if marker in reason:
            return marker
    return reason.split(" (")[0][:60]
