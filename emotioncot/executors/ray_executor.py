"""The Ray executor: each item is a Ray task (one CPU), run anywhere on a Ray cluster.

Without an address it starts a private local Ray instance sized to ``workers`` CPUs and stops it on
close; with ``address`` ("auto", "ray://host:10001", "host:6379") it joins an existing cluster and leaves
it running. Every node must be able to import emotioncot (same version) and read the audio paths
(shared storage): the tasks carry rows, not audio.

Why Ray tasks rather than Ray Data: the unit of work here is a shard that its task writes itself (a
Parquet file renamed into place), and the unit of recovery is that shard. Ray tasks give exactly that
(a task whose worker dies is retried ``max_retries`` times, then reported), with a bounded window of
tasks in flight so that the driver's memory stays flat. Ray Data would add a second, opaque layer of
blocks and its own buffering between us and the shard files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from emotioncot.executors.base import Executor, Outcome


def _ray():
    try:
        import ray
    except ImportError:  # pragma: no cover - depends on the install
        from emotioncot.errors import BuildError

        raise BuildError("--executor ray needs Ray: pip install 'emotioncot[ray]'") from None
    return ray


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast on a ``host:port`` (or ``ray://host:port``) nobody listens on: Ray itself waits for its
    GCS timeout (minutes) before giving up."""
    import socket

    host, _, port = address.split("://", 1)[-1].rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        from emotioncot.errors import BuildError

        raise BuildError(f"cannot reach the Ray cluster at {address}: {exc} (is `ray start --head` running there?)") from None


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, workers: int, address: str | None = None, max_retries: int = 2,
                 object_store_mb: int | None = None):
        ray = _ray()
        self.address = address
        self.max_retries = max(0, int(max_retries))
        self._started = False
        if not ray.is_initialized():
            if address:
                check_reachable(address)
                try:
                    ray.init(address=address, log_to_driver=False, configure_logging=False)
                except Exception as exc:  # no cluster there, wrong port, version mismatch
                    from emotioncot.errors import BuildError

                    raise BuildError(f"cannot join the Ray cluster at {address}: {type(exc).__name__}: {exc}") from None
            else:
                # Workers inherit the driver's environment: make sure they can import this package even
                # when it is run from a source checkout rather than installed.
                package_root = str(Path(__file__).resolve().parent.parent.parent)
                old = os.environ.get("PYTHONPATH")
                paths = (old or "").split(os.pathsep) if old else []
                if package_root not in paths:
                    os.environ["PYTHONPATH"] = os.pathsep.join([package_root, *paths])
                try:
                    ray.init(num_cpus=max(1, int(workers)), include_dashboard=False, log_to_driver=False,
                             configure_logging=False,
                             object_store_memory=(object_store_mb * 2**20) if object_store_mb else None)
                finally:
                    if old is None:
                        os.environ.pop("PYTHONPATH", None)
                    else:
                        os.environ["PYTHONPATH"] = old
            self._started = True
        self._workers = max(1, int(ray.cluster_resources().get("CPU", workers)))
        self._remote: dict = {}

    @property
    def workers(self) -> int:
        return self._workers

    def describe(self) -> dict:
        ray = _ray()
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        return {"executor": self.name, "workers": self.workers, "nodes": len(nodes),
                "address": self.address or "local"}

    def _task(self, fn: Callable):
        if fn not in self._remote:
            self._remote[fn] = _ray().remote(num_cpus=1, max_retries=self.max_retries, retry_exceptions=False)(fn)
        return self._remote[fn]

    def imap_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                       window: int | None = None) -> Iterator[tuple[Any, Outcome]]:
        ray = _ray()
        task = self._task(fn)
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
                pending[task.remote(item)] = item
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                item = pending.pop(ref)
                try:
                    yield item, Outcome(True, ray.get(ref))
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    yield item, Outcome(False, error=f"{type(cause).__name__}: {cause}")
                except ray.exceptions.RayError as exc:  # the worker (or its node) died, retries used up
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    yield item, Outcome(False, error=f"{type(exc).__name__}: {first}")

    def close(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False
