"""Bearer-token authentication for HTTP, installed when KALITO_API_TOKEN is set.

`/healthz` stays open for load balancers, and CORS preflights (which browsers send without
credentials) are answered by the CORS middleware before they get here.
"""

from __future__ import annotations

import hmac
import json

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from web.asgi import header

OPEN_PATHS = frozenset({"/healthz"})


def bearer_token_matches(authorization: str, token: str) -> bool:
    """Whether an `Authorization` value is `Bearer <token>`, compared in constant time (the
    time taken does not tell how much of a guess was right)."""
    scheme, _, supplied = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), token.encode())


class BearerTokenAuth:
    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    def allows(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return True
        return bearer_token_matches((header(scope, b"authorization") or b"").decode("latin-1"), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allows(scope):
            await self.app(scope, receive, send)
            return
        body = {"errors": [{"message": "A valid bearer token is required", "extensions": {"code": "UNAUTHENTICATED"}}]}
        response = Response(
            json.dumps(body),
            status_code=401,
            media_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="kalito"'},
        )
        await response(scope, receive, send)
