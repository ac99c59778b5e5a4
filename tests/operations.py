"""GraphQL documents that several test modules send."""

SESSIONS = """
query Sessions(
  $filter: SessionFilter, $orderBy: SessionOrder, $first: Int, $after: String, $last: Int, $before: String
) {
  sessions(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def session_writes(fields: str) -> tuple[str, str, str, str]:
    """The createSession, updateSession, saveSession and touchSession documents, each answering
    `fields` of the session."""
    return (
        f"mutation Create($input: CreateSessionInput!) {{ createSession(input: $input) {{ {fields} }} }}",
        f"mutation Update($input: UpdateSessionInput!) {{ updateSession(input: $input) {{ {fields} }} }}",
        f"""mutation Save($id: ID!, $name: String, $recap: String) {{
  saveSession(id: $id, name: $name, recap: $recap) {{ {fields} }}
}}""",
        f"""mutation Touch($id: ID, $model: String, $personaId: ID) {{
  touchSession(id: $id, model: $model, personaId: $personaId) {{ {fields} }}
}}""",
    )


# The session writes, each answering the session's fields as a SessionEvent carries them.
SESSION_FIELDS = "id name model recap saved personaId createdAt updatedAt messageCount persona { id name }"
CREATE_SESSION, UPDATE_SESSION, SAVE_SESSION, TOUCH_SESSION = session_writes(SESSION_FIELDS)
APPEND_MESSAGE = "mutation Say($input: AppendMessageInput!) { appendMessage(input: $input) { id sessionId createdAt } }"
DELETE_SESSION = "mutation Delete($id: ID!) { deleteSession(id: $id) }"
DELETE_SESSIONS = "mutation DeleteMany($ids: [ID!]!) { deleteSessions(ids: $ids) }"
PURGE_EPHEMERAL = "mutation Purge($idleSeconds: Int) { purgeEphemeralSessions(idleSeconds: $idleSeconds) }"
SESSION = f"query One($id: ID!) {{ session(id: $id) {{ {SESSION_FIELDS} }} }}"
CREATE_PIN = "mutation Pin($input: CreatePinInput!) { createPin(input: $input) { id sessionId } }"
DELETE_PIN = "mutation Unpin($id: ID!) { deletePin(id: $id) }"
CREATE_SUMMARY = "mutation Sum($input: CreateSummaryInput!) { createSummary(input: $input) { id sessionId } }"
DELETE_SUMMARY = "mutation Unsum($id: ID!) { deleteSummary(id: $id) }"
