from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0005_session_imports")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Session",
            name="owner_id",
            field=fields.CharField(default="", db_default="", max_length=255),
        ),
        ops.AddField(
            model_name="Persona",
            name="owner_id",
            field=fields.CharField(default="", db_default="", max_length=255),
        ),
        ops.AddIndex(model_name="Session", index=Index(fields=["owner_id", "saved", "updated_at", "id"])),
        ops.AddIndex(model_name="Session", index=Index(fields=["owner_id", "saved", "created_at", "id"])),
        ops.AddIndex(model_name="Session", index=Index(fields=["owner_id", "saved", "name", "id"])),
        ops.AddIndex(model_name="Session", index=Index(fields=["owner_id", "updated_at", "id"])),
        ops.AddIndex(model_name="Persona", index=Index(fields=["owner_id", "name", "id"])),
    ]
