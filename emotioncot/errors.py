"""Errors shared across the build's modules (kept apart so that the pipeline and the executors do not
import each other)."""

from __future__ import annotations


class BuildError(RuntimeError):
    """A build cannot go on (bad configuration, missing input); the message says what to fix."""
