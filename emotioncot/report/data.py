"""What the explorer report shows, gathered from a build folder: every kept and rejected record, what was
excluded on the way (errors.jsonl, levels left unset by calibration), the thresholds and the build summary;
and the stratified sample that gets record pages."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from emotioncot.schema import Record
from emotioncot.tables import read_table
from emotioncot.workspace import Workspace, stable_hash


@dataclass
class ReportData:
    root: Path
    records: list[dict]  # kept then rejected; each with ``status`` ("kept" / "rejected") and ``reject_reasons``
    errors: list[dict]  # errors.jsonl rows (stage, id, path, reason)
    thresholds: dict
    build: dict  # build.json (empty when the folder has none)
    summary: object = None  # a ReportSummary of the records (``summarize``); None: computed from ``records``


def _read_jsonl(path: Path) -> list[dict]:
    return list(_iter_jsonl(path))


def _iter_jsonl(path: Path):
    """The rows of a JSON Lines file, read line by line (none if it is absent); a bad line names file and line."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: line {n} is not JSON ({exc.msg})") from None


def gather(build_dir: Path) -> ReportData:
    """Read a finished build folder; a clear ``FileNotFoundError`` when it is not one."""
    root = Path(build_dir)
    ws = Workspace(root)
    kept_table = ws.stage_table("filter")
    if not kept_table.exists():
        raise FileNotFoundError(f"{root}: not a finished build folder (no {kept_table.relative_to(root)}; run `emotioncot build`)")
    kept = [{**r, "status": "kept", "reject_reasons": []} for r in read_table(kept_table, Record)]
    rejected = [{**r, "status": "rejected", "reject_reasons": list(r.get("reject_reasons") or [])}
                for r in _read_jsonl(root / "rejected.jsonl")]
    thresholds = json.loads(ws.thresholds_path.read_text()) if ws.thresholds_path.exists() else {}
    build = json.loads(ws.build_json.read_text()) if ws.build_json.exists() else {}
    return ReportData(root, kept + rejected, list(ws.iter_errors()), thresholds, build)


def summarize(data: ReportData, config) -> ReportData:
    """``data`` with its ``summary`` (computed from its records and errors where it has none)."""
    if data.summary is None:
        from emotioncot.report.summary import ReportSummary

        summary = ReportSummary(data.thresholds, config.sample, config.seed, config.max_rejected)
        summary.add(data.records)
        summary.add_errors(data.errors)
        data.summary = summary
    return data


def gather_summary(build_dir: Path, config) -> ReportData:
    """``gather`` in one streamed pass: the summary of every record and error, holding no table (``records`` and
    ``errors`` are left empty; the sampled records are in the summary)."""
    from emotioncot.batches import iter_rows
    from emotioncot.report.summary import ReportSummary

    root = Path(build_dir)
    ws = Workspace(root)
    kept_table = ws.stage_table("filter")
    if not kept_table.exists():
        raise FileNotFoundError(f"{root}: not a finished build folder (no {kept_table.relative_to(root)}; run `emotioncot build`)")
    thresholds = json.loads(ws.thresholds_path.read_text()) if ws.thresholds_path.exists() else {}
    build = json.loads(ws.build_json.read_text()) if ws.build_json.exists() else {}
    summary = ReportSummary(thresholds, config.sample, config.seed, config.max_rejected)
    for batch in iter_rows(kept_table, Record):
        summary.add({**r, "status": "kept", "reject_reasons": []} for r in batch)
    for r in _iter_jsonl(root / "rejected.jsonl"):
        summary.add([{**r, "status": "rejected", "reject_reasons": list(r.get("reject_reasons") or [])}])
    summary.add_errors(ws.iter_errors())
    return ReportData(root, [], [], thresholds, build, summary)


def excluded_by_reason(data: ReportData) -> list[tuple[str, str, int]]:
    """(stage, reason, count): items a stage dropped, and levels calibration left unset (with why)."""
    counts: Counter = Counter(data.summary.error_kinds)  # rejections are shown by reason code
    for what, n in data.summary.level_reasons.items():
        counts[("calibrate", what)] += n
    for what, n in taxonomy_exclusions(data):
        counts[("taxonomy", f"{what}: no class for this label")] += n
    return [(s, r, n) for (s, r), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def taxonomy_exclusions(data: ReportData) -> list[tuple[str, int]]:
    """("corpus 'label'", clips) the build measured but made no record of: the taxonomy has no class for the label
    (the calibrate stage's record, as the card reads it; else build.json ``excluded``). They are in no table the
    report reads, so without this they went uncounted."""
    if ((data.build.get("config") or {}).get("write") or {}).get("label_mode") == "blind":
        return []  # a label-blind build writes those clips too
    by_label = Workspace(data.root).stage_info("calibrate").get("excluded")
    if by_label is None:
        by_label = (data.build.get("excluded") or {}).get("by_label") or []
    return [(f"{e['corpus']} {e['native_label']!r}", int(e["clips"])) for e in by_label]


def _reason_kind(reason: str) -> str:
    """A reason without its specifics (paths, numbers), so that like reasons count together."""
    reason = re.sub(r"^\S+\.(wav|flac|mp3|ogg|m4a|opus)\S*:\s*", "", reason, flags=re.I)
    reason = re.sub(r"(?<![A-Za-z_])\d+(\.\d+)?", "N", reason)  # "f0" stays, "12 voiced frames" goes
    return reason[:120]


def rejected_by_reason(data: ReportData) -> list[tuple[str, int]]:
    return data.summary.reject_codes.most_common()


def page_name(record_id: str) -> str:
    """A file name for a record's page and assets: the id made safe, plus a hash so two ids never collide."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(record_id))[:60].strip("._") or "record"
    return f"{safe}-{stable_hash(str(record_id), length=6)}"


def round_robin(queues: list[list[dict]], n: int) -> list[dict]:
    """Up to ``n`` items, one from each queue in turn (from its end), so every queue is equally drawn on."""
    chosen: list[dict] = []
    while len(chosen) < n and any(queues):
        for q in queues:
            if q and len(chosen) < n:
                chosen.append(q.pop())
    return chosen
