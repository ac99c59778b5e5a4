"""The schema's history, one Tortoise migration per change; `tortoise makemigrations` writes the
next one after a model changes (configured in pyproject.toml), `kalito-graphql migrate` applies them.

On SQLite, Tortoise 1.1 changes a column by rebuilding the table (copy, drop, rename); the rebuilt
table comes back without its indexes, so such a migration must add them again (`ops.AddIndex`):
tests/test_migrations.py compares the migrated schema with the models' and fails until it does.
"""
