"""``emotioncot ingest`` (sources -> the utterance table), ``emotioncot corpora`` (what is supported and
where to get it) and ``emotioncot pull`` (download a public corpus into the layout ingest reads)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from emotioncot.cli.common import OLD_SEED, QUIET, SOURCE_HELP, SPLIT_SEED, fail, load_config, seed_alias
from emotioncot.cli.estimate_options import NO_LANGUAGE_ESTIMATE, NO_SPEAKER_CLUSTERS, SPEAKER_MODEL, apply_estimate_options



def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        corpus: List[str] = typer.Option(..., "--corpus", "-c", help=SOURCE_HELP),
        out: Path = typer.Option(..., "--out", "-o", help="The build folder; the table is written to OUT/manifest.parquet and OUT/stages/ingest.parquet."),
        config: Optional[Path] = typer.Option(None, "--config", help="BuildConfig file (JSON/YAML)."),
        split_seed: Optional[int] = SPLIT_SEED,
        seed: Optional[int] = OLD_SEED,
        text_disjoint: bool = typer.Option(False, "--text-disjoint", help="Also keep each sentence in one split only (scripted corpora); utterances whose speaker and sentence disagree get no split."),
        speaker_model: Optional[str] = SPEAKER_MODEL,
        no_speaker_clusters: bool = NO_SPEAKER_CLUSTERS,
        no_language_estimate: bool = NO_LANGUAGE_ESTIMATE,
        quiet: bool = QUIET,
    ) -> None:
        """Read corpora in their distribution layouts into one table of utterances with splits, and print
        utterances per corpus, emotion and split, and what was left out and why."""
        from emotioncot.ingest.core import format_summary
        from emotioncot.pipeline import BuildError, run_ingest
        from emotioncot.schema import Utterance
        from emotioncot.tables import write_table
        from emotioncot.workspace import Workspace

        cfg = load_config(config)
        split_seed = seed_alias(split_seed, seed, "--split-seed")
        if split_seed is not None:
            cfg.ingest.seed = split_seed
        cfg.ingest.text_disjoint = text_disjoint or cfg.ingest.text_disjoint
        apply_estimate_options(cfg, speaker_model, no_speaker_clusters, no_language_estimate)
        ws = Workspace(out)
        try:
            rows = run_ingest(ws, corpus, cfg, progress=not quiet)
        except (BuildError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        errors = ws.stage_errors("ingest")
        write_table(Path(out) / "manifest.parquet", rows, Utterance)
        typer.echo(format_summary(rows, errors))
        typer.echo(f"table: {Path(out) / 'manifest.parquet'}")
        if errors:
            typer.echo(f"reasons for every item left out: {ws.errors_path}")

    @app.command()
    def corpora(
        name: Optional[str] = typer.Argument(None, help="Show one corpus in full (layout, citation)."),
    ) -> None:
        """List every supported corpus: its expected layout, its licence and where to get it."""
        from emotioncot.ingest.manifest import list_manifests, load_manifest

        if name:
            from emotioncot.ingest.sources import CORPORA, canonical_name, unknown_corpus

            if canonical_name(name) not in CORPORA:
                fail(unknown_corpus(name))
            try:
                m = load_manifest(canonical_name(name))
            except FileNotFoundError as exc:
                fail(str(exc))
            typer.echo(f"{m['name']}: {m.get('title')}\n{m.get('description', '')}".rstrip())
            typer.echo(f"licence: {m.get('licence')}\nhomepage: {m.get('homepage')}\naccess: {m.get('access', 'public')}")
            if m.get("request"):
                typer.echo(f"how to get it: {' '.join(str(m['request']).split())}")
            typer.echo(f"layout:\n{m.get('layout', '').rstrip()}\ningest with: --corpus {m.get('ingest', m['name'] + '=DIR')}")
            labels = ", ".join(f"{k}->{v}" for k, v in (m.get("labels") or {}).items())
            typer.echo(f"labels: {labels}\nexcluded: {', '.join(map(str, m.get('excluded') or [])) or '(none)'}")
            typer.echo(f"citation: {' '.join(str(m.get('citation') or '').split())}")
            return
        for m in list_manifests():
            how = "emotioncot pull " + m["name"] if m.get("access") != "gated" and m.get("download") else (
                "licence-gated: " + str(m.get("homepage")) if m.get("access") == "gated" else "built in"
            )
            typer.echo(f"{m['name']:12s} {m.get('title', '')}")
            typer.echo(f"{'':12s} licence: {m.get('licence')}")
            typer.echo(f"{'':12s} get it: {how}")
            first_line = (m.get("layout") or "").strip().splitlines()[:1]
            if first_line:
                typer.echo(f"{'':12s} layout: {first_line[0]}")
        typer.echo("`emotioncot corpora NAME` shows one corpus in full.")

    @app.command()
    def pull(
        name: str = typer.Argument(..., help="Corpus name (see `emotioncot corpora`)."),
        to: Path = typer.Option(..., "--to", help="Folder to download and unpack into."),
        url: Optional[str] = typer.Option(None, "--url", help="Download from this URL instead of the manifest's (a mirror)."),
        sha256: Optional[str] = typer.Option(None, "--sha256", help="Expected sha256 of the download (overrides the manifest's)."),
        retries: int = typer.Option(3, "--retries", help="Resume an interrupted download this many times before giving up."),
    ) -> None:
        """Download a public corpus with resume and checksum checks, unpack it into the layout `ingest`
        reads, and print the --corpus spec to use. For licence-gated corpora, print what to request, from
        whom, and where to put the files."""
        from emotioncot.ingest.pull import GatedCorpus, PullError, pull as run_pull
        from emotioncot.ingest.sources import CORPORA, canonical_name, unknown_corpus

        if canonical_name(name) not in CORPORA:
            fail(unknown_corpus(name))
        try:
            result = run_pull(canonical_name(name), to, url=url, sha256=sha256, retries=retries, log=typer.echo)
        except GatedCorpus as exc:
            typer.echo(str(exc))
            raise typer.Exit(0)
        except (PullError, FileNotFoundError) as exc:
            fail(str(exc))
        typer.echo(f"{name}: {len(result.files)} file(s) ready under {result.root}")
        typer.echo(f"next: emotioncot ingest --corpus {result.ingest_spec} --out BUILD")
