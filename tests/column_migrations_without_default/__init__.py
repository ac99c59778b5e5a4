"""The same history without `db_default`: what `tortoise makemigrations` writes for
`fields.BooleanField(default=False)`, a default only Python knows. Adding the column fails on a
database that holds sessions, on SQLite ("Cannot add a NOT NULL column with default value NULL")
as on PostgreSQL."""
