"""Import speed of `import-kalito`: rows per second for a Kalito database of 100,000 messages,
with a pin and a summary every 10 messages.

    python -m bench.import_speed [--messages N] [--memory-every N] [--database-url URL]

Writes the Kalito file with Kalito's own schema (support/kalito: 100 sessions, the messages spread
over them in order, pins and summaries referring to them), imports it into a fresh database (a
temporary SQLite file by default), and prints the rate; only the import is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tortoise import Tortoise

import models
from importers.kalito import import_kalito
from support.kalito import write_many_messages


async def measure(source: Path, database_url: str) -> tuple[int, float]:
    await Tortoise.init(config=models.tortoise_config(database_url))
    try:
        await models.migrate()  # as a deployment does before it starts the server
        await models.prepare_database()
        started = time.perf_counter()
        report = await import_kalito(source)
        elapsed = time.perf_counter() - started
    finally:
        await Tortoise.close_connections()
    if not report.complete or report.present:
        raise SystemExit("the import was not complete: " + "; ".join(report.lines()))
    return sum(report.imported.values()), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--memory-every", type=int, default=10, help="a pin and a summary every N messages")
    parser.add_argument("--database-url", default=None, help="an EMPTY target database (default: a temp SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = write_many_messages(
            Path(scratch) / "kalito-source.db", messages=args.messages, sessions=100, memory_every=args.memory_every
        )
        url = args.database_url or f"sqlite://{Path(scratch) / 'target.db'}"
        rows, elapsed = asyncio.run(measure(source, url))
    print(f"{url.split('://')[0]}: imported {rows} rows in {elapsed:.2f}s = {rows / elapsed:,.0f} rows/s")


if __name__ == "__main__":
    main()
