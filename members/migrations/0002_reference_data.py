from django.db import migrations

from members.reference import CATEGORIES, ETHNICITIES, POLITICAL_STATUSES


def load(apps, schema_editor):
    Category = apps.get_model("members", "Category")
    Ethnicity = apps.get_model("members", "Ethnicity")
    PoliticalStatus = apps.get_model("members", "PoliticalStatus")
    for code, slug, name, short_name in CATEGORIES:
        Category.objects.update_or_create(
            code=code, defaults={"slug": slug, "name": name, "short_name": short_name}
        )
    for code, name in ETHNICITIES:
        Ethnicity.objects.update_or_create(code=code, defaults={"name": name})
    for code, name, short_name, is_party in POLITICAL_STATUSES:
        PoliticalStatus.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": short_name, "is_democratic_party": is_party},
        )


def unload(apps, schema_editor):
    for model in ("Category", "Ethnicity", "PoliticalStatus"):
        apps.get_model("members", model).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
