"""The project's own first migration."""

import importlib

Migration = importlib.import_module("models.migrations.0001_initial").Migration
