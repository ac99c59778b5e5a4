"""Session events on their way to subscribers: this process's fan-out, and the PostgreSQL relay
that brings every process's committed events to it."""

from broadcast.broker import Broker, Subscription
from broadcast.relay import relaying

__all__ = ["Broker", "Subscription", "relaying"]
