"""The pages of the explorer report, each a function from gathered data to HTML text."""

from __future__ import annotations

from emotioncot.calibrate.crosstab import CUE_FIELDS
from emotioncot.filter.text import think_part
from emotioncot.report.data import ReportData, excluded_by_reason, rejected_by_reason, taxonomy_exclusions
from emotioncot.report.html import LEVELS, MEASURED, count_table, esc, fmt, highlighted, page, select, table

PROVENANCE = ("tool_version", "writer", "model", "prompt_id", "label_mode", "thresholds_version")


def overview(data: ReportData, heatmaps: dict[str, str], distributions: str | None, pages: int) -> str:
    summary = data.summary
    kept, rejected, dropped = summary.kept, summary.rejected, summary.dropped
    by_taxonomy = taxonomy_exclusions(data)
    excluded = sum(n for _, n in by_taxonomy)
    parts = [
        "<h1>Dataset overview</h1>",
        f'<p><b>{kept}</b> records kept, <b>{rejected}</b> rejected by the filter, <b>{dropped}</b> failed in earlier '
        f'stages, <b>{excluded}</b> excluded by the taxonomy (measured, but their label has no class'
        + (": " + ", ".join(f"{esc(what)} {n}" for what, n in by_taxonomy) if by_taxonomy else "")
        + f'); <a href="records.html">{pages} record pages</a> (a sample).</p>',
        "<h2>Counts</h2><div class=\"grid\">",
    ]
    for field, limit in (("corpus", None), ("split", None), ("emotion", None), ("speaker_id", 30)):
        counted = summary.fields[field]
        parts.append(f"<div><h3>per {esc(field)}</h3>{count_table(counted['kept'], counted['rejected'], field, limit)}</div>")
    parts.append("</div><h2>Excluded and rejected</h2><div class=\"grid\">")
    rej = rejected_by_reason(data)
    parts.append("<div><h3>rejected, by reason code</h3>"
                 + (table(["reason", "records"], [list(x) for x in rej]) if rej else "<p>none</p>") + "</div>")
    exc = excluded_by_reason(data)
    parts.append("<div><h3>excluded, by stage and reason</h3>"
                 + (table(["stage", "reason", "count"], [list(x) for x in exc], numeric_from=2) if exc else "<p>none</p>")
                 + '<p class="muted">calibrate rows: a level left unset because the measurement was unreliable.</p></div>')
    parts.append("</div><h2>Emotion by level</h2>"
                 '<p class="muted">Rows: emotions; columns: levels; colour: the share of the emotion\'s records '
                 "(kept and rejected) at that level; numbers: counts.</p><div class=\"grid\">")
    for cue, src in heatmaps.items():
        parts.append(f'<div><h3>{esc(cue)}</h3><img class="heatmap" data-cue="{esc(cue)}" src="{esc(src)}" '
                     f'alt="emotion by {esc(cue)} level"></div>')
    parts.append("</div>" + evidence_section(data.thresholds))
    if distributions:
        parts.append("<h2>Measurements per emotion</h2>"
                     '<p class="muted">Boxes: quartiles and 1.5 IQR whiskers per emotion. Levels are cut per calibration '
                     "group (speaker, or corpus and gender); dashed lines across a box: the lower (blue) and upper (red) "
                     f'cut points its records were graded with, one pair per group.</p><img class="distributions" src="{esc(distributions)}" alt="distributions">')
    parts.append("<h2>Speakers and estimated attributes</h2>" + estimates(data))
    parts.append("<h2>Provenance</h2>" + provenance(data))
    return page("emotioncot report: overview", "".join(parts))


def estimates(data: ReportData) -> str:
    """Where speaker ids, gender, age level and language came from: the card's lines, as HTML."""
    import re

    from emotioncot.ingest.estimates import describe_estimates

    items = [re.sub(r"`([^`]*)`", r"<code>\1</code>", esc(line[2:])) for line in describe_estimates(data.summary.estimates.rows())]
    return ('<p class="muted">records per source; <i>estimated</i> and <i>clustered</i> values were not given by the '
            "source and may be wrong; <i>not stated</i>: left empty rather than guessed.</p><ul>"
            + "".join(f"<li>{item}</li>" for item in items) + "</ul>")


def _sourced(rec: dict, field: str) -> str:
    """A field's value, with where it came from when it was estimated."""
    source = rec.get({"speaker_id": "speaker_source", "gender": "gender_source", "age_level": "age_source",
                      "language": "language_source"}.get(field, ""))
    note = f" ({esc(source)})" if rec.get(field) and source in ("estimated", "clustered") else ""
    return f"{field}: <b>{esc(rec.get(field))}</b>{note}"


def evidence_section(thresholds: dict) -> str:
    """The evidence table (calibrate/evidence.py) the rationales weigh cues by, one table per corpus."""
    from emotioncot.calibrate.evidence import CUE_LEVELS, evidence_of, sign_cells

    corpora = evidence_of(thresholds).get("corpora") or {}
    parts = ["<h2>Evidence table</h2><p class=\"muted\">Which levels count for (+) or against (-) each emotion in "
             "the rationales, the writers' prompts, the filter's argument check and the offline grader; any other level "
             "is no sign either way. <i>data</i>: read from the corpus's own clips; <i>prior</i>: too few clips, "
             "taken from manifests/evidence_prior.yaml (Banse &amp; Scherer 1996; Juslin &amp; Laukka 2003).</p>"]
    if not corpora:
        parts.append("<p>no table in the thresholds: every cue is weighed by the prior</p>")
    for corpus, rows in corpora.items():
        body = [[emotion, entry["clips"], *sign_cells(entry)] for emotion, entry in rows.items()]
        parts.append(f"<h3>{esc(corpus)}</h3>" + table(["emotion", "clips", *CUE_LEVELS], body, numeric_from=1))
    return "".join(parts)


def provenance(data: ReportData) -> str:
    b = data.build
    cfg = b.get("config") or {}
    rows = [
        ["tool", f"{b.get('tool', 'emotioncot')} {b.get('tool_version', '')}".strip()],
        ["sources", fmt(b.get("sources"))],
        ["writer", fmt((b.get("writer") or {}).get("writer"))],
        ["model", fmt((cfg.get("write") or {}).get("model"))],
        ["prompts", fmt(sorted(data.summary.prompt_ids))],
        ["label mode", fmt((cfg.get("write") or {}).get("label_mode"))],
        ["thresholds", f"version {data.thresholds.get('version', '—')}, grouped by {data.thresholds.get('group_by', '—')}, "
                       f"{len(data.thresholds.get('groups') or {})} groups"],
        ["build time", _build_time(b.get("seconds") or {})],
    ]
    counts = data.summary.provenance
    per = [[*map(fmt, key), n] for key, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return table(["", "value"], rows) + "<h3>records by provenance</h3>" + table([*PROVENANCE, "records"], per, numeric_from=len(PROVENANCE))


def _build_time(seconds: dict) -> str:
    """The stages' time: this page is written during the report stage, so its own time cannot be in it yet."""
    stages = {k: v for k, v in seconds.items() if k not in ("total", "this_run", "report")}
    if not stages:
        return "—"
    return f"{sum(stages.values()):.1f} s for the stages ingest to export (the report's own time is in build.json)"


def _levels_attr(rec: dict) -> str:
    return " ".join(f"{cue}:{rec[field]}" for cue, field in CUE_FIELDS.items() if rec.get(field))


def record_list(data: ReportData, sampled: list[dict], names: dict[str, str]) -> str:
    values = {f: sorted({str(r.get(f)) for r in sampled if r.get(f) is not None}) for f in ("emotion", "corpus", "split")}
    levels = sorted({lv for r in sampled for lv in _levels_attr(r).split()})
    reasons = sorted({c for r in sampled for c in r.get("reject_reasons") or []})
    controls = [select("emotion", "emotion", values["emotion"]), select("corpus", "corpus", values["corpus"]),
                select("split", "split", values["split"]), select("levels", "level", levels),
                select("status", "kept / rejected", ["kept", "rejected"]), select("reasons", "reason", reasons),
                '<label>search <input id="search" type="search" placeholder="caption, rationale, transcript"></label>']
    rows = []
    for r in sampled:
        text = " ".join(str(r.get(k) or "") for k in ("id", "transcript", "caption", "cot_analysis")).lower()
        rows.append(
            f'<tr data-emotion="{esc(r.get("emotion"))}" data-corpus="{esc(r.get("corpus"))}" data-split="{esc(r.get("split"))}" '
            f'data-status="{r["status"]}" data-levels="{esc(_levels_attr(r))}" '
            f'data-reasons="{esc(" ".join(r.get("reject_reasons") or []))}" data-text="{esc(text)}">'
            f'<td><a href="records/{names[r["id"]]}.html">{esc(r["id"])}</a></td><td>{esc(r.get("emotion"))}</td>'
            f'<td>{esc(r.get("corpus"))}</td><td>{esc(r.get("split"))}</td>'
            f'<td><span class="badge {r["status"]}">{r["status"]}</span></td><td>{esc(_levels_attr(r))}</td>'
            f'<td>{esc(", ".join(r.get("reject_reasons") or []))}</td><td>{esc(r.get("caption"))}</td></tr>'
        )
    body = (
        f"<h1>Records</h1><p>A sample of {len(sampled)} of {data.summary.total} records: spread over emotion and corpus, "
        "plus rejected ones. <b id=\"shown\">" + str(len(sampled)) + "</b> shown.</p>"
        f'<div class="filters">{"".join(controls)}</div>'
        '<table id="records"><thead><tr><th>id</th><th>emotion</th><th>corpus</th><th>split</th><th>status</th>'
        "<th>levels</th><th>reasons</th><th>caption</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        '<script src="assets/filter.js"></script>'
    )
    return page("emotioncot report: records", body)


def record_page(rec: dict, audio: str | None, duration: float | None, contour: str | None, spans: list[dict],
                problem: str | None = None, prev_next: tuple[str | None, str | None] = (None, None)) -> str:
    nav = " ".join(f'<a href="{esc(href)}.html">{label}</a>' for href, label in zip(prev_next, ("previous", "next")) if href)
    parts = [
        f'<p><a href="../records.html">all records</a> {nav}</p>',
        f'<h1>{esc(rec["id"])} <span class="badge {rec["status"]}">{rec["status"]}</span></h1>',
        "<p>" + " · ".join(_sourced(rec, k) for k in ("emotion", "corpus", "split", "speaker_id", "gender", "age_level",
                                                      "language")) + "</p>",
        f'<p>transcript: “{esc(rec.get("transcript"))}”</p>',
    ]
    if audio:
        parts.append(f'<audio id="clip" controls preload="auto" src="../{esc(audio)}" data-duration="{duration:.3f}"></audio>')
    if contour:
        parts.append(f'<div><img id="contour" src="../{esc(contour)}" alt="F0 contour and energy"><p class="muted">Blue: F0 '
                     "(voiced frames); grey: frame level; orange: pauses; red: stressed words.</p></div>")
    if problem:
        parts.append(f'<p class="muted">audio: {esc(problem)}</p>')
    if rec["status"] == "rejected":
        items = "".join(f"<li>{esc(x)}</li>" for x in (rec.get("explanation") or "").split("; ") if x)
        parts.append(f'<h2>Why it was rejected</h2><ul class="reasons">{items}</ul>')
    parts.append("<h2>Caption</h2>" f'<p>{esc(rec.get("caption"))}</p>')
    parts.append(
        '<h2>Rationale</h2><p class="legend"><span class="st agrees">agrees with the measurement</span>'
        '<span class="st contradicts">contradicts it</span><span class="st not_checked">not checked</span> '
        '<span class="muted">(hover a statement for what was read)</span></p>'
        f'<div class="rationale" id="rationale">{highlighted(think_part(rec.get("cot_analysis") or ""), spans)}</div>'
    )
    parts.append('<h2>Levels</h2><div class="grid"><div>'
                 + table(["", "value"], [[k, fmt(rec.get(k))] for k in LEVELS], numeric_from=9) + "</div>")
    reasons = rec.get("level_reasons") or {}
    if reasons:
        parts.append("<div><h3>why a value is missing</h3>" + table(["field", "reason"], [[k, v] for k, v in reasons.items()], numeric_from=9) + "</div>")
    parts.append("</div><h2>Measurements</h2>"
                 + table(["quantity", "value", "unit"], [[k, fmt(rec.get(k)), u] for k, u in MEASURED], numeric_from=9))
    return page(f"emotioncot report: {rec['id']}", "".join(parts), depth=1)


def tasks_page(items: list[dict], summary: dict) -> str:
    rows = []
    for it in items:
        audio = (f'<audio controls preload="metadata" src="{esc(it["audio"])}" data-duration="{it["duration"]:.3f}"></audio>'
                 if it.get("audio") else f'<span class="muted">{esc(it.get("audio_problem"))}</span>')
        rows.append(
            f'<tr data-task="{esc(it["task"])}" data-split="{esc(it["split"])}"><td>{esc(it["id"])}<br>'
            f'<span class="muted">{esc(it["task"])} · {esc(it["split"])}</span></td><td>{esc(it["question"])}'
            f'<br><span class="muted">options: {esc(", ".join(it["options"]))}</span></td><td>{audio}</td>'
            f'<td><b>{esc(it["answer"])}</b></td></tr>'
        )
    tasks = summary.get("tasks") or {}
    body = (
        f"<h1>Prosody tasks</h1><p>{sum(tasks.values()) if tasks else len(items)} questions; {len(items)} shown "
        "(a sample spread over the tasks).</p>"
        + (table(["task", "questions"], [[t, n] for t, n in tasks.items()]) if tasks else "")
        + '<table id="tasks"><thead><tr><th>id</th><th>question</th><th>audio</th><th>answer</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
    )
    return page("emotioncot report: prosody tasks", body, nav=(("index.html", "Prosody tasks"),))
