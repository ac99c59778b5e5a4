from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.pin import PinType


class Migration(migrations.Migration):
    dependencies = [("models", "0003_memory_columns")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Pin",
            fields=[
                ("id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="pins",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("content", fields.TextField(unique=False)),
                ("source_message_id", fields.BigIntField(null=True)),
                ("importance", fields.FloatField(default=0.8)),
                (
                    "type",
                    fields.CharEnumField(
                        default=PinType.MANUAL,
                        description="MANUAL: manual\nAUTO: auto\nCODE: code\nCONCEPT: concept\nSYSTEM: system",
                        enum_type=PinType,
                        max_length=16,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "pins",
                "app": "models",
                "indexes": [
                    Index(fields=["session_id", "importance", "created_at"]),
                    Index(fields=["session_id", "created_at"]),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Summary",
            fields=[
                ("id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                (
                    "session",
                    fields.ForeignKeyField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="summaries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("text", fields.TextField(unique=False)),
                ("message_count", fields.IntField()),
                ("start_message_id", fields.BigIntField(null=True)),
                ("end_message_id", fields.BigIntField(null=True)),
                ("importance", fields.FloatField(default=0.7)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "summaries",
                "app": "models",
                "indexes": [Index(fields=["session_id", "created_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
