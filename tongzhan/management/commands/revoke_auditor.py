"""`manage.py revoke_auditor USERNAME --by SUPERUSER`: ends an account's auditor role."""

from django.utils.translation import gettext_lazy

from tongzhan.services import user_revoke_auditor

from .grant_auditor import Command as GrantCommand


class Command(GrantCommand):
    help = (
        "End an account's auditor role (审计员); an auditor's own account is disabled. "
        "By a superuser on the server; audited under the superuser's name."
    )
    service = staticmethod(user_revoke_auditor)
    done = gettext_lazy("%(user)s is no longer an auditor.")
