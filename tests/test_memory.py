"""release_freed_memory gives the pages of freed allocations back to the system."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

from emotioncot.memory import _malloc_trim, release_freed_memory


def _resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc" or not Path("/proc/self/statm").exists(),
                    reason="glibc's malloc_trim and Linux /proc")
def test_freed_pages_inside_the_heap_go_back_to_the_system():
    assert _malloc_trim() is not None
    # 2 KB objects come from malloc (not Python's small-object arenas); keeping every 64th holds the heap open, so
    # the freed pages between them are not at its top and stay resident until trimmed
    blocks = [bytes(2048) + i.to_bytes(4, "little") for i in range(60_000)]
    kept = blocks[::64]
    del blocks
    before = _resident_mb()
    release_freed_memory()
    after = _resident_mb()
    assert len(kept) == 938
    assert before - after > 50, (before, after)
