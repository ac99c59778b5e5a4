from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0004_pins_and_summaries")]

    initial = False

    operations = [
        ops.CreateModel(
            name="SessionImport",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "session",
                    fields.OneToOneField(
                        "models.Session",
                        source_field="session_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="imported",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("imported_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "session_imports", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
