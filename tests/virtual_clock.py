"""An event loop on a simulated clock, for tests of code that waits on the loop's timers.

When nothing is ready to run, the loop's clock jumps to its next timer instead of sleeping. A
test can then say at which moment of the loop's clock something happened, exactly and at once,
however busy the machine is: it asserts what the code decides, never how long anything took.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _JumpingSelector(selectors.DefaultSelector):
    """Answers what is ready now; a wait for the next timer moves the clock instead."""

    def __init__(self, clock: VirtualClockLoop) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:  # no timer at all: only I/O (another thread's wake-up) can come
            return super().select(None)
        ready = super().select(0)
        if not ready:
            self.clock.now += timeout
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """`loop.time()` starts at 0 and moves only when the loop would otherwise wait."""

    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a new loop of simulated time."""
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        return runner.run(coroutine)
