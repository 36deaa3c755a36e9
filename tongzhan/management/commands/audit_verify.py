"""`manage.py audit_verify`: check the audit log's chain of HMAC-SM3 (tongzhan.auditchain)
and name the first line changed, removed or inserted; exits 1 when the check fails."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tongzhan.auditchain import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit log's chain of HMAC-SM3 and name the first line changed, removed "
        "or inserted; the result is kept and shown on the auditor's page."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--expect-head",
            metavar="PLACE:MAC",
            help="A head printed by an earlier check and kept outside the database: the chain "
            "must still reach it with the same link.",
        )

    def handle(self, *args, expect_head, **options):
        expected = None
        if expect_head:
            place, _sep, link = expect_head.partition(":")
            if not place.isdigit() or len(link) != 64:
                raise CommandError(_("--expect-head takes PLACE:MAC, as a check printed it."))
            expected = (int(place), link)
        check = audit_verify(expect_head=expected)
        if check.passed:
            self.stdout.write(
                _("The audit log is whole: %(lines)s lines, chain head %(seq)s:%(mac)s.")
                % {"lines": check.lines, "seq": check.head_seq, "mac": check.head_mac}
            )
            return
        if check.first_bad_event is None:
            raise CommandError(
                _("%(problem)s: from place %(place)s of the chain.")
                % {"problem": check.get_problem_display(), "place": check.first_bad_place}
            )
        raise CommandError(
            _("%(problem)s: line %(event)s (place %(place)s in the chain).")
            % {
                "problem": check.get_problem_display(),
                "event": check.first_bad_event,
                "place": check.first_bad_place or "—",
            }
        )
