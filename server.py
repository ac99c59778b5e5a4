"""The Starlette application: routes, middleware and a lifespan that owns the database.

`uvicorn server:app` serves it; `create_app(settings)` builds one for any configuration and
does no I/O until the lifespan starts.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

import models
from broadcast import Broker, relaying
from schema import OperationRecord, build_schema
from schema.limits import Limits
from settings import Settings
from web.accounts import JwtAuth, TokenVerifier
from web.auth import BearerTokenAuth
from web.body_limit import BodyLimit
from web.graphiql import graphiql_assets
from web.graphql_view import GraphQLView
from web.health import healthz
from web.logs import configure_logging
from web.metrics import Metrics
from web.operation_log import OperationLog, log_operation
from web.request_id import RequestId
from web.sweeper import sweeping

CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "X-Request-ID",
]


def cors(origins: tuple[str, ...]) -> list[Middleware]:
    """Starlette's CORS middleware, when KALITO_CORS_ORIGINS names an origin. With none, a
    browser reads no answer across origins anyway (none carries Access-Control-Allow-Origin),
    preflights included (the view answers them 405); the middleware would only add a
    `Vary: Origin` that nothing varies on, for about 5 µs a request, a tenth of a `session(id)`."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=CORS_HEADERS,
            expose_headers=["X-Request-ID"],
            max_age=600,
        )
    ]


def create_app(settings: Settings) -> Starlette:
    broker = Broker()
    metrics = Metrics()
    metrics.set_active_subscriptions_source(lambda: broker.active_subscriptions)

    def report(record: OperationRecord) -> None:
        metrics.observe(record)
        log_operation(record)

    schema = build_schema(
        production=settings.production,
        report=report,
        limits=Limits.from_settings(settings),
        compiled_operations=settings.compiled_operations,
    )
    verifier = TokenVerifier(settings) if settings.accounts else None
    graphql = GraphQLView(schema, settings, broker, verifier)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        configure_logging(settings.log_format, settings.log_level)
        async with RegisterTortoise(app, config=models.tortoise_config(settings.database_url)):
            await models.prepare_database(accounts=settings.accounts, default_owner=settings.default_owner)
            async with relaying(settings.database_url, broker), sweeping(settings):
                # What start-up made (the schema, the ORM, the modules) lives as long as the
                # process: moved out of the collector's reach, a full collection no longer walks
                # it again every few thousand requests (gc.freeze, as CPython's docs advise).
                gc.collect()
                gc.freeze()
                yield

    app = Starlette(
        routes=[
            Route("/graphql", graphql),  # every method: the view answers those it refuses in JSON (405)
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            # Behind KALITO_API_TOKEN like every path but /healthz: give the scraper the token.
            Route("/metrics", metrics.endpoint, methods=["GET"]),
            # GraphiQL's own files, for the page GET /graphql shows a browser in development.
            *([] if settings.production else [graphiql_assets()]),
        ],
        middleware=[
            # Outermost: every answer carries the request id, refusals by the layers below too.
            Middleware(RequestId),
            Middleware(OperationLog),
            *cors(settings.cors_origins),
            # Only with a token: without one it would pass everything, for about 1 µs a request.
            *([Middleware(BearerTokenAuth, token=settings.api_token)] if settings.api_token else []),
            *([Middleware(JwtAuth, verifier=verifier, production=settings.production)] if verifier else []),
            Middleware(BodyLimit, max_body_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.broker = broker
    app.state.metrics = metrics
    return app


app = create_app(Settings.from_env())
