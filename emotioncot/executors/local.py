"""The local executor: a process pool over this machine's cores (or the caller's process for one worker)."""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

from emotioncot.executors.base import Executor, Outcome


def _usable_cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux: no pinning
        return []


def _pin(core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})


def _die_with_parent(parent: int) -> None:
    """A worker never outlives the build: the kernel kills it when its parent dies (Linux prctl), and a
    watchdog thread checks once a second in case the parent died before that was set (or off Linux)."""
    import signal
    import threading
    import time

    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _one_thread_per_worker(counter=None, cores: tuple[int, ...] = (), parent: int | None = None) -> None:
    """Pool initializer: Ctrl-C is the parent's to handle (a SIGINT sent to the process group must not cut
    a worker's import or measurement half-way: the parent stops the pool itself), workers die with their
    parent, and one worker is one core. One BLAS/OpenMP thread per worker process (N workers that
    each start a thread per core would oversubscribe the machine; Ray does the same via OMP_NUM_THREADS=1),
    and, with ``cores``, the worker pinned to a core of its own: Praat runs its pitch analysis on two
    threads, which would otherwise let one worker take more than its core."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent while it forked us
    if parent is not None:
        _die_with_parent(parent)
    if counter is not None and cores:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        _pin(cores[index % len(cores)])
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: then the libraries keep their defaults
        return
    global _THREAD_LIMIT
    _THREAD_LIMIT = threadpool_limits(1)  # kept referenced for the worker's life


_THREAD_LIMIT = None


def _single_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


class LocalExecutor(Executor):
    name = "local"

    def __init__(self, workers: int, pin_cores: bool = True):
        self._workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        cores = _usable_cores() if pin_cores else []
        # Pin only when every worker can have a core of its own.
        self._cores = tuple(cores) if len(cores) >= self._workers else ()

    @property
    def workers(self) -> int:
        return self._workers

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            counter = multiprocessing.get_context().Value("i", 0)
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers, initializer=_one_thread_per_worker,
                initargs=(counter, self._cores, os.getpid())
            )
        return self._pool

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                       window: int | None = None) -> Iterator[tuple[Any, Outcome]]:
        if self._workers == 1:
            # No pool: no process start-up, and the measurements run exactly as in any worker (one thread:
            # one worker is one core, here as in the pool).
            before = _usable_cores()
            _pin(self._cores[0] if self._cores else None)
            try:
                with _single_thread():
                    for item in items:
                        try:
                            yield item, Outcome(True, fn(item))
                        except Exception as exc:
                            yield item, Outcome(False, error=f"{type(exc).__name__}: {exc}")
            finally:
                if self._cores and before:
                    os.sched_setaffinity(0, set(before))  # the caller's process gets its cores back
            return
        window = max(1, window or 2 * self._workers)
        pending: dict = {}
        source = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                try:
                    pending[self._submit(fn, item)] = item
                except BrokenProcessPool:
                    self._reset()
                    pending[self._submit(fn, item)] = item
            if not pending:
                return
            done = _wait_first(list(pending))
            broken = False
            for fut in done:
                item = pending.pop(fut)
                try:
                    yield item, Outcome(True, fut.result())
                except BrokenProcessPool as exc:
                    broken = True
                    yield item, Outcome(False, error=f"worker process died ({exc})")
                except Exception as exc:
                    yield item, Outcome(False, error=f"{type(exc).__name__}: {exc}")
            if broken:
                # A killed worker breaks the whole pool: the items still in it are lost too (reported as
                # failed, so their shards stay unwritten), and a fresh pool takes the rest.
                for fut, item in list(pending.items()):
                    yield item, Outcome(False, error="worker pool broke while this item was in flight")
                pending.clear()
                self._reset()

    def _submit(self, fn, item):
        """Submit with SIGINT blocked: the pool forks its workers here, and a Ctrl-C landing between the
        fork and the worker's initializer would otherwise kill the worker half-started. The signal stays
        pending and reaches this (the parent) process as soon as the submit returns."""
        import signal

        # SIGTERM too: the pool's manager and feeder threads start here and inherit the mask, so both signals
        # reach the main thread only (see _wait_first)
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            return self._get_pool().submit(fn, item)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _reset(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop now (interrupt): kill the workers rather than wait for the shards they hold, which stay
        unwritten and are done again by the rerun."""
        if self._pool is not None:
            for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
                proc.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _wait_first(futures: list) -> set:
    """``concurrent.futures.wait(FIRST_COMPLETED)`` that a signal cannot interrupt halfway.

    The build's SIGINT/SIGTERM handler raises in the main thread at whatever bytecode it is running. Raised
    inside ``wait()`` (in ``threading.Condition.wait``, between re-acquiring the waiter's lock and the ``with``
    that releases it), it left that lock held, so the pool's manager thread blocked forever on it while
    reporting the killed workers, and ``abort()``'s ``shutdown(wait=True)`` waited on the manager: a hang seen
    once in ``test_sigint_at_random_points_never_poisons_the_measure_stage``. So the signals are blocked while
    inside ``wait()`` and delivered between short waits, in this frame, where no lock is held."""
    import signal

    mask = {signal.SIGINT, signal.SIGTERM}
    while True:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, mask)
        try:
            done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        if done:
            return done
