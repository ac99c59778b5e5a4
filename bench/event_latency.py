"""Session events: latency from an acknowledged mutation to the event, and the memory idle
subscriptions cost.

    python -m bench.event_latency [--mutations 500] [--idle 1000]

- In one process (SQLite): a subscriber and a writer on the same server.
- Across processes (PostgreSQL): the subscriber on server A, the writer on server B.
- Memory: the server's resident memory before and after `--idle` WebSocket clients each open
  one subscription and wait.

Latency is measured from the moment the writer has read the mutation's answer to the moment the
subscriber has read the event (negative when the event arrived first), and from the moment the
writer sent the mutation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from websockets.typing import Subprotocol

from support.databases import POSTGRES_AVAILABLE, migrated_postgres_database
from support.live_server import live_server, live_server_process

SUBSCRIBE = "subscription { sessionEvents { kind sessionId session { updatedAt } } }"
RENAME = "mutation Rename($id: ID!, $name: String!) { saveSession(id: $id, name: $name) { updatedAt } }"


async def open_subscription(ws_url: str) -> websockets.ClientConnection:
    connection = await websockets.connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None)
    await connection.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    await connection.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIBE}}))
    return connection


async def latencies(subscribe_url: str, write_url: str, mutations: int) -> tuple[list[float], list[float]]:
    """Per mutation: from its acknowledgement to its event, and from sending it to its event."""
    subscriber = await open_subscription(subscribe_url.replace("http", "ws", 1) + "/graphql")
    arrivals: dict[str, float] = {}

    async def receive() -> None:
        async for raw in subscriber:
            message = json.loads(raw)
            if message["type"] == "next":
                event = message["payload"]["data"]["sessionEvents"]
                arrivals[event["session"]["updatedAt"]] = time.perf_counter()

    receiver = asyncio.create_task(receive())
    acknowledged: dict[str, float] = {}
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=write_url) as writer:
        await asyncio.sleep(0.5)  # the subscription is registered
        for number in range(mutations):
            variables = {"id": f"bench-{number % 20}", "name": f"rename {number}"}
            sending = time.perf_counter()
            response = await writer.post("/graphql", json={"query": RENAME, "variables": variables})
            updated_at = response.json()["data"]["saveSession"]["updatedAt"]
            acknowledged[updated_at], sent[updated_at] = time.perf_counter(), sending
            await asyncio.sleep(0.002)
    deadline = time.monotonic() + 10
    while len(arrivals) < len(acknowledged) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    receiver.cancel()
    await subscriber.close()
    missing = set(acknowledged) - set(arrivals)
    if missing:
        raise RuntimeError(f"{len(missing)} events never arrived")
    return (
        [(arrivals[key] - acknowledged[key]) * 1000 for key in acknowledged],
        [(arrivals[key] - sent[key]) * 1000 for key in sent],
    )


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def idle_memory(url: str, pid: int, subscribers: int) -> tuple[int, int]:
    before = resident_kib(pid)
    ws_url = url.replace("http", "ws", 1) + "/graphql"
    connections = []
    for start in range(0, subscribers, 100):
        batch = min(100, subscribers - start)
        connections += await asyncio.gather(*(open_subscription(ws_url) for _ in range(batch)))
    await asyncio.sleep(2)
    after = resident_kib(pid)
    await asyncio.gather(*(connection.close() for connection in connections))
    return before, after


def describe(name: str, samples: tuple[list[float], list[float]]) -> str:
    def percentiles(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return f"p50 {statistics.median(ordered):6.2f} ms  p99 {p99:6.2f} ms"

    after_ack, after_send = samples
    return f"{name:<30} ack->event {percentiles(after_ack)} | sent->event {percentiles(after_send)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=500)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    quiet = {"KALITO_LOG_LEVEL": "warning"}
    with tempfile.TemporaryDirectory() as folder:
        log_dir = Path(folder)
        sqlite = {**quiet, "KALITO_DATABASE_URL": f"sqlite://{log_dir / 'bench.db'}"}
        with live_server_process(sqlite, log_dir) as server:
            url = server.url
            print(describe("in one process (SQLite)", asyncio.run(latencies(url, url, args.mutations))))
            before, after = asyncio.run(idle_memory(url, server.process.pid, args.idle))
            print(
                f"{args.idle} idle subscriptions (SQLite server): RSS {before / 1024:.1f} MiB -> "
                f"{after / 1024:.1f} MiB, {(after - before) / args.idle:.1f} KiB each"
            )
        if not POSTGRES_AVAILABLE:
            print("PostgreSQL does not answer: cross-process latency not measured")
            return
        with migrated_postgres_database() as database_url:
            postgres = {**quiet, "KALITO_DATABASE_URL": database_url}
            with live_server(postgres, log_dir) as first, live_server(postgres, log_dir) as second:
                print(describe("in one process (PostgreSQL)", asyncio.run(latencies(first, first, args.mutations))))
                print(describe("across processes (PostgreSQL)", asyncio.run(latencies(first, second, args.mutations))))


if __name__ == "__main__":
    main()
