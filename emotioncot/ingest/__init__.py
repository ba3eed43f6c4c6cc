"""Ingest: corpora in their distribution layouts -> one table of ``Utterance`` rows with splits."""

from __future__ import annotations

from emotioncot.ingest.core import ingest_sources, parse_source

__all__ = ["ingest_sources", "parse_source"]
