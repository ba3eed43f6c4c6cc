"""The quality filter: every record is kept or rejected with machine-readable reason codes (docs/filtering.md)."""

from __future__ import annotations

from emotioncot.config import FilterConfig
from emotioncot.filter.checks import REASON_CODES, filter_records, reason_counts, record_problems

__all__ = ["FilterConfig", "REASON_CODES", "filter_records", "reason_counts", "record_problems"]
