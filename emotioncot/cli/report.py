"""``emotioncot report``: the explorer report (a static site) of a build or prosody-tasks folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import QUIET, fail, load_config


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        path: Path = typer.Argument(..., help="A build folder (from `build`) or a `prosody-tasks` output folder."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write the site (default: PATH/report)."),
        sample: Optional[int] = typer.Option(None, "--sample", help="Kept records (or task questions) that get a page (default: report.sample)."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the sample (default: report.seed)."),
        max_rejected: Optional[int] = typer.Option(None, "--max-rejected", help="Rejected records that get a page (default: report.max_rejected)."),
        config: Optional[Path] = typer.Option(None, "--config", help="A BuildConfig file; its `report` section sets the defaults."),
        quiet: bool = QUIET,
    ) -> None:
        """Write a self-contained static site to open in a browser: counts, emotion-by-level heat maps,
        distributions with the cut points and provenance; record pages with the clip, its F0 contour and
        energy, levels, caption and the rationale's statements marked as the filter read them."""
        from emotioncot.report import write_report, write_tasks_report
        from emotioncot.report.tasks import is_tasks_folder

        build_config = load_config(config)
        cfg = build_config.report
        for name, value in (("sample", sample), ("seed", seed), ("max_rejected", max_rejected)):
            if value is not None:
                setattr(cfg, name, value)
        if not path.is_dir():
            fail(f"{path}: not a folder")
        try:
            if is_tasks_folder(path):
                info = write_tasks_report(path, out, sample=cfg.sample, seed=cfg.seed)
            else:
                info = write_report(path, out, cfg, progress=not quiet, executor_config=build_config.executor,
                                    workers=build_config.measure.workers)
        except (FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        typer.echo(f"report: {Path(info['path']) / 'index.html'} ({info['pages']} pages, {info['bytes'] / 1e6:.1f} MB)")
