"""Strawberry's graphql-transport-ws handler, with the contract's error code on its refusals."""

from __future__ import annotations

from graphql import GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ErrorMessage, SubscribeMessage

from schema import Context


class SubscriptionProtocol(BaseGraphQLTransportWSHandler[Context, None]):
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
