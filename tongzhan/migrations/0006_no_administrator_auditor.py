"""三员分立: no account is both a system administrator and an auditor.

Until now an administrator could be given the auditor's group in the admin. Such an account
stops this migration, named, rather than being changed silently: a superuser decides which
duty it keeps (`manage.py revoke_auditor USERNAME --by SUPERUSER`, or another role in the
admin), then migrates again.
"""

from django.db import migrations
from django.db.models import Q

ADMIN_GROUP, AUDITOR_GROUP = "系统管理员", "审计员"


def refuse_accounts_with_both_duties(apps, schema_editor):
    User = apps.get_model("tongzhan", "User")
    administers = Q(is_superuser=True) | Q(role="admin") | Q(groups__name=ADMIN_GROUP)
    audits = Q(role="auditor") | Q(groups__name=AUDITOR_GROUP)
    both = sorted(
        set(
            User.objects.filter(administers)
            .filter(pk__in=User.objects.filter(audits).values("pk"))
            .values_list("username", flat=True)
        )
    )
    if both:
        raise RuntimeError(
            "These accounts are both system administrators and auditors, which is no longer "
            f"allowed (三员分立): {', '.join(both)}. Remove one duty from each, for example "
            "`manage.py revoke_auditor USERNAME --by SUPERUSER`, and run migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [("tongzhan", "0005_audit_delete_action")]

    operations = [
        migrations.RunPython(refuse_accounts_with_both_duties, migrations.RunPython.noop),
    ]
