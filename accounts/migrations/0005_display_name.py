from django.db import migrations, models


class Migration(migrations.Migration):
    """Display names and avatars (issue 19.5): two columns with defaults, so
    servers of the previous version keep working on the new schema."""

    dependencies = [("accounts", "0004_preference")]

    operations = [
        migrations.AddField(
            model_name="preference",
            name="display_name",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="preference",
            name="avatar",
            field=models.FileField(blank=True, default="", upload_to="avatars/"),
        ),
    ]
