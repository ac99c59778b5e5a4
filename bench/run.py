"""The benchmark: the project's server against the floor, on SQLite and on PostgreSQL.

    python -m bench.run [--database sqlite|postgres|both] [--rounds 3] [--duration 10] [--quick] [--check]
    python -m bench.run --accounts [...]   # the project with accounts against the project without

Builds (or reuses, from the cache) the dataset of bench/dataset.py, copies it, and starts side by
side on that copy the project (`uvicorn server:app`, one worker, access log off, warnings only)
and the floor (bench/floor.py). Both are pinned to core 0, the load generator (`wrk -t1 -c32`,
from Debian: `apt-get install wrk`) to core 1. It checks first that the floor answers what the
project answers (`--check` stops there), warms both up, then in each round runs every workload
against the project and against the floor, one after the other (the order flips every round),
and prints per workload req/s, p50 and p99 of both and the ratio project/floor: the median over
the rounds of each round's ratio, since absolute numbers drift on a shared machine and ratios
measured a few seconds apart do not. Also: page 5,000 of the list against page 1, and the
project's resident memory after the warm-up and after the run.

`--accounts` measures what accounts cost instead: the same workloads against the project with
KALITO_AUTH=jwt (every request carrying an HS256 token; the dataset's sessions given to that
user as the server starts, KALITO_DEFAULT_OWNER) and against the project without, on one copy of
the dataset, the second standing where the floor stands (target: 0.90 each).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg
import jwt

from bench import dataset
from bench.check import check_equivalence, statement_differences
from bench.workloads import PAGE_NUMBER, PAGE_SIZE, Workload, workloads
from models.pagination import encode_cursor
from support import REPOSITORY_ROOT
from support.live_server import LiveServer, live_server_process

LUA_SCRIPT = Path(__file__).resolve().parent / "wrk" / "post.lua"
SERVER_CORE, LOAD_CORE = "0", "1"
CONNECTIONS = 32
ORDER_NAME = "UPDATED_AT_DESC"
# The targets beyond the per-workload ratios (bench/workloads.py has those).
PAGE_TARGET = 0.8  # page 5,000 costs at least 0.8 of what page 1 costs
ACCOUNTS_TARGET = 0.9  # with accounts, each workload within 10% of it without (issue 17)
BENCH_USER = "bench-user"
MEMORY_GROWTH_LIMIT = 0.20  # RSS after the run within 20% of RSS after the warm-up


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int  # non-200 answers, GraphQL errors, socket errors and timeouts


@dataclass
class Results:
    project: dict[int, list[Measurement]] = field(default_factory=dict)  # workload index -> per round
    floor: dict[int, list[Measurement]] = field(default_factory=dict)

    def add(self, side: str, index: int, measurement: Measurement) -> None:
        getattr(self, side).setdefault(index, []).append(measurement)


# --- servers ---------------------------------------------------------------------------------


def pinned(core: str | None, argv: Sequence[str]) -> list[str]:
    # taskset execs the command: the process's pid is the server's, for /proc/PID/status.
    return ["taskset", "-c", core, *argv] if core is not None else list(argv)


def uvicorn(target: str, *extra: str, core: str | None) -> list[str]:
    return pinned(
        core,
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            *extra,
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
    )


def project_env(database_url: str) -> dict[str, str]:
    return {
        "KALITO_DATABASE_URL": database_url,
        "KALITO_LOG_LEVEL": "warning",
        # Not the purge sweep: the dataset's ephemeral sessions are months old.
        "KALITO_EPHEMERAL_TTL_SECONDS": "0",
    }


@contextlib.contextmanager
def servers(
    database_url: str, log_dir: Path, *, core: str | None = SERVER_CORE
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """The project and the floor on one database, both on `core` (None: not pinned)."""
    floor_env = {"BENCH_FLOOR_DATABASE_URL": database_url}
    with (
        live_server_process(project_env(database_url), log_dir, uvicorn("server:app", core=core)) as project,
        live_server_process(floor_env, log_dir, uvicorn("bench.floor:app_from_env", "--factory", core=core)) as floor,
    ):
        yield project, floor


@dataclass(frozen=True)
class Sides:
    """What one run compares: the project, and where its ratio's denominator comes from (the
    floor; or, in the accounts run, the project without accounts)."""

    project: LiveServer
    baseline: LiveServer
    names: tuple[str, str]  # as the report calls them
    token: str | None = None  # the project's requests carry it (the accounts run)

    def url(self, side: str, workload: Workload) -> str:
        if side == "project" or self.token is not None:
            return f"{(self.project if side == 'project' else self.baseline).url}/graphql"
        return f"{self.baseline.url}/floor/{workload.key}"

    def token_of(self, side: str) -> str | None:
        return self.token if side == "project" else None


@contextlib.contextmanager
def floor_sides(database_url: str, log_dir: Path) -> Iterator[Sides]:
    with servers(database_url, log_dir) as (project, floor):
        yield Sides(project, floor, ("project", "floor"))


@contextlib.contextmanager
def accounts_servers(database_url: str, log_dir: Path, *, core: str | None = SERVER_CORE) -> Iterator[Sides]:
    """The project with accounts (its dataset's sessions given to BENCH_USER as it starts) and
    without, on one database."""
    secret = secrets.token_urlsafe(48)
    accounts_env = {
        **project_env(database_url),
        "KALITO_AUTH": "jwt",
        "KALITO_JWT_SECRET": secret,
        "KALITO_DEFAULT_OWNER": BENCH_USER,
    }
    token = jwt.encode({"sub": BENCH_USER, "exp": int(time.time()) + 86_400}, secret, algorithm="HS256")
    with (
        # first: it gives the sessions to BENCH_USER before the other starts
        live_server_process(accounts_env, log_dir, uvicorn("server:app", core=core)) as accounts,
        live_server_process(project_env(database_url), log_dir, uvicorn("server:app", core=core)) as one_user,
    ):
        yield Sides(accounts, one_user, ("accounts", "no accounts"), token)


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


# --- the load --------------------------------------------------------------------------------


def run_wrk(
    url: str, body_file: Path, workload: Workload, sessions: int, seconds: float, token: str | None = None
) -> Measurement:
    argv = pinned(
        LOAD_CORE,
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA_SCRIPT),
            url,
            "--",
            str(body_file),
            workload.ids,
            str(sessions),
            f"bench-{secrets.token_hex(4)}",
            *([token] if token else []),
        ],
    )
    output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    line = next((line for line in output.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    failures = result["bad_status"] + result["graphql_errors"] + result["socket_errors"]
    return Measurement(
        requests_per_second=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        failures=failures,
    )


# --- the page cursor -------------------------------------------------------------------------


def page_position(database_url: str, sessions: int) -> tuple[int, str]:
    """The page to compare with page 1 (5,000, or the last one of a smaller dataset) and the
    cursor that ends the page before it, as the project would have issued it."""
    page = max(2, min(PAGE_NUMBER, math.ceil(sessions / PAGE_SIZE)))
    offset = (page - 1) * PAGE_SIZE - 1
    order = 'ORDER BY "updated_at" DESC, "id" DESC'
    if database_url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as connection:
            row = connection.execute(f'SELECT "updated_at", "id" FROM "sessions" {order} LIMIT 1 OFFSET ?', [offset])
            text, row_id = row.fetchone()
        moment = datetime.fromisoformat(text)
    else:

        async def fetch() -> tuple[datetime, str]:
            connection = await asyncpg.connect(database_url)
            try:
                row = await connection.fetchrow(
                    f'SELECT "updated_at", "id" FROM "sessions" {order} OFFSET $1 LIMIT 1', offset
                )
                return row["updated_at"], row["id"]
            finally:
                await connection.close()

        moment, row_id = asyncio.run(fetch())
    return page, encode_cursor(ORDER_NAME, moment, row_id)


# --- one database ----------------------------------------------------------------------------


@contextlib.contextmanager
def working_copy(kind: str, spec: dataset.DatasetSpec, args: argparse.Namespace, scratch: Path) -> Iterator[str]:
    """A fresh copy of the cached dataset, as a database URL; the run's writes go there."""
    if kind == "sqlite":
        source = dataset.ensure_sqlite(spec, args.cache_dir)
        target = scratch / "bench.db"
        dataset.copy_sqlite(source, target)
        yield f"sqlite://{target}"
        return
    template = dataset.ensure_postgres(spec, args.postgres_url)
    name = f"kalito_bench_run_{uuid.uuid4().hex[:12]}"
    asyncio.run(dataset.copy_postgres(args.postgres_url, template, name))
    try:
        yield dataset.postgres_url_for(args.postgres_url, name)
    finally:
        asyncio.run(dataset.drop_postgres(args.postgres_url, name))


def bench_database(kind: str, spec: dataset.DatasetSpec, args: argparse.Namespace) -> tuple[str, bool]:
    """Run everything on one database; answer the printed report and whether the floor was honest."""
    with tempfile.TemporaryDirectory(prefix="kalito-bench-") as folder:
        scratch = Path(folder)
        with working_copy(kind, spec, args, scratch) as database_url:
            page, cursor = page_position(database_url, spec.sessions)
            chosen = [workload for workload in workloads(page, cursor) if not args.only or workload.key in args.only]
            bodies = []
            for index, workload in enumerate(chosen):
                bodies.append(scratch / f"body-{index}-{workload.key}.json")
                bodies[-1].write_text(workload.body())
            if args.accounts:
                run = accounts_servers(database_url, scratch)
                differences: list[object] = []
            else:
                run = floor_sides(database_url, scratch)
                differences = list(asyncio.run(statement_differences(database_url, chosen, spec.sessions)))
            with run as sides:
                if not args.accounts:
                    differences += check_equivalence(sides.project.url, sides.baseline.url, chosen, spec.sessions)
                if differences:
                    report = "\n".join(str(difference) for difference in differences)
                    return f"{kind}: THE FLOOR IS NOT EQUIVALENT, nothing measured:\n{report}\n", False
                if args.check:
                    return (
                        f"{kind}: the floor sends the statements the project sends and answers the bytes it "
                        f"answers ({len(chosen)} workloads)\n",
                        True,
                    )
                print(f"{kind}: {sides.names[1]} and {sides.names[0]} running; warming up ...", flush=True)
                for side in ("project", "floor"):
                    for workload, body in zip(chosen, bodies, strict=True):
                        run_wrk(
                            sides.url(side, workload), body, workload, spec.sessions, args.warmup, sides.token_of(side)
                        )
                memory_warm = resident_mib(sides.project.process.pid)
                results = Results()
                for round_number in range(args.rounds):
                    order = ("project", "floor") if round_number % 2 == 0 else ("floor", "project")
                    for index, (workload, body) in enumerate(zip(chosen, bodies, strict=True)):
                        for side in order:
                            measured = run_wrk(
                                sides.url(side, workload),
                                body,
                                workload,
                                spec.sessions,
                                args.duration,
                                sides.token_of(side),
                            )
                            results.add(side, index, measured)
                    print(f"{kind}: round {round_number + 1}/{args.rounds} done", flush=True)
                memory_end = resident_mib(sides.project.process.pid)
                names = sides.names
        report = format_report(kind, spec, args, chosen, results, page, (memory_warm, memory_end), names)
    return report, True


# --- the report ------------------------------------------------------------------------------


def median_ratio(numerators: list[Measurement], denominators: list[Measurement]) -> tuple[float, list[float]]:
    ratios = [
        top.requests_per_second / bottom.requests_per_second
        for top, bottom in zip(numerators, denominators, strict=True)
    ]
    return statistics.median(ratios), ratios


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"{'met' if value >= target else 'BELOW'} (>= {target:.2f})"


def format_report(
    kind: str,
    spec: dataset.DatasetSpec,
    args: argparse.Namespace,
    chosen: list[Workload],
    results: Results,
    page: int,
    memory: tuple[float, float],
    names: tuple[str, str] = ("project", "floor"),
) -> str:
    mine_name, base_name = names
    lines = [
        f"== {kind}: {spec.describe()}; {args.rounds} round(s) x {args.duration:g}s per workload and side; "
        f"wrk -t1 -c{CONNECTIONS} on core {LOAD_CORE}, servers on core {SERVER_CORE}",
        f"{'workload':<36}{mine_name + ' req/s':>14}{'p50 ms':>8}{'p99 ms':>8}   {base_name + ' req/s':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}   {'ratio':>6}  {'target':<16}  per round",
    ]
    failures = []
    for index, workload in enumerate(chosen):
        mine, floor = results.project[index], results.floor[index]
        ratio, ratios = median_ratio(mine, floor)
        target = ACCOUNTS_TARGET if args.accounts else workload.target
        for side, measurements in (("project", mine), ("floor", floor)):
            if any(measurement.failures for measurement in measurements):
                total = sum(measurement.failures for measurement in measurements)
                failures.append(f"  ! {workload.title}: {total} failed request(s) on the {side}")
        lines.append(
            f"{workload.title:<36}"
            f"{statistics.median(m.requests_per_second for m in mine):>14,.0f}"
            f"{statistics.median(m.p50_ms for m in mine):>8.1f}{statistics.median(m.p99_ms for m in mine):>8.1f}   "
            f"{statistics.median(m.requests_per_second for m in floor):>12,.0f}"
            f"{statistics.median(m.p50_ms for m in floor):>8.1f}{statistics.median(m.p99_ms for m in floor):>8.1f}   "
            f"{ratio:>6.3f}  {verdict(ratio, target):<16}  {' '.join(f'{r:.3f}' for r in ratios)}"
        )
    pages = [index for index, workload in enumerate(chosen) if workload.key == "page"]
    if len(pages) == 2:
        first, later = pages
        project_ratio, project_ratios = median_ratio(results.project[later], results.project[first])
        floor_ratio, _ = median_ratio(results.floor[later], results.floor[first])
        lines.append(
            f"page {page:,} / page 1 (req/s): project {project_ratio:.3f} {verdict(project_ratio, PAGE_TARGET)}, "
            f"floor {floor_ratio:.3f}; per round {' '.join(f'{r:.3f}' for r in project_ratios)}"
        )
    warm, end = memory
    growth = (end - warm) / warm
    lines.append(
        f"project RSS: {warm:.1f} MiB after warm-up, {end:.1f} MiB after the run ({growth:+.1%}; "
        f"{'met' if growth <= MEMORY_GROWTH_LIMIT else 'BELOW'}: within {MEMORY_GROWTH_LIMIT:.0%})"
    )
    lines += failures
    return "\n".join(lines) + "\n"


def environment() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPOSITORY_ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPOSITORY_ROOT, capture_output=True, text=True
    ).stdout.strip()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    load = os.getloadavg()
    changes = " + uncommitted changes" if dirty else ""
    return (
        f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; commit {commit or '?'}{changes}; "
        f"{os.cpu_count()} x {cpu}; Python {platform.python_version()}; load average before {load[0]:.2f}\n"
    )


def require_tools() -> None:
    missing = [tool for tool in ("wrk", "taskset") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench: {' and '.join(missing)} not found: `apt-get install wrk` (taskset is in util-linux)")
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench: needs two cores (one for the servers, one for wrk)")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per workload and side (10; 3 quick)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of warm-up per workload and side")
    parser.add_argument(
        "--quick", action="store_true", help=f"a small dataset ({dataset.QUICK.describe()}), 1 round of 3s"
    )
    parser.add_argument("--check", action="store_true", help="only check that the floor answers as the project")
    parser.add_argument(
        "--accounts", action="store_true", help="the project with accounts against the project without (no floor)"
    )
    parser.add_argument(
        "--only",
        type=lambda raw: set(raw.split(",")),
        default=None,
        help="workloads to run, by key: session,sessions,sessions-rich,page,create-session,append-message",
    )
    parser.add_argument("--output", type=Path, default=None, help="also append the report to this file")
    parser.add_argument("--cache-dir", type=Path, default=dataset.DEFAULT_CACHE_DIR)
    parser.add_argument("--postgres-url", default=dataset.DEFAULT_POSTGRES_URL, help="the server's admin database")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    return args


def postgres_answers(url: str) -> bool:
    async def probe() -> None:
        connection = await asyncpg.connect(url, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.check:
        require_tools()
    spec = dataset.QUICK if args.quick else dataset.FULL
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if "postgres" in kinds and not postgres_answers(args.postgres_url):
        if args.database == "postgres":
            sys.exit(f"bench: PostgreSQL does not answer at {args.postgres_url} (--postgres-url)")
        print(f"PostgreSQL does not answer at {args.postgres_url}: SQLite only", flush=True)
        kinds.remove("postgres")
    header = environment()
    print(header, end="", flush=True)
    honest = True
    for kind in kinds:
        report, equivalent = bench_database(kind, spec, args)
        honest &= equivalent
        print(report, flush=True)
        if args.output is not None:
            with args.output.open("a") as output:
                output.write(header + report + "\n")
    return 0 if honest else 1


if __name__ == "__main__":
    sys.exit(main())
