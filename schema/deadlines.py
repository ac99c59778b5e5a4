"""The operation time limit, kept for every operation at once by one timer.

`asyncio.timeout` schedules an event-loop timer for each operation and cancels it when the
operation ends: about 7 µs of an 80 µs `session(id)` (in process, under load), for a limit that
almost never fires. Here an operation enters a standard `asyncio.Timeout` without a deadline,
which schedules nothing, and is noted in a table. While operations run, one timer per event
loop looks over the table every `resolution` seconds and gives each overdue operation the
deadline "now" (`Timeout.reschedule`). From there the standard library does what
`asyncio.timeout` does: it cancels the task, and turns its CancelledError into TimeoutError
where the `async with` ends. A limit fires up to one resolution late: a twentieth of the
limit, half a second at most.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

MAX_RESOLUTION_SECONDS = 0.5


class Deadlines:
    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("a time limit is a positive number of seconds")
        self.seconds = seconds
        self.resolution = min(seconds / 20, MAX_RESOLUTION_SECONDS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: dict[asyncio.Timeout, float] = {}  # each running operation's deadline
        self._ticking = False

    def limit(self) -> Limit:
        """`async with deadlines.limit():` raises TimeoutError when its body runs past the limit."""
        return Limit(self)

    def _watch(self, timeout: asyncio.Timeout) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Another event loop (each test has its own): the last one's operations are not ours.
            self._loop, self._running, self._ticking = loop, {}, False
        self._running[timeout] = loop.time() + self.seconds
        if not self._ticking:
            self._ticking = True
            loop.call_later(self.resolution, self._tick)

    def _forget(self, timeout: asyncio.Timeout) -> None:
        self._running.pop(timeout, None)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            return  # a timer left behind on a loop no longer in use
        now = loop.time()
        for timeout in [timeout for timeout, deadline in self._running.items() if deadline <= now]:
            del self._running[timeout]
            timeout.reschedule(now)  # still entered: an operation leaves the table as it ends
        if self._running:
            loop.call_later(self.resolution, self._tick)
        else:
            self._ticking = False


class Limit:
    """One operation's time limit: a standard Timeout that the Deadlines' timer expires."""

    __slots__ = ("deadlines", "timeout")

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self.timeout = asyncio.Timeout(None)

    async def __aenter__(self) -> None:
        await self.timeout.__aenter__()
        self.deadlines._watch(self.timeout)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.deadlines._forget(self.timeout)
        await self.timeout.__aexit__(exc_type, exc, traceback)  # raises TimeoutError, never swallows
