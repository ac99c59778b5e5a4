"""A history whose second migration adds a NOT NULL column to `sessions` as `tortoise makemigrations`
writes it for `fields.BooleanField(default=False, db_default=False)`: the value existing rows get
is the column's DEFAULT, so the migration works on a database that holds sessions."""
