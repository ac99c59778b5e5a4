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
