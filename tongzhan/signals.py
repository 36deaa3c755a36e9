"""Receivers for authentication events, which Django reports only through signals: the
audit log, and the start of a session's lifetime (tongzhan.middleware)."""

import time

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from .audit import audit_record, client_ip
from .models import AuditEvent
from .requestid import current_request_var


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


@receiver(post_save, sender=LogEntry)
def audit_admin_write(sender, instance, created, **kwargs):
    """Every addition, change and deletion made in the admin also enters the audit log."""
    if not created:
        return
    action = {
        ADDITION: AuditEvent.Action.CREATE,
        CHANGE: AuditEvent.Action.UPDATE,
        DELETION: AuditEvent.Action.DELETE,
    }[instance.action_flag]
    request = current_request_var.get()
    AuditEvent.objects.create(
        actor_id=instance.user_id,
        username=instance.user.get_username(),
        ip=client_ip(request),
        request_id=getattr(request, "id", "") if request is not None else "",
        action=action,
        object_type=instance.content_type.app_label + "." + instance.content_type.model
        if instance.content_type_id
        else "",
        object_id=str(instance.object_id or "")[:50],
        object_repr=instance.object_repr[:200],
        detail={"admin": True, "change": instance.get_change_message()[:500]},
    )
