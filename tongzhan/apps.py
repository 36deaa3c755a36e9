from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPConfig


class TongzhanConfig(AppConfig):
    default = True  # this module also holds the configs below
    name = "tongzhan"
    verbose_name = _("Areas, accounts and audit")

    def ready(self):
        import datetime

        from django.core.signals import request_started

        from . import signals  # noqa: F401  (login/logout audit receivers)
        from .auditchain import audit_seal, audit_verify
        from .crypto import keyring
        from .schedule import (
            login_records_prune,
            periodic_register,
            sessions_clear,
            task_results_prune,
        )
        from .services import downloads_expire
        from .workers import in_process_worker_start

        # A key badly written stops the start, not the first page that reads a number.
        keyring()
        # Periodic jobs of the kernel; each app registers its own in its ready().
        periodic_register(
            "tongzhan.task_results_prune", task_results_prune, at=datetime.time(3, 20)
        )
        # Expired sessions, and login records past LOGIN_RECORDS_KEEP_DAYS.
        periodic_register("tongzhan.sessions_clear", sessions_clear, at=datetime.time(3, 25))
        periodic_register(
            "tongzhan.login_records_prune", login_records_prune, at=datetime.time(3, 30)
        )
        # Files made in the background, kept DOWNLOAD_KEEP_DAYS for their owner.
        periodic_register(
            "tongzhan.downloads_expire", downloads_expire, every=datetime.timedelta(hours=1)
        )
        # The audit log's chain: lines whose seal after their commit was missed, and the
        # check of the whole chain whose result the auditor's page shows.
        periodic_register("tongzhan.audit_seal", audit_seal, every=datetime.timedelta(minutes=10))
        periodic_register("tongzhan.audit_verify", audit_verify, at=datetime.time(2, 40))
        # The embedded server's worker thread starts with its first request: in the process
        # that serves, not in runserver's reloader nor in other commands (TASKS_IN_PROCESS).
        request_started.connect(in_process_worker_start, dispatch_uid="tasks-in-process")


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with a site that lets superusers only in (tongzhan.admin_site)."""

    default = False  # TongzhanConfig is this module's default
    default_site = "tongzhan.admin_site.SuperuserAdminSite"


class LoginRecordsConfig(AxesConfig):
    """django-axes under a Chinese name in the admin (its own catalogue has no Chinese)."""

    verbose_name = _("Logins and lockouts")


class AuthenticatorsConfig(TOTPConfig):
    """django-otp's authenticators under a Chinese name in the admin."""

    verbose_name = _("Authenticators")


# The words of django-axes' admin pages, which its own catalogue has in no Chinese: listed
# here so that `makemessages` keeps their translations in ours.
AXES_WORDS = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    # Django's own admin, whose Chinese catalogue lacks this sentence of the account form.
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
)
