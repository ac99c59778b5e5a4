"""The periodic purge of ephemeral sessions idle longer than the TTL."""

from __future__ import annotations

import asyncio
import logging

import models

logger = logging.getLogger("kalito.sweeper")


async def sweep_forever(ttl_seconds: int, interval_seconds: float) -> None:
    """Purge every `interval_seconds`; a failed sweep is logged and the next one tries again."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            purged = await models.Session.purge_expired(ttl_seconds, default_ttl=ttl_seconds)
        except Exception:
            logger.exception("purging expired ephemeral sessions failed")
        else:
            if purged:
                logger.info("purged %d expired ephemeral sessions", purged)
