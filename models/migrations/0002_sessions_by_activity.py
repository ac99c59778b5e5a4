from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Session",
            index=Index(fields=["updated_at", "id"]),
        ),
    ]
