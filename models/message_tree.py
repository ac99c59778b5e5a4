"""A session's messages as a tree, and the active branch kept materialised (api.md §9).

Each message names its parent (`parent_id`, null for a first message) and knows its `depth`
(0 for a first message). The messages of the active branch — root to the active leaf — carry
`active`; every other message does not. So the reads that run on every request (a page of the
conversation, its last N messages, the memory context) are a seek in the index
(session_id, active, depth, id), the same cost on a tree of 100 branches as on a chain, and the
active leaf is the deepest active message. Only a write that moves the branch (an append under
another parent, switchBranch) walks the tree: up from the new branch to where it meets the old
one, turning the old branch's messages below that point off and the new one's on.

Every function here runs inside the caller's write transaction, after the session's row has
been written (Session._apply), which serialises the writers of one session on PostgreSQL as
SQLite's single writer does: two appends can never each move the branch from the same state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models import sql

# Statements stay within both databases' limit on bound values.
CHUNK = 1000

ACTIVE_LEAF = 'SELECT "id","depth" FROM "messages" WHERE "session_id"=? AND "active" ORDER BY "depth" DESC LIMIT 1'
_PLACE = 'SELECT "id","depth","active" FROM "messages" WHERE "id"=? AND "session_id"=?'
# From a message up to the first active one (included), or to the root: what a switch turns on.
_UP_TO_ACTIVE = (
    'WITH RECURSIVE up("id","parent_id","depth","active") AS ('
    'SELECT "id","parent_id","depth","active" FROM "messages" WHERE "id"=? '
    'UNION ALL SELECT m."id",m."parent_id",m."depth",m."active" FROM "messages" m '
    'JOIN up ON m."id"=up."parent_id" WHERE NOT up."active") '
    'SELECT "id","depth","active" FROM up'
)
# The newest leaf among a message and its descendants.
_NEWEST_LEAF_BELOW = (
    'WITH RECURSIVE below("id") AS (SELECT CAST(? AS BIGINT) '
    'UNION ALL SELECT m."id" FROM "messages" m JOIN below ON m."session_id"=? AND m."parent_id"=below."id") '
    'SELECT m."id" FROM "messages" m WHERE m."id" IN (SELECT "id" FROM below) '
    'AND NOT EXISTS (SELECT 1 FROM "messages" c WHERE c."session_id"=? AND c."parent_id"=m."id") '
    'ORDER BY m."created_at" DESC,m."id" DESC LIMIT 1'
)
# The path from the root down to a message, root first.
_PATH_TO = (
    'WITH RECURSIVE up("id","parent_id","depth") AS ('
    'SELECT "id","parent_id","depth" FROM "messages" WHERE "id"=? AND "session_id"=? '
    'UNION ALL SELECT m."id",m."parent_id",m."depth" FROM "messages" m JOIN up ON m."id"=up."parent_id") '
    'SELECT "id" FROM up ORDER BY "depth"'
)
_TURN_OFF_BELOW = 'UPDATE "messages" SET "active"=FALSE WHERE "session_id"=? AND "active" AND "depth">?'
_TURN_ON = 'UPDATE "messages" SET "active"=TRUE WHERE "id" IN ({})'
# Every session's messages as a chain in (created_at, id) order: what a message list was before
# the tree (the migration that adds it), and what an import of Kalito's lists is.
CHAIN_EVERY_SESSION = (
    'UPDATE "messages" SET "parent_id"=chained."parent","depth"=chained."place","active"=TRUE FROM ('
    'SELECT "id",LAG("id") OVER w AS "parent",ROW_NUMBER() OVER w - 1 AS "place" FROM "messages" '
    'WINDOW w AS (PARTITION BY "session_id" ORDER BY "created_at","id")) AS chained '
    'WHERE "messages"."id"=chained."id"'
)


async def chain_every_session() -> None:
    """Place every message as a link of its session's chain, in (created_at, id) order."""
    await sql.execute(CHAIN_EVERY_SESSION, [])


@dataclass(frozen=True)
class Place:
    """Where a message is in its session's tree."""

    id: int
    depth: int
    active: bool


async def active_leaf(session_id: str) -> Place | None:
    """The leaf the conversation continues from; None for a session without messages."""
    rows = await sql.fetch(ACTIVE_LEAF, [session_id])
    return Place(int(rows[0][0]), int(rows[0][1]), True) if rows else None


async def active_leaves(session_ids: Sequence[str]) -> list[int | None]:
    """The active leaf of each session (None: no messages), in one statement."""
    distinct = list(dict.fromkeys(session_ids))
    if not distinct:
        return []
    statement = (
        'SELECT "session_id","id" FROM (SELECT "session_id","id",ROW_NUMBER() OVER '
        '(PARTITION BY "session_id" ORDER BY "depth" DESC) AS "rank" FROM "messages" '
        f'WHERE "session_id" IN ({sql.placeholders(len(distinct))}) AND "active") AS leaves WHERE "rank"=1'
    )
    leaves = {row[0]: int(row[1]) for row in await sql.fetch(statement, distinct)}
    return [leaves.get(session_id) for session_id in session_ids]


async def place_of(session_id: str, message_id: int) -> Place | None:
    """The message's place, if it is a message of this session."""
    rows = await sql.fetch(_PLACE, [message_id, session_id])
    return Place(int(rows[0][0]), int(rows[0][1]), bool(rows[0][2])) if rows else None


async def newest_leaf_below(session_id: str, message_id: int) -> int:
    rows = await sql.fetch(_NEWEST_LEAF_BELOW, [message_id, session_id, session_id])
    return int(rows[0][0])


async def path_to(session_id: str, message_id: int) -> list[int]:
    """The ids of the path root..message, root first."""
    return [int(row[0]) for row in await sql.fetch(_PATH_TO, [message_id, session_id])]


async def make_active(session_id: str, message: Place | None) -> None:
    """Make the branch through `message` (None: no message, before a new first one) the active
    one, down to `message`: the active messages below the point where the two branches meet go
    off, the new branch's messages from there down come on."""
    if message is not None and message.active:
        meet_depth, turn_on = message.depth, list[int]()
    elif message is None:
        meet_depth, turn_on = -1, []
    else:
        walked = [Place(int(row[0]), int(row[1]), bool(row[2])) for row in await sql.fetch(_UP_TO_ACTIVE, [message.id])]
        meets = walked[-1] if walked[-1].active else None
        meet_depth = meets.depth if meets is not None else -1
        turn_on = [place.id for place in walked if not place.active]
    await sql.execute(_TURN_OFF_BELOW, [session_id, meet_depth])
    for start in range(0, len(turn_on), CHUNK):
        chunk = turn_on[start : start + CHUNK]
        await sql.execute(_TURN_ON.format(sql.placeholders(len(chunk))), chunk)


async def chain_after_active_leaf(new_messages: dict[str, list[int]]) -> None:
    """Place each session's new messages (inserted inactive, ids in (created_at, id) order) as a
    chain below its active leaf, which they extend: an import of Kalito's lists into sessions
    that may already hold messages."""
    updates: list[list[object]] = []
    for session_id, message_ids in new_messages.items():
        leaf = await active_leaf(session_id)
        parent, depth = (leaf.id, leaf.depth + 1) if leaf is not None else (None, 0)
        for message_id in message_ids:
            updates.append([parent, depth, message_id])
            parent, depth = message_id, depth + 1
    await sql.execute_many('UPDATE "messages" SET "parent_id"=?,"depth"=?,"active"=TRUE WHERE "id"=?', updates)
