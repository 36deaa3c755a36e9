"""A need keeps the day it was raised (提出时间) and each status change its note (办理情况).

Needs recorded before: raised on their visit's day, else on the day they were entered. Those
still open without a handler or due date get what a need raised now gets (`need_create`): the
visitor or the worker who entered it, and NEED_DUE_DAYS after it was raised. Closed ones keep
theirs, so whether they were closed on time does not change after the fact.
"""

import datetime

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import TruncDate


def fill_raised_on(apps, schema_editor):
    Need = apps.get_model("activities", "Need")
    Visit = apps.get_model("activities", "Visit")
    Need.objects.filter(visit__isnull=True).update(raised_on=TruncDate("created_at"))
    Need.objects.filter(visit__isnull=False).update(
        raised_on=models.Subquery(
            Visit.objects.filter(pk=models.OuterRef("visit_id")).values("date")[:1]
        )
    )
    due_in = datetime.timedelta(days=getattr(settings, "NEED_DUE_DAYS", 30))
    still_open = Need.objects.filter(status__in=("open", "in_progress")).filter(
        models.Q(due_date__isnull=True) | models.Q(handler="")
    )
    filled = []
    for need in still_open.select_related("visit", "created_by").iterator(chunk_size=2000):
        if not need.handler:
            user = need.created_by
            named = f"{user.last_name}{user.first_name}".strip() or user.username
            need.handler = need.visit.staff if need.visit_id else named
        if need.due_date is None:
            need.due_date = need.raised_on + due_in
        filled.append(need)
    Need.objects.bulk_update(filled, ["handler", "due_date"], batch_size=2000)


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0003_activitytally'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='need',
            options={'ordering': ['-raised_on', '-id'], 'verbose_name': 'need', 'verbose_name_plural': 'needs'},
        ),
        migrations.AddField(
            model_name='need',
            name='raised_on',
            field=models.DateField(default=django.utils.timezone.localdate, verbose_name='raised on'),
        ),
        migrations.AddField(
            model_name='needchange',
            name='note',
            field=models.TextField(blank=True, verbose_name='how it was handled'),
        ),
        migrations.RunPython(fill_raised_on, migrations.RunPython.noop),
    ]
