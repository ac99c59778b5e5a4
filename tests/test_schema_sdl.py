"""The committed schema.graphql is what the code serves: clients generate types from it."""

from __future__ import annotations

from pathlib import Path

from cli import main
from schema import build_schema

COMMITTED_SDL = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    assert COMMITTED_SDL.read_text(encoding="utf-8") == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `kalito-graphql export-schema -o schema.graphql`"
    )


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == COMMITTED_SDL.read_text(encoding="utf-8")


def test_sdl_names_the_contract_operations() -> None:
    sdl = build_schema().as_str()
    for line in (
        "session(id: ID!): Session",
        "createSession(input: CreateSessionInput!): Session!",
        "deleteSessions(ids: [ID!]!): [ID!]!",
        "purgeEphemeralSessions(idleSeconds: Int",
        "deletePersona(id: ID!): ID!",
    ):
        assert line in sdl
