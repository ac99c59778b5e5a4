"""Strawberry's graphql-transport-ws handler, with the contract's error code on its refusals and
every malformed message closed with `4400`, as the protocol says."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, Message, SubscribeMessage

from schema import Context

OPTIONAL_STRING = (str, type(None))
OPTIONAL_OBJECT = (dict, type(None))


def is_well_formed(message: Any) -> bool:
    """Whether strawberry can read the message's fields by their types. It closes a message that
    lacks one with 4400 (a KeyError), but one of another shape raised out of the handler, ending
    the socket with no close code and a traceback: a frame that is JSON but not an object
    (`[1, 2, 3]`), an id that is an object (unhashable), a payload that is not one."""
    if not isinstance(message, dict):
        return False
    kind = message.get("type")
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return False
    if kind != "subscribe":
        return True
    payload = message.get("payload")
    return (
        isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("operationName"), OPTIONAL_STRING)
        and isinstance(payload.get("variables"), OPTIONAL_OBJECT)
        and isinstance(payload.get("extensions"), OPTIONAL_OBJECT)
    )


class SubscriptionProtocol(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_message(self, message: Message) -> None:
        if not is_well_formed(message):
            await self.handle_invalid_message("Failed to parse message")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        cap = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and cap is not None
            and message["id"] not in self.operations
            and len(self.operations) >= cap
        ):
            # Strawberry refuses these too, but with an error that carries no extensions.code.
            refusal: GraphQLFormattedError = {
                "message": f"At most {cap} subscriptions per connection; complete one first",
                "extensions": {"code": "BAD_REQUEST"},
            }
            await self.send_message(ErrorMessage(id=message["id"], type="error", payload=[refusal]))
            return
        await super().handle_subscribe(message)
