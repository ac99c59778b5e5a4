"""Plain ASGI for the path every planned request takes: a header, the body, a JSON answer.

Starlette's Request and Response do the same with more: a Headers object that copies the
header list, the body read through an async generator, headers rebuilt from a dict. Over the
few dozen µs a planned `session(id)` costs, that was about a tenth (measured in process).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send


def header(scope: Scope, name: bytes) -> bytes | None:
    """The value of a request header; `name` in lower case, as ASGI servers give every name."""
    headers: Iterable[tuple[bytes, bytes]] = scope["headers"]
    for key, value in headers:
        if key == name:
            return value
    return None


async def read_body(receive: Receive) -> bytes:
    """The whole request body (a server may hand it over in several messages)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect  # as Starlette's Request.body() raises it
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands `body`, already read, to whoever reads the request next, and then
    passes on what the server sends (a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def send_response(send: Send, body: bytes, content_type: bytes) -> None:
    """A 200 answer of `body`."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
