"""The report's HTML: a page shell, tables, and the overview, record-list, record and task pages.

Plain strings with every value escaped; links are relative, so the folder opens from the file system."""

from __future__ import annotations

import html
from collections import Counter

NAV = (("index.html", "Overview"), ("records.html", "Records"))
VERDICT_RANK = {"contradicts": 2, "agrees": 1, "not_checked": 0}
MEASURED = (
    ("duration_s", "s"), ("speech_s", "s"), ("pause_count", ""), ("pause_total_s", "s"), ("f0_median_hz", "Hz"),
    ("f0_p5_hz", "Hz"), ("f0_p95_hz", "Hz"), ("f0_range_st", "st"), ("f0_std_st", "st"), ("voiced_fraction", ""),
    ("energy_dbfs", "dBFS"), ("peak_dbfs", "dBFS"), ("snr_db", "dB"), ("alpha_ratio_db", "dB"),
    ("articulation_rate_sps", "syl/s"), ("speaking_rate_sps", "syl/s"), ("syllable_count", ""),
    ("jitter_local", ""), ("shimmer_local", ""), ("hnr_db", "dB"), ("intonation_confidence", ""),
)
LEVELS = ("pitch_level", "energy_level", "speed_level", "intonation", "stressed_words", "gender", "age_level", "level_group")


def esc(value) -> str:
    return html.escape("—" if value is None else str(value), quote=True)


def page(title: str, body: str, depth: int = 0, nav=NAV) -> str:
    up = "../" * depth
    links = "".join(f'<a href="{up}{href}">{esc(label)}</a>' for href, label in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><link rel=\"icon\" href=\"data:,\">"
        f"<link rel=\"stylesheet\" href=\"{up}assets/style.css\"></head><body>"
        f"<header><span class=\"title\">emotioncot explorer</span>{links}</header><main>{body}</main></body></html>\n"
    )


def table(header: list[str], rows: list[list], numeric_from: int = 1, cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{esc(v)}</td>' if i >= numeric_from and isinstance(v, (int, float)) else f"<td>{esc(v)}</td>"
            for i, v in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def count_table(kept: Counter, rejected: Counter, field: str, limit: int | None = None) -> str:
    """Kept, rejected and total records per value of ``field`` (the counts of each)."""
    keys = sorted(set(kept) | set(rejected), key=lambda k: (-(kept[k] + rejected[k]), str(k)))
    rows = [[k, kept[k], rejected[k], kept[k] + rejected[k]] for k in keys]
    more = ""
    if limit and len(rows) > limit:
        more = f'<p class="muted">and {len(rows) - limit} more (the {limit} largest shown)</p>'
        rows = rows[:limit]
    return table([field, "kept", "rejected", "total"], rows) + more


def fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return "—" if value is None else str(value)


def highlighted(text: str, spans: list[dict]) -> str:
    """``text`` with each statement wrapped in a span classed by its verdict (the worst one where
    statements overlap); the title lists what was read there."""
    cuts = sorted({0, len(text), *(s["start"] for s in spans), *(s["end"] for s in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        piece = esc(text[a:b])
        over = [s for s in spans if s["start"] <= a and s["end"] >= b]
        if not over:
            out.append(piece)
            continue
        verdict = max((s["verdict"] for s in over), key=VERDICT_RANK.get)
        title = "; ".join(f"{s['aspect']} {s['verdict'].replace('_', ' ')}: {s['detail']}" for s in over)
        aspects = " ".join(sorted({s["aspect"] for s in over}))
        out.append(f'<span class="st {verdict}" data-aspects="{esc(aspects)}" title="{esc(title)}">{piece}</span>')
    return "".join(out)


def select(name: str, label: str, values) -> str:
    options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
    return f'<label>{esc(label)} <select data-filter="{esc(name)}" id="filter-{esc(name)}"><option value="">all</option>{options}</select></label>'
