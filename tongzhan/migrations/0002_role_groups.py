from django.db import migrations

from tongzhan.roles import ROLE_GROUPS, grant_role_permissions


def create_groups(apps, schema_editor):
    # Later apps grant their own permissions in their migrations.
    grant_role_permissions(apps, ("auth", "tongzhan", "members"))


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[name for name, _ in ROLE_GROUPS.values()]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tongzhan", "0001_initial"),
        ("members", "0002_reference_data"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_groups, delete_groups)]
