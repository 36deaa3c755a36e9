"""Writing the audit log. Callers pass masked values only; see `tongzhan.masking`."""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .auditchain import event_write
from .masking import mask_name
from .models import AuditEvent
from .requestid import request_id_var


def client_ip(request) -> str | None:
    """The client's address: behind the documented nginx (BEHIND_PROXY) REMOTE_ADDR is the
    proxy and nginx sets X-Real-IP; elsewhere that header is the client's word, ignored."""
    if request is None:
        return None
    if settings.BEHIND_PROXY and request.META.get("HTTP_X_REAL_IP"):
        return request.META["HTTP_X_REAL_IP"]
    return request.META.get("REMOTE_ADDR") or None


# How the auditor's search finds the lines about a person by her full name, which the lines
# themselves name masked: each app whose records name a person registers a finder, called with
# what was typed, returning a Q on AuditEvent or None.
_object_finders: list = []


def object_finder_register(finder) -> None:
    _object_finders.append(finder)


def objects_named(value: str) -> Q:
    """The lines whose object the registered finders know by `value` (none: an empty Q
    that matches nothing)."""
    found = Q(pk__in=[])
    for finder in _object_finders:
        q = finder(value)
        if q is not None:
            found |= q
    return found


def object_search_label(value: str) -> str:
    """An object search as a line of the log writes it: masked when it is a person's full
    name that a finder knows (`objects_named`), as the lines name her; a type or an id as
    typed."""
    value = value.strip()
    if any(finder(value) is not None for finder in _object_finders):
        return mask_name(value)
    return value


def object_label(obj) -> str:
    """How a line names its object. A record about a person says `audit_label()`, which names
    her masked: the log is kept whole for years (append-only, chained) and outlives her record,
    which retention anonymises (PIPL art. 47); the object's id says which record it was."""
    label = getattr(obj, "audit_label", None)
    return label() if callable(label) else str(obj)


def audit_record(
    *,
    actor,
    action,
    obj=None,
    request=None,
    detail=None,
    username="",
    outcome=None,
    ip=None,
    request_id="",
):
    """Append one event. `actor` may be None (failed login); `obj` any model instance.

    Times are stored in UTC; the request id ties the line to the server's log. Work done
    later, away from the request (a background import), passes the `ip` and `request_id`
    of the request that asked for it, kept until then.
    """
    if request is not None:
        ip, request_id = client_ip(request), getattr(request, "id", "")
    elif not request_id and request_id_var.get() != "-":
        request_id = request_id_var.get()
    return event_write(
        {
            "at": timezone.now(),
            "actor": actor if actor is not None and actor.pk else None,
            "username": username or (actor.get_username() if actor is not None else ""),
            "ip": ip,
            "request_id": request_id,
            "action": action,
            "outcome": outcome or AuditEvent.Outcome.DONE,
            "object_type": obj._meta.label_lower if obj is not None else "",
            "object_id": str(obj.pk) if obj is not None else "",
            "object_repr": object_label(obj)[:200] if obj is not None else "",
            "detail": detail or {},
        }
    )
