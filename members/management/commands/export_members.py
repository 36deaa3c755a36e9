"""Export the whole roster, or one area's, with full ID numbers and phones: for administrators.

Unlike the web export it is not scoped to a user and covers every status; it is logged in
the audit log as done by "manage.py".
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from members.exports import roster_queryset, write_roster
from members.models import Member
from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent

USERNAME = "manage.py"


class Command(BaseCommand):
    help = "Write all members (all statuses) with full ID numbers and phones to an .xlsx file."

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path, help="The .xlsx file to write.")
        parser.add_argument(
            "--area", help="Only members within the area with this code (default: all)."
        )

    def handle(self, *args, out: Path, area: str | None, **options):
        # A record merged into another is that other one now (it would be imported twice).
        members = Member.objects.filter(merged_into__isnull=True)
        if area:
            found = Area.objects.filter(code=area).first()
            if found is None:
                # Translators: 没有代码为 %(code)s 的区划。
                raise CommandError(_("There is no area with the code %(code)s.") % {"code": area})
            ids = Area.objects.within(found).values_list("pk", flat=True)
            members = members.filter(community_id__in=list(ids))
        members = roster_queryset(members.order_by("community__code", "id"), full=True)
        with out.open("wb") as file:
            rows = write_roster(members, file, full=True)
        audit_record(
            actor=None,
            username=USERNAME,
            action=AuditEvent.Action.EXPORT,
            detail={"area": area, "rows": rows, "file": out.name},
        )
        self.stdout.write(
            # Translators: 已将 %(rows)d 名统战对象写入 %(file)s。
            _("%(rows)d members written to %(file)s.") % {"rows": rows, "file": out}
        )
