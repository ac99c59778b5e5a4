from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.message_tree import CHAIN_EVERY_SESSION


class Migration(migrations.Migration):
    dependencies = [("models", "0006_owners")]

    initial = False

    operations = [
        ops.AddField(model_name="Message", name="parent_id", field=fields.BigIntField(null=True)),
        ops.AddField(model_name="Message", name="depth", field=fields.IntField(default=0, db_default=0)),
        ops.AddField(model_name="Message", name="active", field=fields.BooleanField(default=True, db_default=True)),
        # Each session's messages so far were a list: they become a chain, every message active.
        ops.RunSQL(CHAIN_EVERY_SESSION),
        ops.AddIndex(model_name="Message", index=Index(fields=["session_id", "active", "depth", "id"])),
        ops.AddIndex(model_name="Message", index=Index(fields=["session_id", "parent_id", "created_at", "id"])),
    ]
