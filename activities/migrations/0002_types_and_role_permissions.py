from django.db import migrations

from tongzhan.roles import grant_role_permissions

# (code, name, serves people); administrators edit the list afterwards.
TYPES = [
    ("consultation", "座谈会/协商议事", False),
    ("visiting", "走访慰问", False),
    ("publicity", "政策宣传", False),
    ("training", "学习培训", False),
    ("fellowship", "文化联谊", False),
    ("free_clinic", "义诊", True),
    ("legal_advice", "法律咨询", True),
    ("education_aid", "捐资助学", True),
    ("volunteering", "志愿服务", True),
    ("other_service", "其他社会服务", True),
    ("research", "建言献策/调研", False),
    ("other", "其他", False),
]


def load(apps, schema_editor):
    ActivityType = apps.get_model("activities", "ActivityType")
    for order, (code, name, serves_people) in enumerate(TYPES, start=1):
        ActivityType.objects.update_or_create(
            code=code,
            defaults={"name": name, "serves_people": serves_people, "sort_order": order * 10},
        )
    grant_role_permissions(apps, ("activities",))


def unload(apps, schema_editor):
    apps.get_model("activities", "ActivityType").objects.filter(
        code__in=[code for code, _name, _serves in TYPES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0001_initial"),
        ("tongzhan", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(load, unload)]
