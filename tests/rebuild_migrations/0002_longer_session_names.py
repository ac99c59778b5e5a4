from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.AlterField(
            model_name="Session",
            name="name",
            field=fields.CharField(default="New Chat", max_length=300),
        ),
    ]
