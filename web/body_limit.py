"""Refuse HTTP request bodies over a size with `413` and a JSON error, without buffering them.

A declared `Content-Length` over the limit is refused before the app runs. A body without one
(chunked) is counted as the app reads it, one `http.request` message at a time; the read that
passes the limit fails, and this middleware answers `413` instead of the app. Nothing here
holds more than one message: the app buffers at most the limit.

Starlette's RequestBodyLimitMiddleware counts the same way, but answers in plain text, and when
the app answers without reading the body (the token check's 401, say) it replaces that answer
with its own plain-text 413; clients of this API read `errors[].extensions.code`.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.asgi import header
from web.graphql_view import negotiate_media_type

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class BodyTooLarge(Exception):
    """Raised into the app by `receive` when the body passes the limit."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = self.declared_length(scope)
        if declared is not None:
            # The server delivers no more than a declared length: nothing left to count.
            if declared > self.max_body_bytes:
                await self.refuse(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if response_started:  # too late for a status: the server closes the connection
                raise
            await self.refuse(scope, receive, send)

    @staticmethod
    def declared_length(scope: Scope) -> int | None:
        """The Content-Length, or None for a body without one (chunked, or none at all)."""
        declared = header(scope, b"content-length")
        try:
            return int(declared) if declared is not None else None
        except ValueError:  # the server refuses a malformed Content-Length before we see it
            return None

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than {self.max_body_bytes} bytes"
        body = {"errors": [{"message": message, "extensions": {"code": PAYLOAD_TOO_LARGE}}]}
        accept = Headers(scope=scope).get("accept", "")
        # close: the rest of the body is unread, and uvicorn would otherwise read it all to discard it
        response = Response(
            json.dumps(body, separators=(",", ":")),
            status_code=413,
            media_type=negotiate_media_type(accept),
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
