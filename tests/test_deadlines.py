"""The operation time limit's one timer (schema/deadlines.py): the standard asyncio.Timeout's
behaviour, with every operation's deadline kept in one table."""

from __future__ import annotations

import asyncio

import pytest

from schema.deadlines import Deadlines


async def sleep_under(deadlines: Deadlines, seconds: float) -> str:
    async with deadlines.limit():
        await asyncio.sleep(seconds)
    return "done"


async def test_only_the_operations_past_the_limit_end_with_timeout_error() -> None:
    deadlines = Deadlines(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcomes = await asyncio.gather(
        sleep_under(deadlines, 5), sleep_under(deadlines, 0.01), sleep_under(deadlines, 5), return_exceptions=True
    )
    elapsed = loop.time() - started
    assert [type(outcome) for outcome in outcomes] == [TimeoutError, str, TimeoutError]
    # never before the limit, and at most one resolution after it (plus the loop's own slack)
    assert 0.2 <= elapsed < 0.2 + deadlines.resolution + 0.1


async def test_a_limit_started_later_counts_from_its_own_start() -> None:
    deadlines = Deadlines(0.2)
    first = asyncio.create_task(sleep_under(deadlines, 5))
    await asyncio.sleep(0.15)
    second = asyncio.create_task(sleep_under(deadlines, 0.15))  # ends at 0.3, within its own 0.2
    assert await second == "done"
    with pytest.raises(TimeoutError):
        await first


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    task = asyncio.create_task(sleep_under(Deadlines(5), 5))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_timer_stops_when_nothing_runs_and_starts_again_when_something_does() -> None:
    deadlines = Deadlines(0.1)
    assert await sleep_under(deadlines, 0.01) == "done"
    await asyncio.sleep(0.05)  # the timer's next look finds the table empty and stops
    assert deadlines._running == {} and not deadlines._ticking
    with pytest.raises(TimeoutError):
        await sleep_under(deadlines, 5)


def test_each_event_loop_keeps_its_own_deadlines() -> None:
    """Tests run one event loop each: a loop closed with an operation still timed must not leave
    the next loop without a timer."""
    deadlines = Deadlines(0.1)
    abandoned = asyncio.new_event_loop()
    abandoned.run_until_complete(asyncio.wait([abandoned.create_task(sleep_under(deadlines, 5))], timeout=0.01))
    abandoned.close()
    with pytest.raises(TimeoutError):
        asyncio.run(sleep_under(deadlines, 5))


def test_a_limit_is_a_positive_number_of_seconds() -> None:
    with pytest.raises(ValueError, match="positive"):
        Deadlines(0)
