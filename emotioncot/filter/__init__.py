"""The quality filter: every record is kept or rejected with machine-readable reason codes."""

from __future__ import annotations

from emotioncot.filter.checks import filter_records

__all__ = ["filter_records"]
