"""The periodic purge of ephemeral sessions idle longer than the TTL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import models
from settings import Settings

logger = logging.getLogger("kalito.sweeper")


async def sweep_forever(ttl_seconds: int, interval_seconds: float) -> None:
    """Purge every `interval_seconds`; a failed sweep is logged and the next one tries again."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            purged = await models.Session.purge_expired(models.EVERYONE, ttl_seconds, default_ttl=ttl_seconds)
        except Exception:
            logger.exception("purging expired ephemeral sessions failed")
        else:
            if purged:
                logger.info("purged %d expired ephemeral sessions", purged)


@contextlib.asynccontextmanager
async def sweeping(settings: Settings) -> AsyncIterator[None]:
    """Sweep in the background while the block runs, when ephemeral sessions expire at all."""
    if not settings.ephemeral_ttl_seconds:
        yield
        return
    interval = min(settings.purge_interval_seconds, settings.ephemeral_ttl_seconds)
    sweeper = asyncio.create_task(sweep_forever(settings.ephemeral_ttl_seconds, interval))
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
