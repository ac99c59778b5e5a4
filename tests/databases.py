"""Which tests run on which database: SQLite always, PostgreSQL when it answers."""

from __future__ import annotations

import pytest

from support.databases import POSTGRES_AVAILABLE

ON_POSTGRES = pytest.mark.skipif(not POSTGRES_AVAILABLE, reason="PostgreSQL does not answer")
# The parameters of a fixture whose tests run on each database.
EACH_DATABASE = ["sqlite", pytest.param("postgres", marks=ON_POSTGRES)]
