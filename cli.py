"""`kalito-graphql`: the operator's command — serve the API and run its maintenance jobs."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from tortoise import Tortoise

import models
from settings import Settings, SettingsError

T = TypeVar("T")

DEFAULT_LIMIT_CONCURRENCY = 1000
DEFAULT_TIMEOUT_KEEP_ALIVE = 5
# import-kalito: the import ran and committed, but some rows or values could not be held.
INCOMPLETE_IMPORT = 3


async def _with_database(settings: Settings, job: Callable[[], Awaitable[T]]) -> T:
    await Tortoise.init(config=models.tortoise_config(settings.database_url))
    try:
        await models.prepare_database(accounts=settings.accounts, default_owner=settings.default_owner)
        return await job()
    finally:
        await Tortoise.close_connections()


def serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from server import create_app
    from web.metrics import reset_multiprocess_directory

    # With PROMETHEUS_MULTIPROC_DIR, files left by an earlier run would add to this run's counters.
    reset_multiprocess_directory()
    if args.workers > 1 and settings.is_sqlite:
        # Migrated once, here, rather than by workers queueing on the write lock at start.
        asyncio.run(models.migrate_database(settings.database_url))
    # One process serves `create_app(settings)`; several each import `server:app`, which reads
    # the same environment, so every worker runs with the same settings.
    app = create_app(settings) if args.workers == 1 else "server:app"
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        # Beyond uvicorn's defaults, for every worker:
        ws_max_size=1024 * 1024,  # a graphql-transport-ws message is one operation: 1 MiB is plenty
        ws_ping_interval=20.0,  # WebSocket pings find clients that vanished without closing
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=30,  # in-flight requests finish; subscriptions are closed after
        access_log=False,  # one structured line per operation is logged instead
        limit_concurrency=args.limit_concurrency,
        timeout_keep_alive=args.timeout_keep_alive,
    )
    return 0


def export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def _owner(args: argparse.Namespace) -> models.Owner:
    """Every user's rows, or only those of --owner (who also owns what the job creates)."""
    if args.owner is None:
        return models.EVERYONE
    return models.Owner(args.owner, everyone=False, manages_defaults=False)


def purge_ephemeral(settings: Settings, args: argparse.Namespace) -> int:
    idle_seconds, owner = args.idle_seconds, _owner(args)
    purged = asyncio.run(
        _with_database(
            settings,
            lambda: models.Session.purge_expired(owner, idle_seconds, default_ttl=settings.ephemeral_ttl_seconds),
        )
    )
    print(f"purged {purged} ephemeral session(s)")
    return 0


def import_kalito(settings: Settings, args: argparse.Namespace) -> int:
    from importers.kalito import import_kalito as run_import
    from importers.kalito_file import NotAKalitoDatabase

    if settings.accounts and args.owner is None:
        print(
            "kalito-graphql: accounts are on (KALITO_AUTH=jwt): name the user to import into with --owner",
            file=sys.stderr,
        )
        return 2
    owner = _owner(args).id
    try:
        report = asyncio.run(_with_database(settings, lambda: run_import(Path(args.path), owner=owner, progress=True)))
    except NotAKalitoDatabase as error:
        print(f"kalito-graphql: {error}; nothing was imported", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    if not report.complete:
        print("kalito-graphql: some of the file could not be held: see 'could not be held' above", file=sys.stderr)
        return INCOMPLETE_IMPORT
    return 0


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    report = asyncio.run(models.migrate_database(settings.database_url))
    print("\n".join(report.lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kalito-graphql",
        description="Kalito Sessions GraphQL API. Configured by KALITO_* environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve the API (GraphiQL at /graphql)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve_parser.add_argument(
        "--workers", type=_positive, default=1, help="server processes sharing the port (default: 1)"
    )
    serve_parser.add_argument(
        "--limit-concurrency",
        type=_positive,
        default=DEFAULT_LIMIT_CONCURRENCY,
        help="connections (HTTP and WebSocket) a worker holds at once; beyond it new requests get 503 "
        f"(default: {DEFAULT_LIMIT_CONCURRENCY})",
    )
    serve_parser.add_argument(
        "--timeout-keep-alive",
        type=_positive,
        default=DEFAULT_TIMEOUT_KEEP_ALIVE,
        help=f"seconds an idle keep-alive connection stays open (default: {DEFAULT_TIMEOUT_KEEP_ALIVE})",
    )
    serve_parser.set_defaults(run=serve)

    export_parser = commands.add_parser("export-schema", help="print the schema's SDL")
    export_parser.add_argument("--output", "-o", default="-", help="a file to write, or - for standard output")
    export_parser.set_defaults(run=export_schema)

    purge_parser = commands.add_parser("purge-ephemeral", help="delete idle ephemeral sessions now")
    purge_parser.add_argument(
        "--idle-seconds",
        type=int,
        default=None,
        help="idle time to purge after (default: KALITO_EPHEMERAL_TTL_SECONDS)",
    )
    purge_parser.add_argument("--owner", help="only this user's sessions (a token's sub); default: every user's")
    purge_parser.set_defaults(run=purge_ephemeral)

    import_parser = commands.add_parser("import-kalito", help="import an existing Kalito SQLite database")
    import_parser.add_argument("path", help="the Kalito database file (e.g. kalito.db from a Kalito install)")
    import_parser.add_argument(
        "--owner", help="the user (a token's sub) whose sessions and personas they become; required with accounts"
    )
    import_parser.set_defaults(run=import_kalito)

    migrate_parser = commands.add_parser(
        "migrate", help="bring the database schema up to date (on PostgreSQL, before starting the server)"
    )
    migrate_parser.set_defaults(run=migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"kalito-graphql: {error}", file=sys.stderr)
        return 2
    try:
        return int(args.run(settings, args))
    except models.DomainError as error:
        print(f"kalito-graphql: {error.message}", file=sys.stderr)
        return 2
    except models.SchemaError as error:
        print(f"kalito-graphql: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
