"""The build: ingest -> measure -> calibrate -> write -> filter -> export, each a function from tables
to tables, run over a workspace so that finished work is never redone.

Every stage has a key (a hash of its input table and its configuration). A stage whose key matches the
one recorded beside its table is skipped. The per-item stages keep each finished item as it finishes
(measure: result shards under stages/measure/, see emotioncot/executors/shards.py; write: a journal), so a
killed build resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from emotioncot import __version__
from emotioncot.build_seconds import stage_seconds
from emotioncot.config import BuildConfig
from emotioncot.errors import BuildError, Interrupted
from emotioncot.measure.item import measure_one as _measure_one  # noqa: F401  (old import path)
from emotioncot.schema import GeneratedText, Levels, Measurements, Record, Utterance
from emotioncot.tables import read_table, write_json_atomic, write_table
from emotioncot.workspace import Workspace, stable_hash

STAGES = ("ingest", "measure", "calibrate", "write", "filter", "export")


def _file_stamp(path: str) -> list:
    try:
        st = os.stat(path)
        return [st.st_size, int(st.st_mtime)]
    except OSError:
        return [None, None]


def _table_key(rows: list[dict]) -> str:
    return stable_hash(rows)


# ---------------------------------------------------------------- stages (tables in, tables out)


def run_ingest(ws: Workspace, sources: list[str], config: BuildConfig, progress: bool = True) -> list[dict]:
    from emotioncot.ingest import ingest_sources
    from emotioncot.ingest.core import source_fingerprint

    # Corpus folders too, so that files added or changed under a corpus redo the ingest.
    stamps = [source_fingerprint(spec) for spec in sources]
    key = stable_hash("ingest", __version__, sources, stamps, config.ingest.model_dump(mode="json", exclude={"workers"}))
    if ws.stage_done("ingest", key):
        return read_table(ws.stage_table("ingest"), Utterance)
    rows, errors = ingest_sources(sources, config.ingest, progress=None if progress else False)
    from emotioncot.measure.long_clips import cut_long_clips  # over-long clips: cut at pauses or rejected

    rows, cut_errors = cut_long_clips(rows, config.ingest.max_clip_s)
    errors = errors + cut_errors
    if not rows:
        ws.set_stage_errors("ingest", errors)
        from emotioncot.ingest.core import failure_summary

        raise BuildError(f"no usable utterances in {', '.join(sources)}: {failure_summary(errors)}")
    write_table(ws.stage_table("ingest"), rows, Utterance)
    ws.set_stage_errors("ingest", errors)
    ws.mark_stage("ingest", key, {"rows": len(rows), "errors": len(errors)})
    return rows


def measure_key(row: dict, config: BuildConfig) -> str:
    return stable_hash(
        row["id"], row["audio_path"], _file_stamp(row["audio_path"]), row.get("start_s"), row.get("end_s"),
        row.get("transcript"), row.get("language"), config.measure.model_dump(mode="json", exclude={"workers"}),
        __version__,
    )


def run_measure(ws: Workspace, utterances: list[dict], config: BuildConfig, progress: bool = True,
                executor=None, retry_failed: bool = False) -> list[dict]:
    """Measure every utterance, shard by shard, on ``config.executor`` (or the ``executor`` given).

    Workers write ``stages/measure/shard-NNNNN.parquet`` as they finish; a rerun measures only the items no
    shard holds. A shard whose worker died stays unwritten: the stage then stops with a BuildError, and
    the rerun does just those items. A clip's own failure (unreadable audio) is kept like a result;
    ``retry_failed`` measures such clips again (into new shards, which then win)."""
    from emotioncot.executors import make_executor
    from emotioncot.executors.shards import ShardStore, measure_shard

    keys = [measure_key(row, config) for row in utterances]
    stage_key = stable_hash("measure", sorted(keys))
    store = ShardStore(ws.root / "stages" / "measure")
    retry = set()
    if retry_failed:  # the clips whose own failure was recorded
        retry = {e["key"] for e in store.iter_entries(set(keys)) if not e["ok"] or (e["result"] or {}).get("error")}
    if ws.stage_done("measure", stage_key) and not retry:
        return read_table(ws.stage_table("measure"), Measurements)
    tasks = store.plan(utterances, keys, config.executor.shard_size, config.measure, redo=retry)
    todo = sum(len(t.keys) for t in tasks)
    per_worker: dict[str, dict] = {}
    lost: list[str] = []
    run_info: dict = {"executor": config.executor.name, "shards_run": len(tasks), "items_run": todo}
    if tasks:
        own = executor is None
        workers = max(1, min(config.measure.workers, len(tasks)))
        executor = executor or make_executor(config.executor, workers)
        try:
            run_info.update(executor.describe())
            bar = tqdm(total=len(utterances), initial=len(utterances) - todo, desc=f"measure ({executor.name})",
                       unit="clip", disable=not progress, smoothing=0.1)
            t0 = time.perf_counter()
            for task, outcome in executor.imap_unordered(measure_shard, tasks):
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
        raise BuildError(f"{len(lost)} measure shard(s) were lost (their worker died or failed); rerun to "
                         f"measure just those items: " + "; ".join(lost[:5]) + (" ..." if len(lost) > 5 else ""))
    wanted = set(keys)
    by_key = {entry["key"]: entry for entry in store.iter_entries(wanted)}
    results, errors = [], []
    for row, key in zip(utterances, keys):
        entry = by_key.get(key)
        if entry is None:  # cannot happen unless a shard file was deleted while we ran
            raise BuildError(f"measure: no result for {row['id']} in {store.folder}; rerun the stage")
        if entry["ok"] and not entry["result"].get("error"):
            results.append(entry["result"])
        else:
            reason = entry.get("reason") or entry["result"]["error"]
            errors.append({"id": row["id"], "path": row["audio_path"], "reason": reason})
    write_table(ws.stage_table("measure"), results, Measurements)
    ws.set_stage_errors("measure", errors)
    ws.mark_stage("measure", stage_key, {"rows": len(results), "errors": len(errors), "run": run_info,
                                         "workers": per_worker})
    return read_table(ws.stage_table("measure"), Measurements)


def _joined(utterances: list[dict], measurements: list[dict], levels: list[dict] | None = None) -> list[dict]:
    by_id = {m["id"]: m for m in measurements}
    level_by_id = {lv["id"]: lv for lv in (levels or [])}
    out = []
    for utt in utterances:
        m = by_id.get(utt["id"])
        if m is None:
            continue
        row = {**utt}
        for k, v in m.items():
            if k in ("estimated_gender", "estimated_gender_confidence", "error"):
                continue
            row[k] = v
        if not row.get("gender") and m.get("estimated_gender"):
            row["gender"], row["gender_source"] = m["estimated_gender"], "estimated"
        if levels is not None:
            lv = level_by_id.get(utt["id"], {})
            row.update({k: v for k, v in lv.items() if k != "id"})
        out.append(row)
    # one aroused clip can cross the F0 gender boundary: where speaker ids exist, estimate per speaker
    from emotioncot.measure.gender import speaker_genders

    per_speaker = speaker_genders(out)
    for row in out:
        if row.get("gender_source") == "estimated" and row.get("speaker_id"):
            est = per_speaker.get((row.get("corpus") or "?", row["speaker_id"]))
            if est:
                row["gender"] = est[0]
    return out


def run_calibrate(ws: Workspace, joined: list[dict], config: BuildConfig, progress: bool = True) -> tuple[list[dict], dict]:
    from emotioncot.calibrate import apply_thresholds, fit_thresholds

    given = None
    if config.calibrate.thresholds_file:
        path = Path(config.calibrate.thresholds_file)
        if not path.exists():
            raise BuildError(f"{path}: thresholds file not found")
        given = path.read_text()
        from emotioncot.calibrate.levels import uncovered_groups

        thresholds = json.loads(given)
        missing = uncovered_groups(joined, thresholds)
        if missing:  # never grade a record on nothing and call it "too few reliable values"
            raise BuildError(
                f"{path}: the thresholds hold no group for {len(missing)} calibration group(s) of this build, nor a "
                f"coarser or global fallback: {', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}; "
                f"it has {', '.join(list(thresholds.get('groups', {}))[:10])}. Refit the thresholds on these "
                f"corpora (leave out --thresholds) or use a file fitted with a global group")
    key = stable_hash("calibrate", __version__, joined, config.calibrate.model_dump(mode="json"), given)
    if ws.stage_done("calibrate", key, outputs=[ws.stage_table("calibrate"), ws.thresholds_path]):
        return read_table(ws.stage_table("calibrate"), Levels), json.loads(ws.thresholds_path.read_text())
    if given is None:
        thresholds = fit_thresholds(joined, config.calibrate)
    write_json_atomic(ws.thresholds_path, thresholds)
    levels = apply_thresholds(joined, thresholds)
    write_table(ws.stage_table("calibrate"), levels, Levels)
    if config.calibrate.report:
        from emotioncot.calibrate import write_report

        write_report(joined, thresholds, levels, ws.root)  # calibration_report.txt (+ .png with matplotlib)
    ws.mark_stage("calibrate", key, {"rows": len(levels), "thresholds_version": thresholds["version"]})
    # read back, so that a first run and a skipping rerun hand the next stage the same rows
    return read_table(ws.stage_table("calibrate"), Levels), thresholds


def _writer(config: BuildConfig) -> Callable[[list[dict], Workspace, BuildConfig, bool], tuple[list[dict], list[dict], dict]]:
    if config.write.writer == "template":
        return _write_template
    from emotioncot.write.llm import write_with_llm  # filled in by the LLM writer

    return write_with_llm


def _writer_version(config: BuildConfig) -> str:
    if config.write.writer == "template":
        from emotioncot.write.template import PROMPT_ID

        return PROMPT_ID
    from emotioncot.write.llm import _prompt_hash, load_prompts

    return _prompt_hash(load_prompts(config.write))


def _write_template(records: list[dict], ws: Workspace, config: BuildConfig, progress: bool):
    from emotioncot.write.template import PROMPT_ID, write_template

    rows, errors = [], []
    with ws.journal("write") as journal:
        for rec in tqdm(records, desc="write", unit="record", disable=not progress):
            key = stable_hash("template", PROMPT_ID, __version__, {k: rec.get(k) for k in _WRITE_INPUTS})
            entry = journal.get(key)
            if entry is None:
                try:
                    entry = {"id": rec["id"], "ok": True, "result": write_template(rec, config.write.label_mode)}
                except ValueError as exc:
                    entry = {"id": rec["id"], "ok": False, "reason": str(exc)}
                journal.append(key, entry)
            if entry["ok"]:
                rows.append(entry["result"])
            else:
                errors.append({"id": rec["id"], "path": rec.get("audio_path"), "reason": entry["reason"]})
    return rows, errors, {"writer": "template", "prompt_id": PROMPT_ID}


_WRITE_INPUTS = (
    "id", "transcript", "emotion", "gender", "age_level", "pitch_level", "energy_level", "speed_level",
    "intonation", "stressed_words", "energy_basis", "f0_median_hz", "alpha_ratio_db", "articulation_rate_sps",
    "pause_count", "duration_s", "level_group",
)


def run_write(ws: Workspace, records: list[dict], config: BuildConfig, progress: bool = True) -> tuple[list[dict], dict]:
    if config.write.limit:
        records = records[: config.write.limit]  # --limit N: try a model or a prompt on the first N records
    # An unchanged rerun skips the stage outright (the journal would redo nothing, but still reads and
    # hashes every record): the key is the input table, the writer's configuration and the text the writer
    # writes from (the template's version, the prompt files' contents), so a new template or a prompt edited
    # in place is written again rather than served from the last run.
    key = stable_hash("write", __version__, records, config.write.model_dump(mode="json"), _writer_version(config))
    if ws.stage_done("write", key):
        info = dict(ws.stage_info("write").get("writer_info", {}))
        rows = read_table(ws.stage_table("write"), GeneratedText)
        if "usage_this_run" in info:  # nothing was sent this time
            info["usage_this_run"] = {k: 0 for k in info["usage_this_run"]}
            info["requests"] = {**info.get("requests", {}), "to_send": 0, "answered_before": len(rows), "failed": 0}
        return rows, {**info, "skipped": True}
    if config.write.writer != "template" and config.executor.name == "ray":
        rows, errors, info = _write_on_ray(records, ws, config, progress)
    else:
        rows, errors, info = _writer(config)(records, ws, config, progress)
    write_table(ws.stage_table("write"), rows, GeneratedText)
    ws.set_stage_errors("write", errors)
    ws.mark_stage("write", key, {"rows": len(rows), "errors": len(errors), **info, "writer_info": info})
    return read_table(ws.stage_table("write"), GeneratedText), info


def _write_on_ray(records: list[dict], ws: Workspace, config: BuildConfig, progress: bool):
    """The LLM writer with its requests bounded by one limit shared across the Ray cluster (a named actor),
    so that other processes writing against the same endpoint, here or on other nodes, share the bound."""
    from emotioncot.executors.limiter import ClusterLimiter
    from emotioncot.executors.ray_executor import RayExecutor
    from emotioncot.write.llm import write_with_llm

    with RayExecutor(1, address=config.executor.ray_address, object_store_mb=config.executor.ray_object_store_mb):
        limiter = ClusterLimiter.for_config(config)
        rows, errors, info = write_with_llm(records, ws, config, progress, limiter=limiter)
        info = {**info, "cluster_limit": limiter.stats()}
    return rows, errors, info


def run_filter(ws: Workspace, records: list[dict], config: BuildConfig) -> tuple[list[dict], list[dict]]:
    from emotioncot.filter import filter_records

    key = stable_hash("filter", __version__, records, config.filter.model_dump(mode="json"))
    rejected_path = ws.root / "rejected.jsonl"
    if ws.stage_done("filter", key, outputs=[ws.stage_table("filter"), rejected_path]):
        rejected = [json.loads(line) for line in rejected_path.read_text(encoding="utf-8").splitlines() if line]
        return read_table(ws.stage_table("filter"), Record), rejected
    kept, rejected = filter_records(records, config.filter)
    write_table(ws.stage_table("filter"), kept, Record)
    lines = [json.dumps(r, ensure_ascii=False, default=str) for r in rejected]
    from emotioncot.tables import write_text_atomic

    write_text_atomic(ws.root / "rejected.jsonl", "".join(line + "\n" for line in lines))
    ws.set_stage_errors(
        "filter", [{"id": r["id"], "path": r.get("audio_path"), "reason": "rejected: " + r["explanation"]} for r in rejected]
    )
    ws.mark_stage("filter", key, {"rows": len(kept), "rejected": len(rejected)})
    return read_table(ws.stage_table("filter"), Record), rejected


def run_export(ws: Workspace, kept: list[dict], config: BuildConfig, progress: bool = True,
               excluded: list[dict] | None = None, writer_info: dict | None = None) -> dict:
    from emotioncot.export import export_records

    repair = (writer_info or {}).get("repair")
    key = stable_hash("export", __version__, kept, config.export.model_dump(mode="json"), excluded or [],
                      *([repair] if repair else []))
    if ws.stage_done("export", key, outputs=[ws.root / "dataset" / "dataset_dict.json", ws.root / "emotioncot.jsonl",
                                               ws.root / "checksums.json"]):
        return ws.stage_info("export")["counts"]
    if not progress:
        import datasets  # imported only when there is something to export (it takes a second or two)

        datasets.disable_progress_bars()
    errors: list[dict] = []
    counts = export_records(
        kept, ws.root, embed_audio=config.export.embed_audio, shard_max_mb=config.export.shard_max_mb, errors=errors,
        excluded=excluded, writer_info=writer_info,
        prompt_style=config.export.prompt_style,
    )
    ws.set_stage_errors("export", errors)
    ws.mark_stage("export", key, {"counts": counts, "errors": len(errors)})
    return counts


# ---------------------------------------------------------------- the whole build


def build(sources: list[str], out: Path, config: BuildConfig | None = None, progress: bool = True, log=print,
          dry_run: int = 0, retry_failed: bool = False) -> dict:
    """Run every stage over ``sources`` into the workspace ``out``; return the build summary (build.json).

    ``dry_run=N`` stops before writing: prints the first N records' LLM prompts and the estimated tokens
    of the write stage, sends nothing, and returns ``{"dry_run": estimate}``."""
    config = config or BuildConfig()
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
    times, counts = {}, {}
    started = time.perf_counter()

    def timed(stage, fn, *args):
        t0 = time.perf_counter()
        result = fn(*args)
        times[stage] = round(time.perf_counter() - t0, 3)
        return result

    utterances = timed("ingest", run_ingest, ws, sources, config, progress)
    counts["ingest"] = len(utterances)
    measurements = timed("measure", run_measure, ws, utterances, config, progress, None, retry_failed)
    counts["measure"] = len(measurements)
    joined = _joined(utterances, measurements)
    levels, thresholds = timed("calibrate", run_calibrate, ws, joined, config)
    counts["calibrate"] = len(levels)
    records = _joined(utterances, measurements, levels)
    for rec in records:
        rec["tool_version"] = __version__
        rec["thresholds_version"] = thresholds["version"]
    records, excluded = writable(records, config)
    counts["excluded"] = sum(e["clips"] for e in excluded)
    if dry_run:
        from emotioncot.write.llm import dry_run as print_prompts

        return {"dry_run": print_prompts(records, config, dry_run, ws)}
    if config.write.writer == "template":
        log("writer: template (offline, deterministic; pass --writer openai with --base-url/--model to use an LLM)")
    def failed(stage: str, reason: str, writer_info: dict | None = None) -> BuildError:
        """A build that stops still leaves build.json saying where and why."""
        write_json_atomic(ws.build_json, {"tool": "emotioncot", "tool_version": __version__, "sources": sources,
                                          "config": config.public_dict(), "counts": counts, "failed": stage,
                                          "reason": reason, "writer": writer_info or {},
                                          "errors": sum(1 for _ in ws.iter_errors())})
        return BuildError(reason)

    try:
        texts, writer_info = timed("write", run_write, ws, records, config, progress)
    except Exception as exc:
        # WriteError's module imports openai (most of a second): imported only when something failed.
        from emotioncot.write.llm import WriteError

        if isinstance(exc, WriteError):
            raise failed("write", str(exc)) from None
        raise
    counts["write"] = len(texts)
    if not texts:
        reasons = _count([{"r": e.get("reason", "")[:200]} for e in ws.stage_errors("write")], "r")
        top = max(reasons, key=reasons.get) if reasons else "no error recorded"
        raise failed("write", f"no record was written: every write failed; most common cause ({reasons.get(top, 0)} "
                              f"records): {top}; see {ws.root / 'errors.jsonl'}", writer_info)
    full = with_text(records, texts)
    kept, rejected = timed("filter", run_filter, ws, full, config)
    counts["filter"] = len(kept)
    counts["rejected"] = len(rejected)
    if not kept:
        raise failed("filter", f"every record was rejected by the filter; see {ws.root / 'rejected.jsonl'}", writer_info)
    split_counts = timed("export", run_export, ws, kept, config, progress, excluded, writer_info)
    counts["export"] = sum(split_counts.values())
    from emotioncot.validate_build import split_warnings

    for warning in split_warnings(split_counts):
        log(f"warning: {warning['message']} (few speakers or a small list; metrics on it would mean little)")
    summary = {
        "tool": "emotioncot",
        "tool_version": __version__,
        "sources": sources,
        "config": config.public_dict(),
        "counts": counts,
        "errors": sum(1 for _ in ws.iter_errors()),
        "splits": split_counts,
        "emotions": _count(kept, "emotion"),
        # measured, in the calibration baseline, but no record: the taxonomy has no class for their label
        "excluded": {"total": counts["excluded"], "by_label": excluded},
        "seconds": stage_seconds(ws, times, started),
        # Where the measure stage ran and what each worker did (of the run that produced the table).
        "measure_run": {**ws.stage_info("measure").get("run", {}), "per_worker": ws.stage_info("measure").get("workers", {})},
        "writer": writer_info,
        "thresholds_version": thresholds["version"],
        "prompt_style": config.export.prompt_style,
    }
    write_json_atomic(ws.build_json, summary)
    if config.report.enabled:
        timed("report", run_report, ws, config, log)
        summary["seconds"] = stage_seconds(ws, times, started)  # the report counts in the build's time
        write_json_atomic(ws.build_json, summary)
    return summary


def writable(records: list[dict], config: BuildConfig) -> tuple[list[dict], list[dict]]:
    """The records the write stage gets, and the taxonomy's exclusions (``ingest.core.taxonomy_exclusions``):
    a label-aware writer needs the gold class, so clips whose label has none (EmoDB boredom, RAVDESS calm)
    are left out here, counted, and never reported as write errors. They stay in the calibration baseline."""
    if config.write.label_mode != "aware":
        return records, []
    from emotioncot.ingest.core import taxonomy_exclusions

    return [rec for rec in records if rec.get("emotion")], taxonomy_exclusions(records)


def run_report(ws: Workspace, config: BuildConfig, log=print) -> dict:
    """The explorer report (``report/``) of the finished build; skipped when nothing it shows changed."""
    import hashlib

    from emotioncot.report import write_report

    index = ws.root / "report" / "index.html"
    shown = [ws.stage_info(s).get("key") for s in ("calibrate", "filter", "export")]
    files = [hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
             for p in (ws.root / "rejected.jsonl", ws.errors_path, ws.thresholds_path)]
    key = stable_hash("report", __version__, config.report.model_dump(mode="json"), shown, files)
    if ws.stage_done("report", key, outputs=[index]):
        return ws.stage_info("report")
    info = write_report(ws.root, ws.root / "report", config.report)
    ws.mark_stage("report", key, info)
    log(f"report: {index} ({info['pages']} record pages, {info['bytes'] / 1e6:.1f} MB)")
    return info


def with_text(records: list[dict], texts: list[dict]) -> list[dict]:
    """Records joined with their generated text (records without text are left out)."""
    text_by_id = {t["id"]: t for t in texts}
    out = []
    for rec in records:
        text = text_by_id.get(rec["id"])
        if text is not None:
            out.append({**rec, **{k: v for k, v in text.items() if k not in ("prompt_tokens", "completion_tokens")}})
    return out


def load_records(ws: Workspace, with_texts: bool = True) -> list[dict]:
    """The joined records of a build folder from its stage tables (for the single-stage commands)."""
    utterances = read_table(ws.stage_table("ingest"), Utterance)
    measurements = read_table(ws.stage_table("measure"), Measurements)
    levels = read_table(ws.stage_table("calibrate"), Levels)
    thresholds = json.loads(ws.thresholds_path.read_text()) if ws.thresholds_path.exists() else {}
    records = _joined(utterances, measurements, levels)
    for rec in records:
        rec["tool_version"] = __version__
        rec["thresholds_version"] = thresholds.get("version")
    if with_texts:
        records = with_text(records, read_table(ws.stage_table("write"), GeneratedText))
    return records


def _count(rows: list[dict], field: str) -> dict:
    out: dict = {}
    for row in rows:
        out[row.get(field)] = out.get(row.get(field), 0) + 1
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))
