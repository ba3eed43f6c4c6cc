"""One bound on requests in flight across a whole Ray cluster: a named Ray actor that hands out slots.

Every process that writes against the same endpoint (the build's driver, Ray workers, a second build on
the same cluster) gets the same actor, named after the endpoint and model, and takes a slot before each
HTTP request and gives it back after. Adding workers therefore never adds load on a rate-limited endpoint.

The actor lives as long as the driver that created it (not detached). A process killed while holding a
slot does not give it back: the bound then tightens by one until the driver ends, which errs on the side
of the endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from emotioncot.workspace import stable_hash

NAMESPACE = "emotioncot"


class _Slots:
    """The actor's body (an async actor: a waiting ``acquire`` does not block ``release``)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.sem = asyncio.Semaphore(limit)
        self.in_use = 0
        self.peak = 0
        self.granted = 0

    async def acquire(self) -> bool:
        await self.sem.acquire()
        self.in_use += 1
        self.granted += 1
        self.peak = max(self.peak, self.in_use)
        return True

    async def release(self) -> None:
        self.in_use -= 1
        self.sem.release()

    async def stats(self) -> dict:
        return {"limit": self.limit, "in_use": self.in_use, "peak": self.peak, "granted": self.granted}


def limiter_name(base_url: str | None, model: str | None) -> str:
    return "write-slots-" + stable_hash(base_url or "api.openai.com", model or "")


class ClusterLimiter:
    """``async with limiter.slot(): ...`` around each request. Needs Ray to be initialised (or joins it)."""

    def __init__(self, name: str, limit: int):
        import ray

        self.name, self.limit = name, max(1, int(limit))
        actor_cls = ray.remote(num_cpus=0, max_concurrency=100_000)(_Slots)
        # get_if_exists: the first process creates it, all the others (on any node) share it. The limit
        # is the creator's; a later process asking for another limit gets the existing one.
        self.actor = actor_cls.options(name=name, namespace=NAMESPACE, get_if_exists=True).remote(self.limit)

    @classmethod
    def for_config(cls, config) -> "ClusterLimiter":
        """The limiter of ``config``'s endpoint, at ``executor.write_cluster_concurrency`` (default
        ``write.concurrency``)."""
        limit = config.executor.write_cluster_concurrency or config.write.concurrency
        return cls(limiter_name(config.write.base_url, config.write.model), limit)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.actor.acquire.remote()
        try:
            yield
        finally:
            await self.actor.release.remote()

    def stats(self) -> dict:
        import ray

        return ray.get(self.actor.stats.remote())
