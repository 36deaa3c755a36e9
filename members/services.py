"""Writes on members. Views, admin, import and commands call these and nothing else.

Each write validates the member, saves it and records its history and audit entry in one
transaction (anchor: Zulip's `do_*` actions with their RealmAuditLog rows).
"""

import datetime
import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent

from .models import Member, MemberChange

# Fields whose history keeps the masked value, never the full one.
MASKED_FIELDS = {"id_number": "id_number_masked", "phone": "phone_masked"}
HISTORY_EXCLUDED = {
    "id",
    "id_number_hash",
    "id_number_masked",
    "phone_hash",
    "phone_masked",
    "created_at",
    "updated_at",
}


@functools.cache
def _history_plan(language: str) -> tuple:
    """How each history field is read, with its labels translated once per language."""
    with translation.override(language):
        yes_no = (str(_("yes")), str(_("no")))
        plan = []
        for name in history_fields():
            if name in MASKED_FIELDS:
                plan.append((name, "masked", MASKED_FIELDS[name]))
            elif name == "categories":
                plan.append((name, "categories", None))
            else:
                field = Member._meta.get_field(name)
                if field.flatchoices:
                    labels = {value: str(label) for value, label in field.flatchoices}
                    plan.append((name, "choice", labels))
                elif isinstance(field, models.BooleanField):
                    plan.append((name, "bool", yes_no))
                else:
                    plan.append((name, "value", None))
    return tuple(plan)


def _display(member: Member, name: str, kind: str, extra, categories) -> str:
    if kind == "masked":
        return getattr(member, extra)
    if kind == "categories":
        if categories is None:
            categories = member.categories.all()
        return "、".join(category.name for category in sorted(categories, key=_by_code))
    value = getattr(member, name)
    if value is None or value == "":
        return ""
    if kind == "choice":
        return extra.get(value, str(value))
    if kind == "bool":
        return extra[0] if value else extra[1]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@functools.cache
def history_fields() -> tuple[str, ...]:
    return tuple(
        field.name
        for field in Member._meta.get_fields()
        if field.concrete and not field.auto_created and field.name not in HISTORY_EXCLUDED
    )


def _by_code(category) -> str:
    return category.code


def snapshot(member: Member, categories=None) -> dict[str, str]:
    """What the history shows of a member: each field as a person reads it.

    Written in the registry's language whatever the editor's interface language, so the
    record reads the same for everyone. `categories`, when given, saves the query for them.
    """
    return {
        name: _display(member, name, kind, extra, categories)
        for name, kind, extra in _history_plan(settings.LANGUAGE_CODE)
    }


def registration_changes(member: Member, categories=None) -> list[dict]:
    """The history entry of a new registration: each field that has a value.

    What `changes_between({}, snapshot(member))` gives, without the intermediate snapshot
    (an import writes one per row).
    """
    changes = []
    for name, kind, extra in _history_plan(settings.LANGUAGE_CODE):
        value = _display(member, name, kind, extra, categories)
        if value != "":
            changes.append({"field": name, "old": "", "new": value})
    return changes


def changes_between(before: dict, after: dict) -> list[dict]:
    return [
        {"field": name, "old": before.get(name, ""), "new": after[name]}
        for name in after
        if before.get(name, "") != after[name]
    ]


def _check_editable(actor, member: Member) -> None:
    if actor is not None and not Member.objects.editable_by(actor).filter(pk=member.pk).exists():
        raise PermissionDenied


def _record(*, actor, member, action, changes, source, request=None, detail=None):
    MemberChange.objects.create(
        member=member, actor=actor, action=action, source=source, changes=changes
    )
    audit_record(
        actor=actor,
        action={
            MemberChange.Action.CREATE: AuditEvent.Action.CREATE,
            MemberChange.Action.UPDATE: AuditEvent.Action.UPDATE,
            MemberChange.Action.STATUS: AuditEvent.Action.STATUS,
            MemberChange.Action.TRANSFER: AuditEvent.Action.TRANSFER,
        }[action],
        obj=member,
        request=request,
        detail=detail or {"fields": [change["field"] for change in changes], "source": source},
    )


def _apply(member: Member, data: dict) -> list:
    categories = data.get("categories")
    for name, value in data.items():
        if name == "categories":
            continue
        if name == "id_number":
            member.id_number = value
        elif name == "phone":
            member.phone = value
        else:
            setattr(member, name, value)
    return categories


@transaction.atomic
def member_create(*, actor, data: dict, source: str = "", request=None) -> Member:
    """Register a person. `data` holds model field values and `categories`."""
    member = Member()
    categories = _apply(member, data)
    if actor is not None and not _may_write_in(actor, member.community):
        raise PermissionDenied
    member.full_clean()
    member.save()
    member.categories.set(categories or [])
    _record(
        actor=actor,
        member=member,
        action=MemberChange.Action.CREATE,
        changes=registration_changes(member),
        source=source,
        request=request,
    )
    return member


@transaction.atomic
def member_update(*, actor, member: Member, data: dict, source: str = "", request=None) -> Member:
    """Change a member's fields; only what really changed enters the history."""
    _check_editable(actor, member)
    before = snapshot(Member.objects.get(pk=member.pk))
    if "community" in data and data["community"] != member.community:
        raise ValidationError({"community": _("Use a transfer to move a member.")})
    categories = _apply(member, data)
    member.full_clean()
    member.save()
    if categories is not None:
        member.categories.set(categories)
    changes = changes_between(before, snapshot(member))
    if changes:
        _record(
            actor=actor,
            member=member,
            action=MemberChange.Action.UPDATE,
            changes=changes,
            source=source,
            request=request,
        )
    return member


@transaction.atomic
def member_set_status(
    *, actor, member: Member, status: str, date: datetime.date, reason: str, request=None
) -> Member:
    """动态管理: record that a member moved out, died or withdrew, or is registered again."""
    _check_editable(actor, member)
    if status not in Member.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status != Member.Status.ACTIVE and not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the change.")})
    before = snapshot(member)
    member.status, member.status_date, member.status_reason = status, date, reason.strip()
    member.full_clean()
    member.save(update_fields=["status", "status_date", "status_reason", "updated_at"])
    _record(
        actor=actor,
        member=member,
        action=MemberChange.Action.STATUS,
        changes=changes_between(before, snapshot(member)),
        source="",
        request=request,
    )
    return member


@transaction.atomic
def member_transfer(
    *,
    actor,
    member: Member,
    to_community: Area,
    to_grid: Area | None = None,
    reason: str,
    request=None,
) -> Member:
    """Move a member to another community (迁出/转入); the record and its history go along."""
    _check_editable(actor, member)
    if actor is not None and not actor.has_perm("members.transfer_member"):
        raise PermissionDenied
    if to_community.level != Area.Level.COMMUNITY:
        raise ValidationError({"to_community": _("Choose a community.")})
    if to_community.pk == member.community_id:
        raise ValidationError({"to_community": _("The member is already in this community.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the transfer.")})
    before = snapshot(member)
    member.community, member.grid = to_community, to_grid
    member.full_clean()
    member.save(update_fields=["community", "grid", "updated_at"])
    changes = changes_between(before, snapshot(member))
    _record(
        actor=actor,
        member=member,
        action=MemberChange.Action.TRANSFER,
        changes=changes,
        source=reason.strip(),
        request=request,
        detail={"to": to_community.code, "reason": reason.strip()},
    )
    return member


def _may_write_in(actor, community: Area | None) -> bool:
    """Whether `actor` may add a member to `community`: it must lie in their area."""
    if community is None or not actor.has_perm("members.add_member"):
        return community is None and actor.has_perm("members.add_member")
    return Area.objects.visible_to(actor).filter(pk=community.pk).exists()
