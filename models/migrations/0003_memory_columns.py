from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0002_sessions_by_activity")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Message",
            name="importance",
            field=fields.FloatField(default=0.5, db_default=0.5),
        ),
        ops.AddField(
            model_name="Persona",
            name="max_tokens",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Persona",
            name="repeat_penalty",
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name="Persona",
            name="stop_sequences",
            field=fields.JSONField(default=list, db_default="[]", encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name="Persona",
            name="suggested_models",
            field=fields.JSONField(default=list, db_default="[]", encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name="Persona",
            name="temperature",
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name="Persona",
            name="top_p",
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name="Session",
            name="metadata",
            field=fields.JSONField(default=dict, db_default="{}", encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
