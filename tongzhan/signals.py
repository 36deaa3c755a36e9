"""Receivers for authentication events, which Django reports only through signals: the
audit log, and the start of a session's lifetime (tongzhan.middleware)."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .audit import audit_record
from .models import AuditEvent


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditEvent.Action.LOGIN, request=request)


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session["started_at"] = request.session["seen_at"] = int(time.time())
        request.session["second_factor"] = second_factor_needed(user)


def second_factor_needed(user) -> str:
    """ "verify" (has an authenticator), "setup" (an administrator without one), or ""."""
    from django_otp import devices_for_user

    if any(True for _device in devices_for_user(user, confirmed=True)):
        return "verify"
    if user.role == user.Role.ADMIN or user.is_superuser:
        return "setup"
    return ""


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=AuditEvent.Action.LOGOUT, request=request)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        outcome=AuditEvent.Outcome.REFUSED,
        request=request,
        username=str(credentials.get("username", ""))[:150],
    )
