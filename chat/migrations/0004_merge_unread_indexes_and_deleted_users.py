# Joins core's event-log migrations and security's deleted-users one.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0003_unread_indexes"),
        ("chat", "0002_security_user_set_deleted"),
    ]

    operations = []
