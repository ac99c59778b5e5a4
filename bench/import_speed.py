"""Import speed of `import-kalito`: rows per second for a Kalito database of 100,000 messages.

    python -m bench.import_speed [--messages N] [--database-url URL]

Builds the Kalito file with Kalito's own schema (from ../shared/data), imports it into a fresh
database (a temporary SQLite file by default), and prints the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tortoise import Tortoise

import models
from kalito_import import import_kalito
from tests.kalito_fixtures import empty_kalito_database, insert
from tests.test_kalito_import import kalito_message, kalito_session


def build_source(path: Path, messages: int, sessions: int = 100) -> None:
    empty_kalito_database(path)
    ids = [f"s{number}" for number in range(sessions)]
    insert(path, "sessions", [kalito_session(session_id) for session_id in ids])
    insert(path, "messages", (kalito_message(number, ids[number % sessions]) for number in range(1, messages + 1)))


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
    return sum(report.imported.values()), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="an EMPTY target database (default: a temp SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "kalito-source.db"
        build_source(source, args.messages)
        url = args.database_url or f"sqlite://{Path(scratch) / 'target.db'}"
        rows, elapsed = asyncio.run(measure(source, url))
    print(f"{url.split('://')[0]}: imported {rows} rows in {elapsed:.2f}s = {rows / elapsed:,.0f} rows/s")


if __name__ == "__main__":
    main()
