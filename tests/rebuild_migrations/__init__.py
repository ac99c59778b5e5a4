"""A history whose second migration makes Tortoise rebuild the `sessions` table on SQLite (copy it,
drop the original, rename the copy), the way any future column change of it will: the migration
tests apply it over rows to prove that no row referring to a session goes with the drop."""
