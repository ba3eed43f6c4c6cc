"""The interface every executor implements: run one function over many items, hand back outcomes as they
complete (in any order), with a bounded number of items in flight so that memory stays flat whatever
the number of items.

An item whose worker died, or whose function raised, comes back as a failed ``Outcome``: the caller
decides (the measure stage leaves that shard unwritten, so a rerun does it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator


@dataclass
class Outcome:
    ok: bool
    value: Any = None
    error: str | None = None


class Executor(ABC):
    """Runs a picklable top-level function over items on some pool of worker processes."""

    name: str = "executor"

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many items run at once (processes, or CPUs of a Ray cluster)."""

    @abstractmethod
    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                       window: int | None = None) -> Iterator[tuple[Any, Outcome]]:
        """Yield ``(item, outcome)`` as each item finishes; at most ``window`` (default 2 x workers) are
        submitted and not yet handed back at any time."""

    def describe(self) -> dict:
        return {"executor": self.name, "workers": self.workers}

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Stop at once (an interrupt): work in flight is dropped, not waited for."""
        self.close()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
