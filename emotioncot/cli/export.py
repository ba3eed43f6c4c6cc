"""``emotioncot export``: the filtered records -> Parquet shards, DatasetDict, EmotionCoT JSONL, dataset card."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emotioncot.cli.common import PROMPT_STYLE_HELP, QUIET, check_prompt_style, echo_stale, fail, load_config
from emotioncot.wording import count


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        workspace: Path = typer.Argument(..., help="A build folder whose filter stage has run."),
        embed_audio: bool = typer.Option(
            False, "--embed-audio",
            help="Store the audio bytes in the dataset (self-contained; needed before push-to-hub if the audio should "
                 "travel). Default: the Audio column references the corpus files. Segments are always embedded.",
        ),
        shard_max_mb: Optional[float] = typer.Option(
            None, "--shard-max-mb", help="Largest Parquet shard, in MB (default from the config: 256)."
        ),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
        prompt_style: Optional[str] = typer.Option(None, "--prompt-style", help=PROMPT_STYLE_HELP),
        framework: Optional[str] = typer.Option(
            None, "--for", help="Write a training framework's files instead: llamafactory, ms-swift, verl or lhotse "
                                "(needs --out; docs/export.md).",
        ),
        out: Optional[Path] = typer.Option(None, "--out", help="Folder for the --for export (clips + files)."),
        sample_rate: Optional[int] = typer.Option(
            None, "--sample-rate", help="Rate of the --for export's mono clips, in Hz (default from the config: 16000)."
        ),
        webdataset: bool = typer.Option(
            False, "--webdataset", help="With --for lhotse: also write each split's cuts with their audio as WebDataset "
                                        "shards, through lhotse's writer (export.webdataset_shard_size cuts a shard).",
        ),
        quiet: bool = QUIET,
    ) -> None:
        """Write parquet/, dataset/, emotioncot.jsonl and README.md (the dataset card) into the build folder.
        Records that cannot be exported are listed in errors.jsonl with their reason. With --for NAME --out DIR:
        the files that framework's own loader reads, with portable 16 kHz mono clips, into DIR."""
        from emotioncot.pipeline import run_export
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        cfg.export.embed_audio = embed_audio or cfg.export.embed_audio
        if shard_max_mb is not None:
            if shard_max_mb <= 0:
                fail("--shard-max-mb must be positive")
            cfg.export.shard_max_mb = shard_max_mb
        if check_prompt_style(prompt_style):
            cfg.export.prompt_style = prompt_style  # type: ignore[assignment]
        if framework is not None or out is not None:
            if framework is None or out is None:
                fail("--for and --out go together")
            if sample_rate is not None:
                if sample_rate <= 0:
                    fail("--sample-rate must be positive")
                cfg.export.portable_sample_rate = sample_rate
            if webdataset and framework != "lhotse":
                fail(f"--webdataset goes with --for lhotse, not --for {framework}")
            _export_for_framework(workspace, framework, out, cfg, quiet, webdataset)
            return
        if webdataset:
            fail("--webdataset goes with --for lhotse --out DIR")
        ws = Workspace(workspace)
        if not ws.stage_table("filter").exists():
            fail(f"{ws.stage_table('filter')}: table not found (run filter first, or use build)")
        counts = run_export(ws, None, cfg, progress=not quiet)  # streams the filter table
        failed = len(ws.stage_errors("export"))
        typer.echo(
            f"exported {count(sum(counts.values()), 'record')} ({counts}) -> {ws.root / 'parquet'}, {ws.root / 'dataset'}, "
            f"{ws.root / 'emotioncot.jsonl'}, {ws.root / 'README.md'}"
            + (f"; {count(failed, 'record')} left out (see {ws.errors_path})" if failed else "")
        )
        echo_stale(ws.root)


def _export_for_framework(workspace: Path, framework: str, out: Path, cfg, quiet: bool, webdataset: bool) -> None:
    from emotioncot.export.frameworks import FRAMEWORKS, export_for_framework

    if framework not in FRAMEWORKS:
        fail(f"--for {framework!r}: choose one of {', '.join(FRAMEWORKS)}")
    try:
        info = export_for_framework(workspace, framework, out, cfg.export.portable_sample_rate,
                                    cfg.export.prompt_style, progress=not quiet,
                                    webdataset_shard_size=cfg.export.webdataset_shard_size if webdataset else None)
    except FileNotFoundError as exc:
        fail(str(exc))
    left_out = info["left_out"]
    typer.echo(
        f"exported {sum(info['counts'].values())} records ({info['counts']}) for {framework} -> {out} "
        f"({', '.join(info['files'])}; clips {info['sample_rate']} Hz mono under {out / 'audio'})"
        + (f"; {len(left_out)} records left out (see {out / 'export_info.json'})" if left_out else "")
    )
