"""The explorer report: its tables and statement spans, and the demo build's site opened in a real
headless Chromium (the system's chromium + chromedriver, driven by selenium)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emotioncot.calibrate.crosstab import emotion_by_level
from emotioncot.filter.grounding import grounding_problems, statement_spans
from emotioncot.filter.text import think_part
from emotioncot.report.data import gather

# ---------------------------------------------------------------- tables (no browser)


def test_emotion_by_level_counts_in_taxonomy_order():
    table = pd.DataFrame({
        "emotion": ["sad", "angry", "angry", "sad", "angry", "neutral", None],
        "pitch_level": ["low", "high", "high", None, "normal", "normal", "high"],
    })
    out = emotion_by_level(table, "pitch")
    # taxonomy order of rows (neutral, sad, angry, then clips without a class), level order of columns, then
    # clips whose level could not be measured
    assert list(out.index) == ["neutral", "sad", "angry", "(no class)"]
    assert list(out.columns) == ["low", "normal", "high", "not measured"]
    assert out.loc["angry"].tolist() == [0, 1, 2, 0]
    assert out.loc["sad"].tolist() == [1, 0, 0, 1]
    assert out.loc["(no class)"].tolist() == [0, 0, 1, 0]
    assert int(out.to_numpy().sum()) == len(table)
    with pytest.raises(ValueError, match="unknown cue"):
        emotion_by_level(table, "loudness")
    assert emotion_by_level(table, "speed").empty  # no speed column: nothing to count


def test_emotion_by_level_matches_the_demo_records(demo_build):
    data = gather(demo_build)
    frame = pd.DataFrame(data.records)
    for cue, field in (("energy", "energy_level"), ("intonation", "intonation")):
        out = emotion_by_level(frame, cue)
        expected = Counter((r["emotion"], r[field]) for r in data.records if r.get(field))
        counted = {(e, lv): int(out.loc[e, lv]) for e in out.index for lv in out.columns if out.loc[e, lv]}
        assert {k: v for k, v in counted.items() if k[1] != "not measured"} == dict(expected)


def test_sample_is_spread_over_emotions_and_takes_rejected(demo_build):
    from emotioncot.report.summary import ReportSummary

    data = gather(demo_build)
    records = [dict(r) for r in data.records]
    for r in records[:7]:
        r["status"], r["reject_reasons"] = "rejected", ["grounding_pitch"]

    def sample(seed: int, rows: list[dict]) -> list[dict]:
        summary = ReportSummary(data.thresholds, 20, seed=seed, max_rejected=4)
        summary.add(rows)
        return summary.sampled()

    chosen = sample(3, records)
    kept = [r for r in chosen if r["status"] == "kept"]
    per = Counter(r["emotion"] for r in kept)
    assert len(kept) == 20 and max(per.values()) - min(per.values()) <= 1 and len(per) == 9
    assert sum(r["status"] == "rejected" for r in chosen) == 4
    assert [r["id"] for r in sample(3, records[::-1])] == [r["id"] for r in chosen]  # not the table's order
    assert [r["id"] for r in sample(4, records)] != [r["id"] for r in chosen]


# ---------------------------------------------------------------- statement spans: the filter's own reader

RECORD = {"pitch_level": "low", "energy_level": "high", "speed_level": None, "intonation": "falling",
          "stressed_words": ["late"], "transcript": "We are late again", "gender": "Female", "age_level": "Young Adult"}


def _spans(text: str, **over) -> list[tuple[str, str, str]]:
    rec = {**RECORD, **over, "cot_analysis": text}
    body = think_part(text)
    return [(s["aspect"], s["verdict"], body[s["start"]:s["end"]]) for s in statement_spans(rec)]


def test_statement_spans_mark_what_the_filter_read():
    text = ("<think>She says “We are late again” in a voice that is loud and forceful. Her pitch is high; "
            "the pace is quick. The melody falls at the end, with emphasis on “late”.</think><answer>angry</answer>")
    spans = _spans(text)
    by = {(a, v): t for a, v, t in spans}
    assert by[("energy", "agrees")].startswith("She says “We are late again”")  # the quote is part of the clause
    assert by[("pitch", "contradicts")] == "Her pitch is high"
    assert by[("speed", "not_checked")] == "the pace is quick."  # no speed level measured
    assert ("intonation", "agrees") in by and ("stress", "agrees") in by
    assert "her pitch" in {t.lower() for a, v, t in spans if (a, v) == ("gender", "agrees")}
    # the contradictions are exactly what grounding_problems reports
    codes = {c.removeprefix("grounding_") for c, _ in grounding_problems({**RECORD, "cot_analysis": text})}
    assert {a for a, v, _ in spans if v == "contradicts"} == codes == {"pitch"}


def test_statement_spans_follow_the_record_and_the_options():
    text = "The pitch sits low and the speaker talks loudly. The word “again” carries the stress."
    assert {(a, v) for a, v, _ in _spans(text)} >= {("pitch", "agrees"), ("energy", "agrees"), ("stress", "contradicts")}
    assert ("pitch", "contradicts") in {(a, v) for a, v, _ in _spans(text, pitch_level="high")}
    rec = {**RECORD, "cot_analysis": text}
    only_pitch = statement_spans(rec, aspects=("pitch",))
    assert {s["verdict"] for s in only_pitch if s["aspect"] != "pitch"} == {"not_checked"}


def test_statement_spans_agree_with_the_filter_on_demo_records(demo_build):
    """On every demo record, and on each with one statement turned around, the aspects marked as
    contradicted are the aspects grounding_problems rejects."""
    flips = {"low": "high", "high": "low", "slow": "fast", "fast": "slow"}
    checked = contradicted = 0
    for rec in gather(demo_build).records[:80]:
        variants = [rec]
        if rec.get("pitch_level") in flips:
            variants.append({**rec, "pitch_level": flips[rec["pitch_level"]]})
        if rec.get("speed_level") in flips:
            variants.append({**rec, "speed_level": flips[rec["speed_level"]]})
        for v in variants:
            marked = {s["aspect"] for s in statement_spans(v) if s["verdict"] == "contradicts"}
            assert marked == {c.removeprefix("grounding_") for c, _ in grounding_problems(v)}, v["id"]
            checked += 1
            contradicted += bool(marked)
    assert checked > 100 and contradicted > 20


# ---------------------------------------------------------------- the site in a real browser


def _need_chromium() -> None:
    from emotioncot.report.browser import chromium_paths

    pytest.importorskip("selenium")
    if chromium_paths() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver are missing under CI (make install installs them)")
        pytest.skip("chromium and chromedriver are not installed (make install installs them)")


def _browser(tmp_path):
    from emotioncot.report.browser import headless_chromium

    _need_chromium()
    return headless_chromium(tmp_path / "profile")


def _console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def report_with_rejection(demo_build, tmp_path_factory):
    """The demo build's report plus one record whose rationale was turned against its pitch and rejected
    by the real filter (the demo build rejects nothing)."""
    from emotioncot.config import FilterConfig, ReportConfig
    from emotioncot.filter import filter_records
    from emotioncot.report import write_report

    data = gather(demo_build)
    victim = next(r for r in data.records if r.get("pitch_level") == "low")
    record = {k: v for k, v in victim.items() if k not in ("status", "reject_reasons")}
    first = record["cot_analysis"].find(". ") + 2  # after the opening sentence
    record["cot_analysis"] = record["cot_analysis"][:first] + "Her pitch is very high. " + record["cot_analysis"][first:]
    kept, rejected = filter_records([record], FilterConfig())
    assert not kept and "grounding_pitch" in rejected[0]["reject_reasons"]
    data.records = [r for r in data.records if r["id"] != victim["id"]] + [{**rejected[0], "status": "rejected"}]
    out = tmp_path_factory.mktemp("report") / "report"
    info = write_report(demo_build, out, ReportConfig(sample=9, max_rejected=5), data=data)
    return out, info, rejected[0]


def test_build_writes_the_report_and_the_card_links_it(demo_build):
    assert (demo_build / "report" / "index.html").exists()
    pages = list((demo_build / "report" / "records").glob("*.html"))
    assert len(pages) == 27  # report.sample kept records; the demo build rejects none
    assert "](report/index.html)" in (demo_build / "README.md").read_text()
    for page in (demo_build / "report").rglob("*.html"):  # nothing fetched from anywhere
        assert not re.search(r'(?:src|href)="(?:[a-z]+:)?//', page.read_text()), page


def test_unchanged_rerun_keeps_the_report(demo_build):
    from emotioncot.config import BuildConfig
    from emotioncot.pipeline import run_report
    from emotioncot.workspace import Workspace

    index = demo_build / "report" / "index.html"
    before = index.stat().st_mtime_ns
    info = run_report(Workspace(demo_build), BuildConfig(), log=lambda m: None)
    assert index.stat().st_mtime_ns == before and info["pages"] == 27


def test_report_in_headless_chromium(demo_build, report_with_rejection, tmp_path):
    from selenium.webdriver.support.ui import Select

    from emotioncot.report.browser import full_page_screenshot

    out, info, rejected = report_with_rejection
    driver = _browser(tmp_path)
    try:
        # overview: the four heat maps are shown
        driver.get((out / "index.html").as_uri())
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('img.heatmap')).map(i => [i.dataset.cue, i.complete, i.naturalWidth, i.getBoundingClientRect().height])")
        assert sorted(s[0] for s in shown) == ["energy", "intonation", "pitch", "speed"]
        assert all(ok and w > 100 and h > 50 for _, ok, w, h in shown), shown
        assert _console_errors(driver) == []
        full_page_screenshot(driver, tmp_path / "overview.png")

        # the record list: every filter control narrows what is listed
        driver.get((out / "records.html").as_uri())

        def visible():
            return driver.execute_script(
                "return Array.from(document.querySelectorAll('#records tbody tr')).filter(r => !r.hidden).map(r => r.dataset)")

        total = len(visible())
        assert total == info["pages"] == 10 and int(driver.find_element("id", "shown").text) == total
        for control, value, check in (
            ("filter-emotion", "sad", lambda d: d["emotion"] == "sad"),
            ("filter-status", "rejected", lambda d: d["status"] == "rejected"),
            ("filter-reasons", "grounding_pitch", lambda d: "grounding_pitch" in d["reasons"]),
            ("filter-levels", "pitch:low", lambda d: "pitch:low" in d["levels"].split()),
            ("filter-split", "train", lambda d: d["split"] == "train"),
        ):
            Select(driver.find_element("id", control)).select_by_value(value)
            rows = visible()
            assert 0 < len(rows) < total and all(check(d) for d in rows), (control, rows)
            Select(driver.find_element("id", control)).select_by_value("")
        assert len(visible()) == total
        word = rejected["id"].upper()  # the search is case-blind
        driver.find_element("id", "search").send_keys(word)
        rows = visible()
        assert [d["status"] for d in rows] == ["rejected"]
        assert _console_errors(driver) == []
        full_page_screenshot(driver, tmp_path / "records.png")

        # a record page: the audio loads with the clip's duration, the contour is drawn
        from emotioncot.report.data import page_name

        rec = rejected
        driver.get((out / "records" / f"{page_name(rec['id'])}.html").as_uri())
        duration, ready, error = driver.execute_async_script("""
            const done = arguments[arguments.length - 1], a = document.getElementById('clip');
            const report = () => done([a.duration, a.readyState, a.error && a.error.code]);
            if (a.readyState >= 1) { report(); } else { a.addEventListener('loadedmetadata', report); a.addEventListener('error', report); }
        """)
        assert error is None and ready >= 1
        assert duration == pytest.approx(rec["duration_s"], abs=0.03)  # the clip as measured, not a stand-in
        img = driver.find_element("id", "contour")
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 300
        png = np.asarray(_png_pixels(img.screenshot_as_png))
        assert png.std() > 20 and len(np.unique(png.reshape(-1, png.shape[-1]), axis=0)) > 50  # not blank
        marked = driver.execute_script(
            "return Array.from(document.querySelectorAll('#rationale .st.contradicts')).map(s => s.textContent)")
        assert "Her pitch is very high" in "".join(marked)  # a statement may be cut where another overlaps it
        assert "grounding_pitch" in driver.find_element("css selector", ".reasons").text
        assert _console_errors(driver) == []
        full_page_screenshot(driver, tmp_path / "record.png")
    finally:
        driver.quit()
    for name in ("overview.png", "records.png", "record.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def _png_pixels(data: bytes):
    import io

    import matplotlib.image

    return (matplotlib.image.imread(io.BytesIO(data), format="png")[..., :3] * 255).astype(int)


def test_report_cli_rewrites_with_options(demo_build, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["report", str(demo_build), "--out", str(out), "--sample", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert len(list((out / "records").glob("*.html"))) == 3 and len(list((out / "audio").glob("*.ogg"))) == 3
    bad = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert bad.exit_code == 2 and "not a finished build folder" in bad.output


def test_report_cli_shows_progress_unless_quiet(demo_build, tmp_path):
    from typer.testing import CliRunner

    from emotioncot.cli import app

    shown = CliRunner().invoke(app, ["report", str(demo_build), "--out", str(tmp_path / "a"), "--sample", "2"])
    quiet = CliRunner().invoke(app, ["report", str(demo_build), "--out", str(tmp_path / "b"), "--sample", "2", "-q"])
    assert shown.exit_code == quiet.exit_code == 0, (shown.output, quiet.output)
    assert "report:" in shown.output and "7/7" in shown.output  # 4 heat maps, the distributions, 2 pages
    assert "7/7" not in quiet.output and quiet.output.count("\n") == 1  # only the line naming the site


def test_real_build_report_counts_the_taxonomy_exclusions_and_draws_the_cut_points_records_use(real_build, test_data):
    from emotioncot.calibrate.levels import LEVEL_FEATURES, cuts_used, vocal_effort
    from emotioncot.report.data import gather, taxonomy_exclusions

    out, _ = real_build
    boredom = sum(p.stem[5] == "L" for p in (test_data / "emodb" / "wav").glob("*.wav"))
    calm = sum(p.stem.split("-")[2] == "02" for p in (test_data / "ravdess").glob("*.wav"))
    data = gather(out)
    assert taxonomy_exclusions(data) == [("emodb 'boredom'", boredom), ("ravdess 'calm'", calm)]
    index = (out / "report" / "index.html").read_text()
    assert f"<b>{boredom + calm}</b> excluded by the taxonomy" in index and ">taxonomy<" in index
    # the cut points drawn over a box are the ones that graded its records: each level agrees with them
    kept = [r for r in data.records if r["status"] == "kept"]
    for level, (feature, names) in LEVEL_FEATURES.items():
        used = cuts_used(kept, data.thresholds, feature)
        graded = [r for r in kept if r.get(level) and not (r.get("level_reasons") or {}).get(level)]
        assert graded and all(r["id"] in used for r in graded)
        for r in graded:
            lo, hi = used[r["id"]]
            value = vocal_effort(r, data.thresholds["groups"][r["level_group"].split(" + ")[0]][feature].get("level_weight", 0.0)) \
                if feature == "vocal_effort_db" else r[feature]
            assert r[level] == (names[0] if value < lo else names[2] if value > hi else names[1]), (r["id"], level)
        global_cuts = (data.thresholds["groups"].get("global", {}).get(feature) or {}).get("cuts")
        if global_cuts and not any("global" in (r.get("level_group") or "") for r in kept):
            assert tuple(global_cuts) not in set(used.values())  # a fallback no record used is not drawn


def test_prosody_tasks_page(demo_build, tmp_path):
    from emotioncot.cli.prosody import load_source_records
    from emotioncot.config import ProsodyConfig
    from emotioncot.prosody.build import build_tasks
    from emotioncot.report import write_tasks_report
    from emotioncot.report.browser import full_page_screenshot

    records = load_source_records(demo_build)
    picked = []
    for speaker in sorted({r["speaker_id"] for r in records}):
        picked += sorted((r for r in records if r["speaker_id"] == speaker), key=lambda r: r["id"])[::8][:3]
    folder = tmp_path / "tasks"
    build_tasks(picked, folder, ProsodyConfig(per_utterance=1, workers=1, min_per_answer=1), progress=False)
    info = write_tasks_report(folder, sample=12)
    summary = json.loads((folder / "prosody_tasks.json").read_text())
    driver = _browser(tmp_path)
    try:
        driver.get((Path(info["path"]) / "index.html").as_uri())
        rows = driver.execute_script("""
            return Array.from(document.querySelectorAll('#tasks tbody tr')).map(r => {
              const a = r.querySelector('audio'); return [r.dataset.task, a && a.dataset.duration, r.cells[3].textContent]; });""")
        assert len(rows) == info["questions"] > 0
        assert {t for t, _, _ in rows} == {t for t, n in summary["tasks"].items() if n}  # every task shown
        durations = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const audios = Array.from(document.querySelectorAll('#tasks audio'));
            Promise.all(audios.map(a => a.readyState >= 1 ? a.duration : new Promise(ok => {
              a.addEventListener('loadedmetadata', () => ok(a.duration)); a.addEventListener('error', () => ok(-1)); a.load(); })))
              .then(done);""")
        assert len(durations) == len(rows)
        assert all(d == pytest.approx(float(want), abs=0.03) for d, (_, want, _) in zip(durations, rows))
        assert _console_errors(driver) == []
        full_page_screenshot(driver, tmp_path / "tasks.png")
    finally:
        driver.quit()
    assert (tmp_path / "tasks.png").stat().st_size > 10_000


def test_screenshot_script_takes_a_relative_build_path(demo_build, tmp_path):
    import shutil
    import subprocess
    import sys

    _need_chromium()
    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(demo_build, tmp_path / "demo-build", symlinks=True)
    done = subprocess.run([sys.executable, str(repo / "docs" / "screenshots.py"), "demo-build", "shots"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]  # was: "relative path can't be expressed as a file URI"
    for name in ("report-overview.png", "report-record.png"):
        assert (tmp_path / "shots" / name).stat().st_size > 10_000
