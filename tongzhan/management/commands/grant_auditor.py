"""`manage.py grant_auditor USERNAME --by SUPERUSER`: the only way to make an auditor."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongzhan.models import User
from tongzhan.services import user_grant_auditor


def account(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist as error:
        raise CommandError(_("No account %(user)s.") % {"user": username}) from error


class Command(BaseCommand):
    help = (
        "Make an account an auditor (审计员): it then reads the audit log and nothing else. "
        "Given by a superuser on the server, never to a system administrator (三员分立); "
        "audited under the superuser's name."
    )
    service = staticmethod(user_grant_auditor)
    done = gettext_lazy("%(user)s is an auditor now.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--by", required=True, metavar="SUPERUSER", help="the superuser doing this"
        )

    def handle(self, *args, username, by, **options):
        actor, user = account(by), account(username)
        try:
            self.service(actor=actor, user=user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(self.done % {"user": username})
