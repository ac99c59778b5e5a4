from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.message import MessageRole


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Persona",
            fields=[
                ("id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("name", fields.CharField(max_length=200)),
                ("prompt", fields.TextField(unique=False)),
                ("description", fields.TextField(null=True, unique=False)),
                ("icon", fields.CharField(null=True, max_length=100)),
                ("category", fields.CharField(null=True, max_length=100)),
                ("default_model", fields.CharField(null=True, max_length=100)),
                ("is_default", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "personas", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Session",
            fields=[
                ("id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("name", fields.CharField(default="New Chat", max_length=200)),
                ("model", fields.CharField(null=True, max_length=100)),
                ("recap", fields.TextField(null=True, unique=False)),
                (
                    "persona",
                    fields.ForeignKeyField(
                        "models.Persona",
                        source_field="persona_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("saved", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "sessions",
                "app": "models",
                "indexes": [
                    Index(fields=["saved", "updated_at", "id"]),
                    Index(fields=["saved", "created_at", "id"]),
                    Index(fields=["saved", "name", "id"]),
                    Index(fields=["persona_id"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Message",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "role",
                    fields.CharEnumField(
                        description="SYSTEM: system\nUSER: user\nASSISTANT: assistant",
                        enum_type=MessageRole,
                        max_length=16,
                    ),
                ),
                ("text", fields.TextField(unique=False)),
                ("model", fields.CharField(null=True, max_length=100)),
                ("token_usage", fields.IntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "messages",
                "app": "models",
                "indexes": [Index(fields=["session_id", "created_at", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
