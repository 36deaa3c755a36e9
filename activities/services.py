"""Writes on activities. Views, admin and commands call these and nothing else.

Each write checks the actor's scope, validates, saves and records its history entry and
audit event in one transaction, as `members.services` does for members.
"""

import datetime
import decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent

from .models import Activity, ActivityChange

# The fields an activity's history shows, in order.
HISTORY_FIELDS = (
    "type",
    "title",
    "starts_at",
    "ends_at",
    "place",
    "area",
    "organiser",
    "other_attendees",
    "people_served",
    "funds",
    "funds_source",
    "summary",
)


def activity_create(*, actor, data: dict, participants=(), request=None) -> Activity:
    """Record an activity organised by an area in the actor's scope."""
    if not actor.has_perm("activities.add_activity"):
        raise PermissionDenied
    with transaction.atomic():
        activity = Activity(created_by=actor, **data)
        _check_area(actor, activity.area)
        members = _members_in_scope(actor, participants)
        activity.full_clean()
        activity.save()
        activity.participants.set(members)
        _record(
            actor=actor,
            activity=activity,
            action=ActivityChange.Action.CREATE,
            changes=_changes({}, snapshot(activity)),
            request=request,
        )
    return activity


def activity_update(
    *, actor, activity: Activity, data: dict, participants=None, request=None
) -> Activity:
    """Change an activity; only what really changed enters the history."""
    if not Activity.objects.editable_by(actor).filter(pk=activity.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        before = snapshot(Activity.objects.get(pk=activity.pk))
        for name, value in data.items():
            setattr(activity, name, value)
        _check_area(actor, activity.area)
        activity.full_clean()
        activity.save()
        if participants is not None:
            activity.participants.set(_members_in_scope(actor, participants))
        changes = _changes(before, snapshot(activity))
        if changes:
            _record(
                actor=actor,
                activity=activity,
                action=ActivityChange.Action.UPDATE,
                changes=changes,
                request=request,
            )
    return activity


def snapshot(activity: Activity) -> dict[str, str]:
    """The activity as its history shows it: each field as a person reads it."""
    values = {name: _display(getattr(activity, name)) for name in HISTORY_FIELDS}
    # The same amount reads the same whether it came from the form or the database.
    values["funds"] = f"{decimal.Decimal(activity.funds or 0):.2f}"
    names = sorted(member.name for member in activity.participants.all())
    values["participants"] = "、".join(names)
    return values


def _display(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _changes(before: dict, after: dict) -> list[dict]:
    return [
        {"field": name, "old": before.get(name, ""), "new": value}
        for name, value in after.items()
        if before.get(name, "") != value
    ]


def _check_area(actor, area: Area | None) -> None:
    """The organising area must lie in the actor's scope."""
    if area is None:
        return
    if not Area.objects.visible_to(actor).filter(pk=area.pk).exists():
        raise ValidationError({"area": _("Choose an area within your own.")})


def _members_in_scope(actor, members) -> list[Member]:
    """The participants, all of them members the actor may see; refuse any other."""
    members = list(members)
    visible = set(
        Member.objects.visible_to(actor)
        .filter(pk__in=[member.pk for member in members])
        .values_list("pk", flat=True)
    )
    if any(member.pk not in visible for member in members):
        raise ValidationError({"participants": _("Choose participants from your own area.")})
    return members


def _record(*, actor, activity, action, changes, request=None) -> None:
    ActivityChange.objects.create(activity=activity, actor=actor, action=action, changes=changes)
    audit_record(
        actor=actor,
        action={
            ActivityChange.Action.CREATE: AuditEvent.Action.CREATE,
            ActivityChange.Action.UPDATE: AuditEvent.Action.UPDATE,
        }[action],
        obj=activity,
        request=request,
        detail={"fields": [change["field"] for change in changes]},
    )
