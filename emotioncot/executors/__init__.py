"""Where per-item work runs: ``local`` (a process pool on this machine) or ``ray`` (a Ray cluster).

Both run the same top-level functions on the same shards, so they produce identical tables.
"""

from __future__ import annotations

from emotioncot.executors.base import Executor, Outcome


def make_executor(config, workers: int) -> Executor:
    """The executor that ``config`` (an ``ExecutorConfig``) names, with ``workers`` processes/CPUs."""
    if config.name == "ray":
        from emotioncot.executors.ray_executor import RayExecutor

        return RayExecutor(workers, address=config.ray_address, max_retries=config.max_retries,
                           object_store_mb=config.ray_object_store_mb)
    from emotioncot.executors.local import LocalExecutor

    return LocalExecutor(workers, pin_cores=config.pin_cores)


def outcomes(config, workers: int, fn, items, run: dict | None = None):
    """``(item, outcome)`` of ``fn`` over ``items`` as each finishes, on the executor ``config`` names (None: a local
    pool) with ``workers`` processes; the executor is closed at the end and aborted (work in flight dropped) when
    the consumer stops early: an exception, an interrupt. ``run`` gets the executor's description (what ran it)."""
    if config is None:
        from emotioncot.config import ExecutorConfig

        config = ExecutorConfig()
    executor = make_executor(config, workers)
    if run is not None:
        run.update(executor.describe())
    try:
        yield from executor.imap_unordered(fn, items)
    except BaseException:  # GeneratorExit too: the consumer's loop raised
        executor.abort()
        raise
    executor.close()


__all__ = ["Executor", "Outcome", "make_executor", "outcomes"]
