"""The quality filter: every record is kept or rejected with machine-readable reason codes (docs/filtering.md)."""

from __future__ import annotations

from emotioncot.config import FilterConfig
from emotioncot.filter.checks import (REASON_CODES, drop_near_duplicates, duplicate_index, filter_batch, filter_records,
                                      reason_counts, record_problems)

__all__ = ["FilterConfig", "REASON_CODES", "drop_near_duplicates", "duplicate_index", "filter_batch", "filter_records",
           "reason_counts", "record_problems"]
