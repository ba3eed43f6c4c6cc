"""Writing the report folder: overview, record list, record pages (audio, contour, highlighted rationale),
images and assets, built in a temporary folder and swapped in whole so a half-written report never shows."""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Callable, NamedTuple


from emotioncot.audio.io import AudioError
from emotioncot.calibrate.crosstab import CUE_FIELDS
from emotioncot.config import ExecutorConfig, FilterConfig, MeasureConfig, ReportConfig
from emotioncot.errors import BuildError
from emotioncot.executors import outcomes
from emotioncot.export.writer import _swap_in as swap_in  # the export's folder swap: old copy out, new in
from emotioncot.report import plots
from emotioncot.report.audio import OPUS_RATE, clip_signal, write_opus
from emotioncot.report.data import ReportData, page_name
from emotioncot.report.pages import overview, record_list, record_page


def _section(model, data: dict | None):
    """A config section as the build recorded it (its defaults when the build is older than a field)."""
    try:
        return model.model_validate(data or {})
    except ValueError:
        return model()


def copy_assets(folder: Path) -> None:
    (folder / "assets").mkdir(parents=True, exist_ok=True)
    for name in ("style.css", "filter.js"):
        (folder / "assets" / name).write_text(resources.files("emotioncot.report").joinpath("static", name).read_text())


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def write_report(build_dir: Path, out: Path | None = None, config: ReportConfig | None = None,
                 log: Callable[[str], None] = lambda m: None, data: ReportData | None = None,
                 progress: bool = False, executor_config: ExecutorConfig | None = None, workers: int = 1) -> dict:
    """Write the explorer report of the build folder ``build_dir`` into ``out`` (default ``build_dir/report``);
    return what was written (pages, bytes, path, the executor of the pages). ``data`` replaces what is read from the folder; ``progress``
    shows a bar over the figures and record pages (a report of a real build takes many seconds). The record
    pages (audio, a contour tracked again, the page) are rendered on ``executor_config``'s executor with
    ``workers`` processes; the files come back to this process, so Ray workers need no view of ``out``."""
    config = config or ReportConfig()
    from emotioncot.report.data import gather_summary, summarize

    data = summarize(data, config) if data is not None else gather_summary(build_dir, config)
    out = Path(out) if out else Path(build_dir) / "report"
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    run: dict = {}
    try:
        pages = _write(data, work, config, log, run, progress, executor_config, workers)
        swap_in(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"path": str(out), "pages": pages, "bytes": folder_bytes(out), "run": run}


def _write(data: ReportData, work: Path, config: ReportConfig, log, run: dict, progress: bool = False,
           executor_config: ExecutorConfig | None = None, workers: int = 1) -> int:
    """Write the report into ``work``; the number of record pages. ``run`` gets what rendered them."""
    from tqdm import tqdm

    for sub in ("img", "audio", "records"):
        (work / sub).mkdir(parents=True)
    copy_assets(work)
    from emotioncot.calibrate.crosstab import counts_frame

    summary = data.summary
    sampled = summary.sampled()
    bar = tqdm(total=len(CUE_FIELDS) + 1 + len(sampled), desc="report", unit="figure/page", disable=not progress)
    heatmaps = {}
    for cue, field in CUE_FIELDS.items():
        if summary.total:
            plots.heatmap(counts_frame(summary.cross[cue], cue), f"emotion by {cue} level", work / "img" / f"heatmap-{cue}.png")
            heatmaps[cue] = f"img/heatmap-{cue}.png"
        bar.update()
    distributions = None
    if summary.total:
        plots.summary_distributions(summary, work / "img" / "distributions.png")
        distributions = "img/distributions.png"
    bar.update()

    cfg = data.build.get("config") or {}
    measure = _section(MeasureConfig, cfg.get("measure"))
    filt = _section(FilterConfig, cfg.get("filter"))
    names = {r["id"]: page_name(r["id"]) for r in sampled}

    def tasks():
        for i, rec in enumerate(sampled):
            prev_next = (names[sampled[i - 1]["id"]] if i else None,
                         names[sampled[i + 1]["id"]] if i + 1 < len(sampled) else None)
            yield PageTask(rec, names[rec["id"]], prev_next, measure, filt)

    pages = outcomes(executor_config, max(1, min(workers, len(sampled))), render_record_page, tasks(), run)
    for done, (task, outcome) in enumerate(pages, 1):
        if not outcome.ok:  # a bug or a lost worker, not a bad clip (render_record_page keeps those on the page)
            raise BuildError(f"report: the page of {task.record['id']} could not be rendered: {outcome.error}")
        for relative, content in outcome.value.items():
            (work / relative).write_bytes(content)
        log(f"report: page {done}/{len(sampled)}")
        bar.update()
    bar.close()
    (work / "records.html").write_text(record_list(data, sampled, names), encoding="utf-8")
    (work / "index.html").write_text(overview(data, heatmaps, distributions, len(sampled)), encoding="utf-8")
    return len(sampled)


class PageTask(NamedTuple):
    """One record page to render: the record, its page name, its neighbours' names, the build's settings."""

    record: dict
    name: str
    prev_next: tuple[str | None, str | None]
    measure: MeasureConfig
    filter: FilterConfig


def render_record_page(task: PageTask) -> dict[str, bytes]:
    """The files of one record page, by path relative to the report folder: the page, and the clip as Ogg Opus
    and its contour figure when the audio can be read (an unreadable clip costs its player, not the report)."""
    from emotioncot.filter.grounding import statement_spans

    rec, name, filt = task.record, task.name, task.filter
    files: dict[str, bytes] = {}
    audio = contour = problem = duration = None
    with tempfile.TemporaryDirectory(prefix="emotioncot-page-") as tmp:
        try:
            y = clip_signal(rec)
            duration = write_opus(y, Path(tmp) / "audio.ogg")
            audio = f"audio/{name}.ogg"
            files[audio] = (Path(tmp) / "audio.ogg").read_bytes()
            if _contour(rec, y, task.measure, Path(tmp) / "contour.png"):
                contour = f"img/contour-{name}.png"
                files[contour] = (Path(tmp) / "contour.png").read_bytes()
        except (AudioError, OSError, ValueError) as exc:
            problem = str(exc)
    spans = statement_spans(rec, tuple(filt.grounding_aspects), filt.grounding_strictness, filt.grounding_skip_generic)
    page = record_page(rec, audio, duration, contour, spans, problem, task.prev_next)
    files[f"records/{name}.html"] = page.encode("utf-8")
    return files


def _contour(rec: dict, y, measure: MeasureConfig, path: Path) -> str | None:
    """The F0 contour and energy curve, tracked again by the measure stage's own code and settings."""
    from emotioncot.measure.features import measure_signal

    details: dict = {}
    result = measure_signal(y, OPUS_RATE, rec.get("transcript"), measure, language=rec.get("language"), details=details)
    if "frames" not in details:  # silence or too short: the measure stage had no tracks either
        return None
    plots.contour(details, list(rec.get("stressed_words") or result.get("stressed_words") or []), path)
    return f"img/{path.name}"
