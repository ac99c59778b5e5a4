"""The operation time limit's one timer (schema/deadlines.py): the standard asyncio.Timeout's
behaviour, with every operation's deadline kept in one table.

Each test runs on an event loop of simulated time (tests/virtual_clock.py): the moments asserted
are the loop's own clock, which moves only from one timer to the next, never a measured duration.
"""

from __future__ import annotations

import asyncio

import pytest

from schema.deadlines import MAX_RESOLUTION_SECONDS, Deadlines
from tests.virtual_clock import VirtualClockLoop, run


async def sleep_under(deadlines: Deadlines, seconds: float) -> str:
    async with deadlines.limit():
        await asyncio.sleep(seconds)
    return "done"


async def ending_under(deadlines: Deadlines, seconds: float, *, start_at: float = 0.0) -> tuple[str, float, float]:
    """How an operation that takes `seconds`, started at `start_at` on the loop's clock, ends
    under the limit, and at which moments of that clock it started and ended."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(start_at - loop.time())
    started = loop.time()
    try:
        outcome = await sleep_under(deadlines, seconds)
    except TimeoutError:
        outcome = "timed out"
    return outcome, started, loop.time()


@pytest.mark.parametrize("limit", [0.2, 30.0])
def test_only_the_operations_past_the_limit_end_with_timeout_error(limit: float) -> None:
    deadlines = Deadlines(limit)
    # Started at several moments between two looks of the timer, which began with the first.
    starts = [0.0, 0.3 * deadlines.resolution, 0.7 * deadlines.resolution, 1.5 * deadlines.resolution]

    async def operations() -> list[tuple[str, float, float]]:
        quick = ending_under(deadlines, limit / 2, start_at=starts[1])
        slow = [ending_under(deadlines, limit * 10, start_at=start) for start in starts]
        return await asyncio.gather(quick, *slow)

    (quick, quick_started, quick_ended), *slow = run(operations())

    assert quick == "done" and quick_ended - quick_started == pytest.approx(limit / 2)
    assert [outcome for outcome, _, _ in slow] == ["timed out"] * len(starts)
    # never before the limit, and at most one resolution after it (a twentieth, half a second at most)
    assert deadlines.resolution == min(limit / 20, MAX_RESOLUTION_SECONDS)
    for _, started, ended in slow:
        assert limit <= ended - started <= limit + deadlines.resolution


def test_a_limit_started_later_counts_from_its_own_start() -> None:
    deadlines = Deadlines(0.2)

    async def one_then_another() -> tuple[tuple[str, float, float], tuple[str, float, float]]:
        first = ending_under(deadlines, 5)
        second = ending_under(deadlines, 0.15, start_at=0.15)  # ends at 0.3, within its own 0.2
        return await asyncio.gather(first, second)

    (first, _, first_ended), (second, _, second_ended) = run(one_then_another())

    assert (first, second) == ("timed out", "done")
    assert 0.2 <= first_ended <= 0.2 + deadlines.resolution
    assert second_ended == pytest.approx(0.3)  # past the first's deadline, not cut by it


def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    async def cancelled() -> None:
        task = asyncio.create_task(sleep_under(Deadlines(5), 5))
        await asyncio.sleep(0.01)
        task.cancel()
        await task

    with pytest.raises(asyncio.CancelledError):
        run(cancelled())


def test_the_timer_stops_when_nothing_runs_and_starts_again_when_something_does() -> None:
    deadlines = Deadlines(0.1)

    async def one_then_a_pause_then_another() -> None:
        assert await sleep_under(deadlines, 0.01) == "done"
        await asyncio.sleep(2 * deadlines.resolution)  # the timer's next look finds the table empty
        assert deadlines._running == {} and not deadlines._ticking
        await sleep_under(deadlines, 5)

    with pytest.raises(TimeoutError):
        run(one_then_a_pause_then_another())


def test_each_event_loop_keeps_its_own_deadlines() -> None:
    """Tests run one event loop each: a loop closed with an operation still timed must not leave
    the next loop without a timer."""
    deadlines = Deadlines(0.1)
    abandoned = VirtualClockLoop()
    abandoned.run_until_complete(asyncio.wait([abandoned.create_task(sleep_under(deadlines, 5))], timeout=0.01))
    abandoned.close()
    with pytest.raises(TimeoutError):
        run(sleep_under(deadlines, 5))


def test_a_limit_is_a_positive_number_of_seconds() -> None:
    with pytest.raises(ValueError, match="positive"):
        Deadlines(0)
