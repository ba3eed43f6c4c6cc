"""Errors shared across the build's modules (kept apart so that the pipeline and the executors do not
import each other)."""

from __future__ import annotations


class BuildError(RuntimeError):
    """A build cannot go on (bad configuration, missing input); the message says what to fix."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM reached the build: finished work is kept and a rerun resumes."""

    last_signal: int | None = None  # set by the handler, even where the exception itself got swallowed

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        Interrupted.last_signal = signum


# errno values that say the machine, not the clip, failed (disk full, quota, read-only folder, no memory)
_RUN_ERRNOS = {28, 122, 30, 12}


def is_run_failure(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by the run rather than by the item: an interrupt, a missing or
    half-imported module (an import cut by a signal leaves ``NameError``s behind), memory or disk
    exhausted, a folder that cannot be written. Such a failure must never be recorded as the item's
    result (a rerun would reuse it); the item is done again instead."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, MemoryError, ImportError, NameError)):
        return True
    return isinstance(exc, OSError) and getattr(exc, "errno", None) in _RUN_ERRNOS


class RunFailure(RuntimeError):
    """Raised in a worker for a run-caused failure, so that its shard is not written (see is_run_failure)."""
