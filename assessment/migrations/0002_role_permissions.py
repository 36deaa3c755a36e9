from django.db import migrations

from tongzhan.roles import grant_role_permissions


def grant(apps, schema_editor):
    grant_role_permissions(apps, ("assessment",))


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0001_initial"),
        ("tongzhan", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
