"""Prometheus metrics: operations by name and outcome, their latency, live subscriptions, the
database pool and the process, served as text at `GET /metrics`.

Each app has its own registries (create_app runs many times in one test process; the global
registry would refuse the second registration).

Several worker processes: without PROMETHEUS_MULTIPROC_DIR each worker counts for itself and a
scrape sees only the worker that answered it. With it (set before the server starts, pointing at
an empty directory) the operation counters and histograms are summed over every worker, live or
gone; the gauges read at scrape time (subscriptions, pool, process) stay the answering worker's.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections
from tortoise.exceptions import ConfigurationError

from models.tortoise_adapter import pool_usage
from schema.observability import OperationRecord

# Operation names are chosen by clients: past this many distinct ones, new names count as "other",
# so a client inventing names cannot grow the server's memory (or Prometheus's) without bound.
MAX_OPERATION_NAMES = 100
MAX_OPERATION_NAME_LENGTH = 100
ANONYMOUS = "anonymous"
OTHER = "other"

MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

# A `_created` twin of every counter and histogram series: twice the series, for a timestamp that
# only OpenMetrics scrapers read. (A process-wide switch, as prometheus_client offers it.)
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated


class OperationNames:
    """The bounded set of operation names used as label values, first come first kept."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.kept: set[str] = set()

    def label(self, record: OperationRecord) -> str:
        # A document that did not parse or validate may name any operation it likes, even one it lacks.
        if not record.validated:
            return OTHER
        if record.name is None:
            return ANONYMOUS
        if len(record.name) > MAX_OPERATION_NAME_LENGTH:
            return OTHER
        if record.name in self.kept:
            return record.name
        if len(self.kept) < self.limit:
            self.kept.add(record.name)
            return record.name
        return OTHER


class LiveCollector(Collector):
    """Gauges read when scraped: active subscriptions and the database pool."""

    def __init__(self, active_subscriptions: Callable[[], int]) -> None:
        self.active_subscriptions = active_subscriptions

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "kalito_active_subscriptions", "GraphQL subscriptions open now", value=self.active_subscriptions()
        )
        pool = database_pool()
        if pool is None:  # no database configured (yet): nothing true to say
            return
        backend, open_, idle, maximum = pool
        for name, documentation, value in (
            ("kalito_db_pool_open_connections", "Database connections open now", open_),
            ("kalito_db_pool_idle_connections", "Open database connections not in use", idle),
            ("kalito_db_pool_max_connections", "The most connections the pool will open", maximum),
        ):
            family = GaugeMetricFamily(name, documentation, labels=["backend"])
            family.add_metric([backend], value)
            yield family


def database_pool() -> tuple[str, int, int, int] | None:
    """(backend, open, idle, max) of the default connection; None without one."""
    try:
        client = connections.get("default")
    except ConfigurationError:
        return None
    usage = pool_usage(client)
    if usage is None:
        return None
    return ("sqlite" if client.capabilities.dialect == "sqlite" else "postgresql", *usage)


def multiprocess_directory() -> str | None:
    return os.environ.get(MULTIPROCESS_DIRECTORY) or None


def reset_multiprocess_directory() -> None:
    """Empty PROMETHEUS_MULTIPROC_DIR, as prometheus_client asks before the workers start:
    files left by an earlier run would be added to this run's counters."""
    directory = multiprocess_directory()
    if directory is None:
        return
    path = Path(directory)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


class Metrics:
    def __init__(self, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        self.names = OperationNames(max_operation_names)
        # Counted as operations end; in multiprocess mode also written to the shared directory.
        self.events = CollectorRegistry()
        self.operations = Counter(
            "kalito_operations",
            "GraphQL operations that ran, by operation name, type and outcome (ok or an error code)",
            ["operation", "type", "outcome"],
            registry=self.events,
        )
        self.durations = Histogram(
            "kalito_operation_duration_seconds",
            "Time from receiving a GraphQL operation to its result (subscriptions not included)",
            ["operation", "type"],
            registry=self.events,
        )
        self._counts: dict[tuple[str, ...], Counter] = {}
        self._durations: dict[tuple[str, ...], Histogram] = {}
        # Read at scrape time, from this process only.
        self.live = CollectorRegistry()
        self._active_subscriptions: Callable[[], int] = lambda: 0
        self.live.register(LiveCollector(lambda: self._active_subscriptions()))
        ProcessCollector(registry=self.live)

    def set_active_subscriptions_source(self, source: Callable[[], int]) -> None:
        """`source()` is called at each scrape for the number of subscriptions open now."""
        self._active_subscriptions = source

    def observe(self, record: OperationRecord) -> None:
        operation = self.names.label(record)
        # The labelled children, looked up once per label set (bounded: names are, and so are
        # types and outcomes) rather than by prometheus_client's locked lookup every time.
        key = (operation, record.type, record.outcome)
        if (count := self._counts.get(key)) is None:
            count = self._counts[key] = self.operations.labels(*key)
        count.inc()
        # A subscription's duration is how long the client listened: it says nothing of latency.
        if record.type != "subscription":
            if (duration := self._durations.get(key[:2])) is None:
                duration = self._durations[key[:2]] = self.durations.labels(*key[:2])
            duration.observe(record.duration_seconds)

    def render(self) -> bytes:
        directory = multiprocess_directory()
        if directory is None:
            events = generate_latest(self.events)
        else:
            every_worker = CollectorRegistry()
            # prometheus_client leaves MultiProcessCollector's __init__ unannotated
            MultiProcessCollector(every_worker, path=directory)  # type: ignore[no-untyped-call]
            events = generate_latest(every_worker)
        return events + generate_latest(self.live)

    async def endpoint(self, request: Request) -> Response:
        # The classic text format: what generate_latest writes, and what every Prometheus reads.
        return Response(self.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
