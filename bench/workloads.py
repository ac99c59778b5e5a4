"""The benchmark's workloads: each one GraphQL request, as the project and the floor receive it.

Both servers get the very same POST body (`{"query": ..., "variables": ...}`); the project at
`/graphql`, the floor at `/floor/<key>`. A body may hold the marker `__ID__`, which the load
generator (bench/wrk/post.lua) and the equivalence check replace per request: a random session
of the dataset, or a new id for a write.

Both write their JSON with orjson (non-ASCII as UTF-8, not escaped), so any field may be asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ID_MARKER = "__ID__"
PAGE_SIZE = 20  # the page workloads: sessions(first: 20), page 1 and page PAGE_NUMBER
PAGE_NUMBER = 5_000


def session_id(number: int) -> str:
    """The id of the dataset's session `number` (0-based): UUID-shaped, as Kalito's frontend
    makes them. bench/wrk/post.lua writes the same with string.format."""
    return f"{number:08x}-0000-4000-8000-{number:012x}"


# The fields each workload asks of its objects (bench/floor.py answers the same ones).
SESSION_FIELDS = "id name model recap personaId saved createdAt updatedAt"
LISTED_FIELDS = "id name updatedAt"  # a sidebar's and a page's sessions
LISTED_PERSONA_FIELDS = "id name"
CREATED_FIELDS = "id name model personaId saved createdAt updatedAt"
APPENDED_FIELDS = "id sessionId role text createdAt"


@dataclass(frozen=True)
class Workload:
    key: str  # the floor's path, /floor/<key>
    title: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    # How post.lua fills __ID__: "static" (no marker), "random" (a session of the dataset),
    # "upper" (a session of the dataset's newer half), "new" (an id no one used).
    ids: str = "static"
    write: bool = False
    target: float | None = None  # the minimum ratio to the floor

    def body(self, variables: dict[str, Any] | None = None) -> str:
        return json.dumps({"query": self.query, "variables": {**self.variables, **(variables or {})}})


SESSION = Workload(
    "session",
    "session(id)",
    f"query Session($id: ID!) {{ session(id: $id) {{ {SESSION_FIELDS} }} }}",
    {"id": ID_MARKER},
    ids="random",
    target=0.50,
)
SESSIONS = Workload(
    "sessions",
    "sessions(first: 50)",
    "query Sessions { sessions(first: 50) { edges { cursor node { "
    + SESSION_FIELDS
    + " } } pageInfo { hasNextPage endCursor } } }",
    target=0.25,
)
SESSIONS_RICH = Workload(
    "sessions-rich",
    "sessions(50) +persona +messageCount",
    f"query Sidebar {{ sessions(first: 50) {{ edges {{ cursor node {{ {LISTED_FIELDS} messageCount "
    f"persona {{ {LISTED_PERSONA_FIELDS} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
)
# Every session (saved: null), newest activity first: 100,000 sessions make 5,000 pages of 20.
PAGE_QUERY = (
    f"query Page($after: String) {{ sessions(first: {PAGE_SIZE}, after: $after, filter: {{ saved: null }}) "
    f"{{ edges {{ cursor node {{ {LISTED_FIELDS} }} }} pageInfo {{ hasNextPage hasPreviousPage endCursor }} }} }}"
)
PAGE_FIRST = Workload("page", "page 1 (first: 20)", PAGE_QUERY, {"after": None})
CREATE_SESSION = Workload(
    "create-session",
    "createSession",
    f"mutation Create($input: CreateSessionInput!) {{ createSession(input: $input) {{ {CREATED_FIELDS} }} }}",
    {"input": {"id": ID_MARKER, "name": "Benchmark chat", "model": "gpt-4.1-nano", "personaId": "default-cloud"}},
    ids="new",
    write=True,
    target=0.40,
)
APPEND_MESSAGE = Workload(
    "append-message",
    "appendMessage",
    f"mutation Append($input: AppendMessageInput!) {{ appendMessage(input: $input) {{ {APPENDED_FIELDS} }} }}",
    {"input": {"sessionId": ID_MARKER, "role": "USER", "text": "And what did Poe think of cats?"}},
    # The newer half only: the oldest sessions (the last pages) keep their place in the list.
    ids="upper",
    write=True,
)


def page_workload(number: int, cursor: str) -> Workload:
    """Page `number` of PAGE_QUERY, reached with the cursor that ends page `number - 1`."""
    return Workload("page", f"page {number:,} (first: 20)", PAGE_QUERY, {"after": cursor})


def workloads(page_number: int, page_cursor: str) -> list[Workload]:
    """In the order they run in each round: reads first, then the writes."""
    return [
        SESSION,
        SESSIONS,
        SESSIONS_RICH,
        PAGE_FIRST,
        page_workload(page_number, page_cursor),
        CREATE_SESSION,
        APPEND_MESSAGE,
    ]
