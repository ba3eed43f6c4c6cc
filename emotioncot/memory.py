"""Give freed memory back to the system between stages.

A build's driver lives through every stage. What a stage frees stays in the process: Arrow's memory pool keeps
its buffers for reuse, and glibc's allocator keeps freed pages inside its heap unless they sit at its top. The next
stage's own peak then comes on top of the last one's leftovers (at 100,000 records the whole build's peak resident
memory was 361 MB without this and 299 MB with it, `benchmarks/bench_pipeline_scale.py`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    gc.collect()
    if "pyarrow" in sys.modules:  # only if a stage loaded it: importing it here would cost more than it frees
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
