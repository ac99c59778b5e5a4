"""The schema of the release before migrations, as `Tortoise.generate_schemas` made it (commit
e5df125, captured with `tortoise.utils.get_schema_sql`): the databases in the wild that the first
`migrate` adopts. Frozen on purpose: the models move on, these databases do not."""

SQLITE = r"""
CREATE TABLE "personas" (
    "id" VARCHAR(64) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "prompt" TEXT NOT NULL,
    "description" TEXT,
    "icon" VARCHAR(100),
    "category" VARCHAR(100),
    "default_model" VARCHAR(100),
    "is_default" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
CREATE TABLE "sessions" (
    "id" VARCHAR(64) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "model" VARCHAR(100),
    "recap" TEXT,
    "saved" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "persona_id" VARCHAR(64) REFERENCES "personas" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_sessions_saved_b66c7c" ON "sessions" ("saved", "updated_at", "id");
CREATE INDEX "idx_sessions_saved_25fd12" ON "sessions" ("saved", "created_at", "id");
CREATE INDEX "idx_sessions_saved_02cb26" ON "sessions" ("saved", "name", "id");
CREATE INDEX "idx_sessions_persona_f986d0" ON "sessions" ("persona_id");
CREATE TABLE "messages" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "role" VARCHAR(16) NOT NULL /* SYSTEM: system\nUSER: user\nASSISTANT: assistant */,
    "text" TEXT NOT NULL,
    "model" VARCHAR(100),
    "token_usage" INT,
    "created_at" TIMESTAMP NOT NULL,
    "session_id" VARCHAR(64) NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_messages_session_06ae8d" ON "messages" ("session_id", "created_at", "id");
"""

POSTGRES = r"""
CREATE TABLE "personas" (
    "id" VARCHAR(64) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "prompt" TEXT NOT NULL,
    "description" TEXT,
    "icon" VARCHAR(100),
    "category" VARCHAR(100),
    "default_model" VARCHAR(100),
    "is_default" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE TABLE "sessions" (
    "id" VARCHAR(64) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "model" VARCHAR(100),
    "recap" TEXT,
    "saved" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "persona_id" VARCHAR(64) REFERENCES "personas" ("id") ON DELETE SET NULL
);
CREATE INDEX "idx_sessions_saved_b66c7c" ON "sessions" ("saved", "updated_at", "id");
CREATE INDEX "idx_sessions_saved_25fd12" ON "sessions" ("saved", "created_at", "id");
CREATE INDEX "idx_sessions_saved_02cb26" ON "sessions" ("saved", "name", "id");
CREATE INDEX "idx_sessions_persona_f986d0" ON "sessions" ("persona_id");
CREATE TABLE "messages" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "role" VARCHAR(16) NOT NULL,
    "text" TEXT NOT NULL,
    "model" VARCHAR(100),
    "token_usage" INT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "session_id" VARCHAR(64) NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE
);
CREATE INDEX "idx_messages_session_06ae8d" ON "messages" ("session_id", "created_at", "id");
COMMENT ON COLUMN "messages"."role" IS 'SYSTEM: system\nUSER: user\nASSISTANT: assistant';
"""
