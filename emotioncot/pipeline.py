"""The build: ingest -> measure -> calibrate -> write -> filter -> export -> report, each stage declared once in
``emotioncot.stages`` and run through ``run_stage`` (key, skip, errors, mark, timing), over a workspace so that
finished work is never redone.

Keys are chained (each stage's key hashes its settings and its parents' output keys), so an unchanged rerun decides
every skip from the stage metadata and reads no table; a stage that runs streams its parents' tables in record
batches (``emotioncot.batches``, ``emotioncot.stream``). The per-item stages run on the executor in resumable shards
(measure: ``stages/measure/``, template write: ``stages/write/``, filter checks: ``stages/filter/``; see
emotioncot/executors/shards.py); the LLM writer keeps each answer in a journal. A killed build resumes where it
stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import shutil
import time
from pathlib import Path

from tqdm import tqdm

from emotioncot import __version__
from emotioncot.config import BuildConfig
from emotioncot.errors import BuildError, Interrupted
from emotioncot.schema import GeneratedText, Levels, Measurements, Record, Utterance
from emotioncot.stages import STAGE_NAMES, StageResult, run_stage
from emotioncot.tables import atomic_path, commit, read_table, write_json_atomic, write_table
from emotioncot.workspace import Workspace, file_stamp, stable_hash

STAGES = STAGE_NAMES


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


class BuildTables:
    """The records of a build folder as one list, for what works on a small table in memory (the dry run, the
    LLM writer); the build streams them."""

    def __init__(self, ws: Workspace):
        self.ws = ws

    @property
    def records(self) -> list[dict]:
        """Every measured utterance with its levels: what the write stage reads."""
        from emotioncot.stream import iter_records, rows_of

        return list(rows_of(iter_records(self.ws)))


# ---------------------------------------------------------------- ingest


def run_ingest(ws: Workspace, sources: list[str], config: BuildConfig, progress: bool = True) -> list[dict]:
    _ingest_stage(ws, sources, config, progress)
    return read_table(ws.stage_table("ingest"), Utterance)


def _failed_files(errors: list[dict]) -> dict[str, list]:
    """The audio files of the items ingest left out, with their size and mtime then (a missing file: None)."""
    return {e["path"]: file_stamp(e["path"]) for e in errors if e.get("id") and e.get("path")}


def _ingest_stage(ws: Workspace, sources: list[str], config: BuildConfig, progress: bool, retry_failed: bool = False):
    from emotioncot.ingest import freshness
    from emotioncot.ingest.core import source_fingerprint

    watch = freshness.names_audio_elsewhere(sources)  # lists and hf: datasets: their audio is not in the fingerprint

    def produce() -> StageResult:
        from emotioncot.ingest import ingest_sources
        from emotioncot.measure.long_clips import cut_long_clips  # over-long clips: cut at pauses or rejected

        rows, errors = ingest_sources(sources, config.ingest, progress=None if progress else False)
        rows, cut_errors = cut_long_clips(rows, config.ingest.max_clip_s)
        errors = errors + cut_errors
        if not rows:
            ws.set_stage_errors("ingest", errors)
            from emotioncot.ingest.core import failure_summary

            raise BuildError(f"no usable utterances in {', '.join(sources)}: {failure_summary(errors)}")
        write_table(ws.stage_table("ingest"), rows, Utterance)
        failed_now = _failed_files(errors)
        rows_digest = freshness.digest_of(sorted(r["id"] for r in rows))
        # in the order the rerun reads them back: the table's rows, then the failed files
        listed = (r["audio_path"] for r in rows if watch and r["audio_path"])
        audio = freshness.audio_digest(itertools.chain(listed, failed_now))
        # A redo under the same key must give the stages after it a new parent key when it found other clips or
        # other audio (they would skip without it); one that found the same keeps theirs (--retry-failed on a file
        # that is still broken redoes nothing after ingest).
        digest = None
        if redo:
            same = (rows_digest, audio) == (before.get("rows_digest"), before.get("audio_digest"))
            digest = before.get("output_digest") if same else stable_hash(rows_digest, audio)
        from emotioncot.ingest.core import speaker_leaks

        return StageResult({"rows": len(rows), "errors": len(errors), "failed_files": failed_now,
                            "rows_digest": rows_digest, "audio_digest": audio, "output_digest": digest,
                            "speaker_leaks": speaker_leaks(rows)[:20]}, errors, output_digest=digest)

    # Corpus folders too, so that files added or changed under a corpus redo the ingest.
    stamps = [source_fingerprint(spec) for spec in sources]
    before = ws.stage_info("ingest")
    failed = before.get("failed_files") or {}
    redo = retry_failed and bool(failed)
    if not redo and before.get("audio_digest") and ws.stage_table("ingest").exists():
        kept = freshness.kept_audio_paths(ws.stage_table("ingest")) if watch else ()
        redo = freshness.audio_digest(itertools.chain(kept, failed)) != before["audio_digest"]
    return run_stage(ws, "ingest", config, produce, extra=[sources, stamps], force=redo)


# ---------------------------------------------------------------- measure


def measure_key(row: dict, config: BuildConfig) -> str:
    return stable_hash(
        row["id"], row["audio_path"], file_stamp(row["audio_path"]), row.get("start_s"), row.get("end_s"),
        row.get("transcript"), row.get("language"), config.measure.model_dump(mode="json", exclude={"workers"}),
        __version__,
    )


def run_measure(ws: Workspace, utterances, config: BuildConfig, progress: bool = True,
                executor=None, retry_failed: bool = False) -> list[dict]:
    """Measure every utterance, shard by shard, on ``config.executor`` (or the ``executor`` given).

    Workers write ``stages/measure/shard-NNNNN.parquet`` as they finish; a rerun measures only the items no
    shard holds. A shard whose worker died stays unwritten: the stage then stops with a BuildError, and
    the rerun does just those items. A clip's own failure (unreadable audio) is kept like a result;
    ``retry_failed`` measures such clips again (into new shards, which then win). ``utterances`` is the
    ingest table, or a function that reads it (called only when something is to be measured)."""
    _measure_stage(ws, utterances, config, progress, executor, retry_failed)
    return read_table(ws.stage_table("measure"), Measurements)


def _measure_stage(ws: Workspace, utterances, config: BuildConfig, progress: bool, executor=None,
                   retry_failed: bool = False):
    """``utterances``: None (stream the ingest table of ``ws``), a list, or a function that returns one. Three
    passes over them, holding about 30 bytes a clip: the keys' digests (what is done; a key stats the clip's file,
    once), the shards of the rest planned lazily on the executor, then the table assembled in ingest order from the
    shards' index by those digests."""
    from emotioncot.executors.shards import ShardStore

    store = ShardStore(ws.root / "stages" / "measure")
    failed = store.failed_keys() if retry_failed else set()  # the clips whose own failure was recorded

    def produce() -> StageResult:
        import numpy as np

        from emotioncot.batches import TableWriter, iter_rows
        from emotioncot.executors.shards import ShardTask, key64, measure_shard
        from emotioncot.stream import batched, rows_of

        if utterances is None:
            source = lambda: rows_of(iter_rows(ws.stage_table("ingest"), Utterance))  # noqa: E731
        else:
            given = utterances() if callable(utterances) else utterances
            source = lambda: iter(given)  # noqa: E731
        store._remove_temporaries()
        digests = np.fromiter((key64(measure_key(row, config)) for row in source()), dtype=np.uint64)
        todo = ~store.index().contains(digests)
        if failed:
            todo |= np.isin(digests, np.fromiter((key64(k) for k in failed), dtype=np.uint64, count=len(failed)))
        size = max(1, int(config.executor.shard_size))
        todo_n = int(todo.sum())
        start = store.next_number()

        def tasks():
            wanted = (row for row, go in zip(source(), todo.tolist()) if go)
            for n, chunk in enumerate(batched(wanted, size)):
                yield ShardTask(path=str(store.folder / f"shard-{start + n:05d}.parquet"), rows=chunk,
                                keys=[measure_key(row, config) for row in chunk], config=config.measure)

        run_info, per_worker = _run_shards(tasks(), measure_shard, len(digests), config, config.measure.workers,
                                           "measure", "clip", progress, executor, todo=(-(-todo_n // size), todo_n))
        index = store.index()
        errors, rows_n, at = [], 0, 0
        with TableWriter(ws.stage_table("measure"), Measurements) as table:
            for chunk in batched(source(), 2000):
                results = []
                found = index.entries_at(digests[at:at + len(chunk)])  # the first pass's keys: no file stat again
                at += len(chunk)
                for row, entry in zip(chunk, found):
                    if entry is None:  # cannot happen unless a shard file was deleted while we ran
                        raise BuildError(f"measure: no result for {row['id']} in {store.folder}; rerun the stage")
                    if entry["ok"] and not entry["result"].get("error"):
                        results.append(entry["result"])
                    else:
                        errors.append({"id": row["id"], "path": row["audio_path"],
                                       "reason": entry.get("reason") or entry["result"]["error"]})
                table.write(results)
                rows_n += len(results)
        return StageResult({"rows": rows_n, "errors": len(errors), "run": run_info, "workers": per_worker}, errors)

    return run_stage(ws, "measure", config, produce, force=bool(failed))


def _run_shards(tasks, fn, total: int, config: BuildConfig, workers: int, stage: str, unit: str,
                progress: bool, executor=None, todo: tuple[int, int] | None = None) -> tuple[dict, dict]:
    """Run ``fn`` over shard ``tasks`` on the executor; ``(run_info, per_worker)``. ``tasks`` is a list, or a lazy
    iterable (the executor holds a few at a time) with ``todo`` = (shards, items) it will give. A lost shard (its
    worker died) stops the stage with a BuildError after the others finished, so the rerun does just that shard."""
    from emotioncot.executors import make_executor

    shards, todo = todo if todo is not None else (len(tasks), sum(len(t.keys) for t in tasks))
    per_worker: dict[str, dict] = {}
    lost: list[str] = []
    run_info: dict = {"executor": config.executor.name, "shards_run": shards, "items_run": todo}
    if shards:
        own = executor is None
        executor = executor or make_executor(config.executor, max(1, min(workers, shards)))
        try:
            run_info.update(executor.describe())
            bar = tqdm(total=total, initial=total - todo, desc=f"{stage} ({executor.name})", unit=unit,
                       disable=not progress, smoothing=0.1)
            t0 = time.perf_counter()
            for task, outcome in executor.imap_unordered(fn, tasks):
                if outcome.ok:
                    rep = outcome.value
                    w = per_worker.setdefault(rep["worker"], {"shards": 0, "items": 0, "seconds": 0.0, "cpu_s": 0.0})
                    w["shards"] += 1
                    w["items"] += rep["items"]
                    w["seconds"] = round(w["seconds"] + rep["seconds"], 3)
                    w["cpu_s"] = round(w["cpu_s"] + rep["cpu_s"], 3)
                else:
                    lost.append(f"{Path(task.path).name} ({len(task.keys)} items): {outcome.error}")
                bar.update(len(task.keys))
            bar.close()
            run_info["wall_s"] = round(time.perf_counter() - t0, 3)
        except BaseException:
            if own:
                executor.abort()
            raise
        else:
            if own:
                executor.close()
    if lost and Interrupted.last_signal is not None:
        raise Interrupted(Interrupted.last_signal)  # shards lost to the interrupt, not to broken workers
    if lost:
        raise BuildError(f"{len(lost)} {stage} shard(s) were lost (their worker died or failed); rerun to "
                         f"do just those items: " + "; ".join(lost[:5]) + (" ..." if len(lost) > 5 else ""))
    return run_info, per_worker


def _item_shard_size(config: BuildConfig, items: int, workers: int) -> int:
    """Shards for the cheap per-item stages (template write, filter checks): enough that every worker has several
    (both cores work on the demo), few enough that a million records make a few hundred files, not thousands."""
    return max(config.executor.shard_size, min(5000, items // max(1, 4 * workers)))


def _run_item_stage(ws: Workspace, stage: str, batches, total: int, item_fn, item_config, config: BuildConfig,
                    stage_key: str, progress: bool, unit: str = "record", project=None) -> tuple[Path, int, dict]:
    """A cheap per-item stage on the executor in resumable shards under ``stages/<stage>/``. Shard N holds items
    N*size .. (N+1)*size-1 of the input stream (``batches``, ``total`` items), so the shards are planned lazily from
    the stream (the executor holds a few at a time) and read back in order; each item's key is the stage key and its
    id. A killed run redoes only the shards that were not written; a changed input (stage key) or shard size starts
    the folder afresh. ``project`` cuts a row down to what the workers need. Returns (folder, shards, run info)."""
    from emotioncot.executors.shards import SHARD_NAME, ShardStore, ShardTask, item_shard
    from emotioncot.stream import batched, rows_of

    store = ShardStore(ws.root / "stages" / stage)
    workers = config.measure.workers
    size = _item_shard_size(config, total, workers)
    store.keep_only(f"{stage_key} size={size}")
    store._remove_temporaries()
    done = {int(SHARD_NAME.match(p.name).group(1)) for p in store.shard_paths()}
    shards = -(-total // size)
    todo_items = sum(min(size, total - n * size) for n in range(shards) if n not in done)

    def tasks():
        for n, chunk in enumerate(batched(rows_of(batches), size)):
            if n in done:
                continue
            yield ShardTask(path=str(store.folder / f"shard-{n:05d}.parquet"),
                            rows=[project(r) for r in chunk] if project else chunk,
                            keys=[f"{stage_key}:{r['id']}" for r in chunk], config=item_config, item=item_fn)

    run_info, per_worker = _run_shards(tasks(), item_shard, total, config, workers, stage, unit, progress,
                                       todo=(shards - len(done & set(range(shards))), todo_items))
    return store.folder, shards, {"run": run_info, "workers": per_worker}


def _item_entries(folder: Path, shards: int):
    """The entries of an item stage's shards in item order (``{"id", "ok", "result", "reason"}``)."""
    import pyarrow.parquet as pq

    for n in range(shards):
        path = folder / f"shard-{n:05d}.parquet"
        if not path.exists():  # cannot happen unless a shard file was deleted while we ran
            raise BuildError(f"{folder.name}: shard {path.name} is missing; rerun the stage")
        for entry in pq.read_table(path, columns=["id", "ok", "reason", "result"]).to_pylist():
            entry["result"] = json.loads(entry["result"]) if entry["result"] else None
            yield entry


# ---------------------------------------------------------------- calibrate


def run_calibrate(ws: Workspace, joined=None, config: BuildConfig | None = None,
                  progress: bool = True) -> tuple[list[dict], dict]:
    """Calibrate the build's measured utterances (``joined`` is accepted for older callers and not read: the stage
    streams the ingest and measure tables of ``ws``); ``(levels, thresholds)``."""
    _calibrate_stage(ws, config or BuildConfig())
    return read_table(ws.stage_table("calibrate"), Levels), json.loads(ws.thresholds_path.read_text())


def _calibrate_stage(ws: Workspace, config: BuildConfig):
    """Two passes over the joined rows, batch by batch: fit (the few numbers per row the cut points need), then
    grade and write the levels while counting the evidence table and the report's tables."""
    given = None
    path = None
    if config.calibrate.thresholds_file:
        path = Path(config.calibrate.thresholds_file)
        if not path.exists():
            raise BuildError(f"{path}: thresholds file not found")
        given = path.read_text()

    def produce() -> StageResult:
        from collections import Counter

        from emotioncot.batches import TableWriter
        from emotioncot.calibrate.evidence import EvidenceTally
        from emotioncot.calibrate.levels import ThresholdFit, apply_thresholds, uncovered_groups, with_evidence
        from emotioncot.calibrate.report import CalibrationTally
        from emotioncot.ingest.core import exclusions_from_counts, unclassed_counts
        from emotioncot.stream import iter_joined, speaker_gender_estimates

        genders = speaker_gender_estimates(ws)
        fit, unclassed, missing = ThresholdFit(config.calibrate), Counter(), set()
        thresholds = json.loads(given) if given is not None else None
        for batch in iter_joined(ws, genders=genders):
            unclassed.update(unclassed_counts(batch))
            if thresholds is not None:
                missing.update(uncovered_groups(batch, thresholds))
            if thresholds is None or config.calibrate.report:
                fit.add(batch)
        if missing:  # never grade a record on nothing and call it "too few reliable values"
            missing = sorted(missing)
            raise BuildError(
                f"{path}: the thresholds hold no group for {len(missing)} calibration group(s) of this build, nor "
                f"a coarser or global fallback: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}; "
                f"it has {', '.join(list(thresholds.get('groups', {}))[:10])}. Refit the thresholds on these "
                f"corpora (leave out --thresholds) or use a file fitted with a global group")
        fitted = thresholds is None
        if fitted:
            thresholds = fit.thresholds()
        evidence, tally = EvidenceTally(), CalibrationTally()
        with TableWriter(ws.stage_table("calibrate"), Levels) as table:
            for batch in iter_joined(ws, genders=genders):
                levels = apply_thresholds(batch, thresholds)
                table.write(levels)
                if fitted:
                    evidence.add(batch, levels)
                if config.calibrate.report:
                    tally.add(batch, levels)
        if fitted:
            thresholds = with_evidence(thresholds, evidence, config.calibrate)
        write_json_atomic(ws.thresholds_path, thresholds)
        if config.calibrate.report:
            from emotioncot.calibrate import write_report

            write_report(fit, thresholds, tally, ws.root)  # calibration_report.txt (+ .png with matplotlib)
        # measured, in the calibration baseline, but with no class in the taxonomy: kept here so that the card of
        # an export run on its own says the same as the build's
        return StageResult({"rows": table.rows, "thresholds_version": thresholds["version"],
                            "excluded": exclusions_from_counts(unclassed)})

    return run_stage(ws, "calibrate", config, produce, extra=given)


# ---------------------------------------------------------------- write


def _writer_version(config: BuildConfig) -> str:
    if config.write.writer == "template":
        from emotioncot.write.template import PROMPT_ID

        return PROMPT_ID
    from emotioncot.write.llm import _prompt_hash, load_prompts

    return _prompt_hash(load_prompts(config.write))


def write_template_item(record: dict, how: tuple[str, dict | None]) -> dict:
    """One record through the template writer (a worker's item function), ``how`` being the label mode and the
    build's evidence table (the cues for and against each emotion): its text, or its own failure."""
    from emotioncot.write.template import write_template

    label_mode, evidence = how
    try:
        return {"ok": True, "result": write_template(record, label_mode, evidence)}
    except ValueError as exc:
        return {"ok": False, "reason": str(exc)}


def check_writer(config: BuildConfig) -> None:
    """Write settings no record can be written with are the run's error, said before any work (``WriteConfig.unusable``)."""
    why = config.write.unusable()
    if why:
        raise BuildError(why)


def run_write(ws: Workspace, records, config: BuildConfig, progress: bool = True) -> tuple[list[dict], dict]:
    """Write a caption and a rationale for each record (``records``: a list, or a function that reads them);
    ``(texts, writer_info)``. Skipped when nothing it depends on changed: the parents' keys, the writer's settings
    and the text it writes from (the template's version, the prompt files' contents), so that a new template or a
    prompt edited in place is written again rather than served from the last run."""
    check_writer(config)
    run = _write_stage(ws, records, config, progress)
    return read_table(ws.stage_table("write"), GeneratedText), _writer_info(run)


def _writer_info(run) -> dict:
    info = dict(run.info.get("writer_info", {}))
    if run.skipped:
        if "usage_this_run" in info:  # nothing was sent this time
            info["usage_this_run"] = {k: 0 for k in info["usage_this_run"]}
            info["requests"] = {**info.get("requests", {}), "to_send": 0,
                                "answered_before": run.info.get("rows", 0), "failed": 0}
        info["skipped"] = True
    return info


def _write_stage(ws: Workspace, records, config: BuildConfig, progress: bool):
    """``records``: None (stream the build's records from ``ws``), a list, or a function that returns one."""
    from emotioncot.stages import STAGES, stage_key

    extra = _writer_version(config)
    key = stage_key(ws, STAGES["write"], config, extra)

    def produce() -> StageResult:
        from emotioncot.batches import TableWriter
        from emotioncot.stream import batched, iter_records, rows_of

        if records is None:
            source = lambda: (rec for rec in rows_of(iter_records(ws)) if _writable(rec, config))  # noqa: E731
            total = _count_writable(ws, config)
        else:
            rows_given = writable(records() if callable(records) else records, config)[0]
            source, total = (lambda: iter(rows_given)), len(rows_given)
        if config.write.limit:  # --limit N: try a model or a prompt on the first N records
            total = min(total, config.write.limit)
            whole = source
            source = lambda: (rec for _, rec in zip(range(total), whole()))  # noqa: E731
        if config.write.writer == "template":
            from emotioncot.calibrate.evidence import load_evidence
            from emotioncot.write.template import PROMPT_ID, TEMPLATE_INPUTS

            how = (config.write.label_mode, load_evidence(ws.thresholds_path))
            folder, shards, run_info = _run_item_stage(
                ws, "write", batched(source()), total, write_template_item, how, config, key, progress,
                project=lambda row: {name: row.get(name) for name in TEMPLATE_INPUTS})  # all the workers need
            errors = []
            with TableWriter(ws.stage_table("write"), GeneratedText) as table:
                for entries in batched(_item_entries(folder, shards)):
                    table.write([e["result"] for e in entries if e["ok"]])
                    errors += [{"id": e["id"], "path": None, "reason": e["reason"]} for e in entries if not e["ok"]]
            if errors:  # the audio path of each failed record, for errors.jsonl
                failed = {e["id"]: e for e in errors}
                for rec in source():
                    if rec["id"] in failed:
                        failed[rec["id"]]["path"] = rec.get("audio_path")
            rows = table.rows
            info = {"writer": "template", "prompt_id": PROMPT_ID, "run": run_info["run"]}
        else:
            # the LLM writer reads the records a chunk at a time and hands back each chunk's rows in record order
            errors = []
            with TableWriter(ws.stage_table("write"), GeneratedText) as table:
                def sink(texts: list[dict], failed: list[dict]) -> None:
                    table.write(texts)
                    errors.extend(failed)

                if config.executor.name == "ray":
                    info = _write_on_ray(source(), ws, config, progress, total, sink)
                else:
                    from emotioncot.write.llm import write_with_llm

                    info = write_with_llm(source(), ws, config, progress, total=total, sink=sink)[2]
            rows = table.rows
        # LLM text is not a function of the inputs: its digest enters the chain, so a rewritten text redoes the filter
        digest = None if config.write.writer == "template" else _file_digest(ws.stage_table("write"))
        return StageResult({"rows": rows, "errors": len(errors), **info, "writer_info": info}, errors, digest)

    return run_stage(ws, "write", config, produce, extra=extra)


def _writable(record: dict, config: BuildConfig) -> bool:
    return config.write.label_mode != "aware" or bool(record.get("emotion"))


def _count_writable(ws: Workspace, config: BuildConfig) -> int:
    """How many records the write stage gets (read from two columns of the ingest and measure tables)."""
    from emotioncot.stream import merge_in_order, rows_of
    from emotioncot.batches import iter_rows

    pairs = merge_in_order(rows_of(iter_rows(ws.stage_table("ingest"), columns=["id", "emotion"])),
                           rows_of(iter_rows(ws.stage_table("measure"), columns=["id"])), "measure table")
    return sum(1 for utt, _ in pairs if _writable(utt, config))


def _write_on_ray(records, ws: Workspace, config: BuildConfig, progress: bool, total: int | None, sink) -> dict:
    """The LLM writer with its requests bounded by one limit shared across the Ray cluster (a named actor),
    so that other processes writing against the same endpoint, here or on other nodes, share the bound. Each
    chunk's rows and errors go to ``sink`` as for a local run; returns the writer's info."""
    from emotioncot.executors.limiter import ClusterLimiter
    from emotioncot.executors.ray_executor import RayExecutor
    from emotioncot.write.llm import write_with_llm

    with RayExecutor(1, address=config.executor.ray_address, object_store_mb=config.executor.ray_object_store_mb):
        limiter = ClusterLimiter.for_config(config)
        info = write_with_llm(records, ws, config, progress, limiter=limiter, total=total, sink=sink)[2]
        return {**info, "cluster_limit": limiter.stats()}




# ---------------------------------------------------------------- filter


def filter_item(record: dict, how: tuple) -> dict:
    """A record's own checks (a worker's item function), ``how`` being the filter settings and the build's evidence
    table: the row as the filter hands it on (a label-blind record with its inferred emotion) and its problems. The
    one check across records comes after (``filter.decide``)."""
    from emotioncot.filter.checks import checked

    filter_config, evidence = how
    out, problems = checked(record, filter_config, evidence)
    return {"ok": True, "result": {"inferred": out.get("inferred_emotion"), "problems": [list(p) for p in problems]}}


def run_filter(ws: Workspace, records, config: BuildConfig, progress: bool = False) -> tuple[list[dict], list[dict]]:
    """Keep or reject every written record (``records``: None to stream the build's records joined with their text,
    a list of them, or a function that reads them); ``(kept, rejected)``, read back from the stage's files."""
    _filter_stage(ws, records, config, progress)
    return read_table(ws.stage_table("filter"), Record), _read_jsonl(ws.root / "rejected.jsonl")


def _filter_stage(ws: Workspace, records, config: BuildConfig, progress: bool):
    """``records``: None (stream the build's records joined with their text from ``ws``), a list, or a function
    that returns one. The per-record checks run on the executor in shards; the one pass across records (near
    duplicates) then reads the rows in table order with the shards' verdicts, writing the kept table, the
    rejected rows and the counts as it goes."""
    from emotioncot.stages import STAGES, stage_key

    key = stage_key(ws, STAGES["filter"], config)

    def produce() -> StageResult:
        from emotioncot.batches import TableWriter, num_rows
        from emotioncot.calibrate.evidence import load_evidence
        from emotioncot.filter.checks import decisions
        from emotioncot.filter.duplicates import NearDuplicateIndex
        from emotioncot.ingest.estimates import estimates_summary
        from emotioncot.stream import batched, iter_with_text, rows_of
        from emotioncot.summary import RecordTally

        if records is None:
            source, total = (lambda: rows_of(iter_with_text(ws))), num_rows(ws.stage_table("write"))
        else:
            given = records() if callable(records) else records
            source, total = (lambda: iter(given)), len(given)
        how = (config.filter, load_evidence(ws.thresholds_path))  # the argument check weighs cues by the build's table
        folder, shards, run_info = _run_item_stage(ws, "filter", batched(source()), total, filter_item, how, config,
                                                   key, progress)
        verdicts = ((_with_inferred(record, entry["result"]["inferred"]),
                     [tuple(p) for p in entry["result"]["problems"]])
                    for record, entry in zip(source(), _item_entries(folder, shards)))
        tally, rejected_n = RecordTally(), 0
        rejected_path = ws.root / "rejected.jsonl"
        tmp = atomic_path(rejected_path)
        index = NearDuplicateIndex.for_config(config.filter, folder / "near_duplicates.sqlite") \
            if config.filter.check_duplicates else None
        try:
            with TableWriter(ws.stage_table("filter"), Record) as table, open(tmp, "w", encoding="utf-8") as out:
                for batch in batched(decisions(verdicts, config.filter, index)):
                    kept = [row for row, ok in batch if ok]
                    table.write(kept)
                    tally.add(kept)
                    for row, ok in batch:
                        if not ok:
                            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                            rejected_n += 1
            commit(tmp, rejected_path)
        finally:
            tmp.unlink(missing_ok=True)
            if index is not None:
                index.close()
        errors = ({"id": r["id"], "path": r.get("audio_path"), "reason": "rejected: " + r["explanation"]}
                  for r in _iter_jsonl(rejected_path))
        summary = tally.rows()
        return StageResult({"rows": table.rows, "rejected": rejected_n, "emotions": _count(summary, "emotion"),
                            "speakers": estimates_summary(summary), "run": run_info["run"]}, errors)

    return run_stage(ws, "filter", config, produce)


def _iter_jsonl(path: Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _with_inferred(record: dict, inferred: str | None) -> dict:
    return {**record, "inferred_emotion": inferred} if inferred and not record.get("inferred_emotion") else dict(record)


def _read_jsonl(path: Path) -> list[dict]:
    return list(_iter_jsonl(path))


# ---------------------------------------------------------------- export and report


def run_export(ws: Workspace, kept, config: BuildConfig, progress: bool = True) -> dict:
    """Write the exports of the kept records (None: stream the filter table; a list, or a function that reads
    them); the rows per split. The card's
    taxonomy table and writer come from the calibrate and write stages' records, so an export run on its own writes
    the same card as the build."""
    return _export_stage(ws, kept, config, progress).info["counts"]


def _export_stage(ws: Workspace, kept, config: BuildConfig, progress: bool):
    """``kept``: None (stream the filter table of ``ws``), a list, or a function that returns one."""
    def produce() -> StageResult:
        from emotioncot.batches import iter_rows, num_rows
        from emotioncot.export import export_records
        from emotioncot.stream import rows_of

        if not progress:
            import datasets  # imported only when there is something to export (it takes a second or two)

            datasets.disable_progress_bars()
        if kept is None:
            rows, total = rows_of(iter_rows(ws.stage_table("filter"), Record)), num_rows(ws.stage_table("filter"))
        else:
            rows = kept() if callable(kept) else kept
            total = len(rows)
        errors: list[dict] = []
        excluded = ws.stage_info("calibrate").get("excluded", []) if config.write.label_mode == "aware" else []
        counts = export_records(
            rows, ws.root, embed_audio=config.export.embed_audio, shard_max_mb=config.export.shard_max_mb,
            errors=errors, excluded=excluded, writer_info=ws.stage_info("write").get("writer_info", {}),
            prompt_style=config.export.prompt_style, total=total,
        )
        return StageResult({"counts": counts, "errors": len(errors)}, errors)

    return run_stage(ws, "export", config, produce)


def run_report(ws: Workspace, config: BuildConfig, log=print, progress: bool = False) -> dict:
    """The explorer report (``report/``) of the finished build; skipped when nothing it shows changed."""
    return run_stage(ws, "report", config, lambda: _report_result(ws, config, log, progress)).info


# ---------------------------------------------------------------- the whole build


def build(sources: list[str], out: Path, config: BuildConfig | None = None, progress: bool = True, log=print,
          dry_run: int = 0, retry_failed: bool = False) -> dict:
    """Run every stage over ``sources`` into the workspace ``out``; return the build summary (build.json).

    ``dry_run=N`` stops before writing: prints the first N records' LLM prompts and the estimated tokens
    of the write stage, sends nothing, and returns ``{"dry_run": estimate}``."""
    config = config or BuildConfig()
    check_writer(config)
    fresh, owned = not Path(out).exists(), False
    try:
        ws = Workspace(out)
        with ws.lock(log), stop_on_signals():
            owned = True  # only the lock's holder may tidy up: a build refused the lock leaves the folder alone
            ws.claim_sources(sources)
            return _build(ws, sources, config, progress, log, dry_run, retry_failed)
    except BaseException:
        if fresh and owned:
            _remove_if_nothing_kept(Path(out))
        raise


# Bookkeeping a build writes before any work: a folder holding only these kept nothing worth resuming.
_BOOKKEEPING = {".lock", "sources.json", "errors.jsonl", "ingest.errors.json"}  # the error names the reasons


def _remove_if_nothing_kept(out: Path) -> None:
    """A build that failed before finishing any work leaves no folder behind (it made the folder itself, so
    nothing of the user's is in it); one that kept work leaves it, so a rerun resumes."""
    if not out.is_dir():
        return
    for path in out.rglob("*"):
        if path.is_file() and path.name not in _BOOKKEEPING and path.stat().st_size > 0:
            return
    shutil.rmtree(out, ignore_errors=True)


@contextlib.contextmanager
def stop_on_signals():
    """SIGINT and SIGTERM raise ``Interrupted`` in the main thread, so that the build unwinds (workers
    killed, shards in flight dropped, every finished table and shard kept) and the CLI says how to resume."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Interrupted(signum)

    Interrupted.last_signal = None
    before = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
        Interrupted.last_signal = None


def _build(ws: Workspace, sources: list[str], config: BuildConfig, progress: bool, log, dry_run: int,
           retry_failed: bool = False) -> dict:
    started = time.perf_counter()
    tables = BuildTables(ws)
    runs: dict = {}
    counts: dict = {}
    runs["ingest"] = _ingest_stage(ws, sources, config, progress, retry_failed)
    counts["ingest"] = runs["ingest"].info["rows"]
    for leak in runs["ingest"].info.get("speaker_leaks", []):
        log(f"warning: {leak}")
    runs["measure"] = _measure_stage(ws, None, config, progress, None, retry_failed)
    counts["measure"] = runs["measure"].info["rows"]
    if dry_run:
        _calibrate_stage(ws, config)
        from emotioncot.write.llm import dry_run as print_prompts

        return {"dry_run": print_prompts(writable(tables.records, config)[0], config, dry_run, ws)}
    stages_after_measure(ws, tables, config, progress, log, runs, counts, sources)
    split_counts = runs["export"].info["counts"]
    writer_info = _writer_info(runs["write"])
    excluded = runs["calibrate"].info.get("excluded", []) if config.write.label_mode == "aware" else []
    seconds = {name: run.info.get("seconds", 0.0) for name, run in runs.items()}
    summary = {
        "tool": "emotioncot",
        "tool_version": __version__,
        "sources": sources,
        "config": config.public_dict(),
        "counts": counts,
        "errors": ws.error_count(),
        "splits": split_counts,
        "emotions": runs["filter"].info.get("emotions", {}),
        "speakers": runs["filter"].info.get("speakers", {}),  # voice clusters; where gender, age, language came from
        # measured, in the calibration baseline, but no record: the taxonomy has no class for their label
        "excluded": {"total": counts["excluded"], "by_label": excluded},
        # what each stage took when it ran (a skipped stage keeps its figure), and this run's wall time
        "seconds": {**{s: seconds.get(s, 0.0) for s in STAGES}, "total": round(sum(seconds.values()), 3),
                    "this_run": round(time.perf_counter() - started, 3)},
        "skipped": [name for name, run in runs.items() if run.skipped],
        # Where the measure stage ran and what each worker did (of the run that produced the table).
        "measure_run": {**runs["measure"].info.get("run", {}), "per_worker": runs["measure"].info.get("workers", {})},
        "writer": writer_info,
        "thresholds_version": runs["calibrate"].info.get("thresholds_version"),
        "prompt_style": config.export.prompt_style,
    }
    write_json_atomic(ws.build_json, summary)  # the report shows it, and a build stopped in the report keeps it
    if config.report.enabled:
        runs["report"] = run_stage(ws, "report", config, lambda: _report_result(ws, config, log, progress))
        seconds["report"] = runs["report"].info.get("seconds", 0.0)
        summary["seconds"] = {**summary["seconds"], "report": seconds["report"],
                              "total": round(sum(seconds.values()), 3),
                              "this_run": round(time.perf_counter() - started, 3)}
        summary["skipped"] = [name for name, run in runs.items() if run.skipped]
        write_json_atomic(ws.build_json, summary)
    return summary


def stages_after_measure(ws: Workspace, tables: "BuildTables", config: BuildConfig, progress: bool, log,
                         runs: dict, counts: dict, sources: list[str]) -> None:
    """calibrate, write, filter and export, into ``runs`` and ``counts``. Each table is let go once no later stage
    reads it, so that at most the tables of two neighbouring stages are held at once."""
    def failed(stage: str, reason: str, writer_info: dict | None = None) -> BuildError:
        """A build that stops still leaves build.json saying where and why."""
        write_json_atomic(ws.build_json, {"tool": "emotioncot", "tool_version": __version__, "sources": sources,
                                          "config": config.public_dict(), "counts": counts, "failed": stage,
                                          "reason": reason, "writer": writer_info or {},
                                          "errors": ws.error_count()})
        return BuildError(reason)

    runs["calibrate"] = _calibrate_stage(ws, config)
    counts["calibrate"] = runs["calibrate"].info["rows"]
    excluded = runs["calibrate"].info.get("excluded", []) if config.write.label_mode == "aware" else []
    counts["excluded"] = sum(e["clips"] for e in excluded)
    if config.write.writer == "template":
        log("writer: template (offline, deterministic; pass --writer openai with --base-url/--model to use an LLM)")
    try:
        runs["write"] = _write_stage(ws, None, config, progress)
    except Exception as exc:
        # WriteError's module imports openai (most of a second): imported only when something failed.
        from emotioncot.write.llm import WriteError

        if isinstance(exc, WriteError):
            raise failed("write", str(exc)) from None
        raise
    writer_info = _writer_info(runs["write"])
    counts["write"] = runs["write"].info["rows"]
    if not counts["write"]:
        reasons = _count([{"r": e.get("reason", "")[:200]} for e in ws.stage_errors("write")], "r")
        top = max(reasons, key=reasons.get) if reasons else "no error recorded"
        raise failed("write", f"no record was written: every write failed; most common cause ({reasons.get(top, 0)} "
                              f"records): {top}; see {ws.root / 'errors.jsonl'}", writer_info)
    runs["filter"] = _filter_stage(ws, None, config, progress)
    counts["filter"] = runs["filter"].info["rows"]
    counts["rejected"] = runs["filter"].info["rejected"]
    if not counts["filter"]:
        raise failed("filter", f"every record was rejected by the filter; see {ws.root / 'rejected.jsonl'}", writer_info)
    runs["export"] = _export_stage(ws, None, config, progress)
    split_counts = runs["export"].info["counts"]
    counts["export"] = sum(split_counts.values())
    from emotioncot.validate_build import split_warnings

    for warning in split_warnings(split_counts):
        log(f"warning: {warning['message']} (few speakers or a small list; metrics on it would mean little)")


def _report_result(ws: Workspace, config: BuildConfig, log, progress: bool = False) -> StageResult:
    from emotioncot.report import write_report

    info = write_report(ws.root, ws.root / "report", config.report, progress=progress,
                        executor_config=config.executor, workers=config.measure.workers)
    log(f"report: {ws.root / 'report' / 'index.html'} ({info['pages']} record pages, {info['bytes'] / 1e6:.1f} MB)")
    return StageResult(info)


def writable(records: list[dict], config: BuildConfig) -> tuple[list[dict], list[dict]]:
    """The records the write stage gets, and the taxonomy's exclusions (``ingest.core.taxonomy_exclusions``):
    a label-aware writer needs the gold class, so clips whose label has none (EmoDB boredom, RAVDESS calm)
    are left out here, counted, and never reported as write errors. They stay in the calibration baseline."""
    if config.write.label_mode != "aware":
        return records, []
    from emotioncot.ingest.core import taxonomy_exclusions

    return [rec for rec in records if rec.get("emotion")], taxonomy_exclusions(records)


def load_records(ws: Workspace, with_texts: bool = True) -> list[dict]:
    """The joined records of a build folder from its stage tables, as one list (for the single-stage commands)."""
    from emotioncot.stream import iter_records, iter_with_text, rows_of

    return list(rows_of(iter_with_text(ws) if with_texts else iter_records(ws)))


def _count(rows: list[dict], field: str) -> dict:
    out: dict = {}
    for row in rows:
        out[row.get(field)] = out.get(row.get(field), 0) + row.get("_n", 1)  # a summary row stands for _n records
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))
