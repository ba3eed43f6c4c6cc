"""The README's report screenshots, taken from the demo build in a headless Chromium.

    PYTHONPATH=. python docs/screenshots.py [BUILD [OUT]]    # BUILD: an existing demo build (else one is built)

Writes OUT/report-overview.png and OUT/report-record.png (OUT: docs/img) (the page of the first sampled record
with a stressed word and a pause, so that both marks show)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotioncot.report.browser import headless_chromium  # noqa: E402

OUT = Path(__file__).resolve().parent / "img"
WIDTH = 1100


def shoot(build: Path, out: Path = OUT) -> list[Path]:
    build = build.resolve()  # a browser opens file URIs, and only an absolute path has one
    report = build / "report"
    if not (report / "index.html").exists():
        from emotioncot.config import ReportConfig
        from emotioncot.report import write_report

        write_report(build, report, ReportConfig())
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as profile:
        driver = headless_chromium(Path(profile), WIDTH, 900)
        try:
            driver.get((report / "index.html").as_uri())
            # the counts and the heat maps: the top of the overview
            heat = driver.find_element("css selector", "img.heatmap")
            driver.set_window_size(WIDTH, int(heat.location["y"]) + 620)
            written.append(out / "report-overview.png")
            driver.save_screenshot(str(written[-1]))
            pages = sorted((report / "records").glob("*.html"))
            chosen = next((p for p in pages if _has_marks(p)), pages[0])
            driver.set_window_size(WIDTH, 1200)
            driver.get(chosen.as_uri())
            written.append(out / "report-record.png")
            driver.save_screenshot(str(written[-1]))
        finally:
            driver.quit()
    return written


def _has_marks(page: Path) -> bool:
    text = page.read_text()
    return "<td>stressed_words</td><td>none</td>" not in text and "<td>pause_count</td><td>0</td>" not in text


def main(argv: list[str]) -> int:
    if argv:
        build = Path(argv[0])
    else:
        from emotioncot.pipeline import build as run_build

        build = Path(tempfile.mkdtemp()) / "demo-build"
        run_build(["demo"], build, progress=False, log=lambda m: None)
    if argv and not (build / "dataset").is_dir():
        print(f"error: {build}: not a build folder (no dataset/ in it)", file=sys.stderr)
        return 2
    for path in shoot(build, Path(argv[1]) if len(argv) > 1 else OUT):
        print(f"{path} ({path.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
