"""The HTTP side of the server: the GraphQL endpoint, health, and background jobs."""
