"""A pause for an endpoint that stopped answering every worker.

When the server dies (or hangs) mid-stage, every queued request would otherwise fail within a few
retries and the stage would go on to fail them all. Instead, a worker whose request got no HTTP answer
waits here: one worker probes the endpoint with exponential backoff (capped), the others queue behind
it; when the endpoint answers again they all resume and resend their requests. After ``give_up_s``
without an answer the stage stops with ``FatalEndpointError``; every answer written so far stays in the
journal, so a rerun resumes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

from emotioncot.write.client import FatalEndpointError


class Outage:
    def __init__(self, probe: Callable[[], Awaitable[bool]], base_s: float, max_s: float, give_up_s: float,
                 describe: str = "the endpoint"):
        self.probe, self.base_s, self.max_s, self.give_up_s = probe, base_s, max_s, give_up_s
        self.describe = describe
        self.lock = asyncio.Lock()
        self.pauses = 0  # how many times the stage paused
        self.paused_s = 0.0
        self.probes = 0

    async def wait(self, written: Callable[[], int]) -> None:
        """Return when the endpoint answers again; raise FatalEndpointError after ``give_up_s``."""
        async with self.lock:  # one worker probes; the others find the endpoint back (or gone) after it
            started = time.monotonic()
            if await self._alive():
                return
            self.pauses += 1
            retry = 0
            try:
                while True:
                    await asyncio.sleep(min(self.max_s, self.base_s * (2 ** retry)))
                    retry += 1
                    if await self._alive():
                        return
                    if time.monotonic() - started >= self.give_up_s:
                        raise FatalEndpointError(
                            f"{self.describe} stopped answering: no answer for {time.monotonic() - started:.0f} s "
                            f"({self.probes} probes); the stage stopped, keeping the {written()} answers written so "
                            f"far in the journal; start the server again and rerun to resume")
            finally:
                self.paused_s += time.monotonic() - started

    async def _alive(self) -> bool:
        self.probes += 1
        return await self.probe()
