"""The Starlette application: routes, middleware and a lifespan that owns the database.

`uvicorn server:app` serves it; `create_app(settings)` builds one for any configuration and
does no I/O until the lifespan starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

import models
from broadcast import Broker, relaying
from schema import build_schema
from settings import Settings
from web.auth import BearerTokenAuth
from web.graphql_view import GraphQLView
from web.health import healthz
from web.sweeper import sweeping

CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "X-Request-ID",
]


def create_app(settings: Settings) -> Starlette:
    broker = Broker()
    graphql = GraphQLView(build_schema(production=settings.production), settings, broker)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=models.tortoise_config(settings.database_url)):
            await models.prepare_database()
            async with relaying(settings.database_url, broker), sweeping(settings):
                yield

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=CORS_HEADERS,
                max_age=600,
            ),
            Middleware(BearerTokenAuth, token=settings.api_token),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.broker = broker
    return app


app = create_app(Settings.from_env())
