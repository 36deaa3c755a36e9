"""Writes on members. Views, admin, import and commands call these and nothing else.

Each write validates the member, saves it and records its history and audit entry in one
transaction (anchor: Zulip's `do_*` actions with their RealmAuditLog rows).
"""

import datetime
import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, F, Value
from django.db.models.functions import Coalesce, ExtractYear, TruncMonth
from django.utils import translation
from django.utils.translation import gettext as _

from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent

from .models import Member, MemberCategory, MemberChange, MemberTally

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
    tally_refresh(communities=[member.community_id])
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
        tally_refresh(communities=[member.community_id])
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
    tally_refresh(communities=[member.community_id])
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
    from_community = member.community_id
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
    tally_refresh(communities=[from_community, to_community.pk])
    return member


def _may_write_in(actor, community: Area | None) -> bool:
    """Whether `actor` may add a member to `community`: it must lie in their area."""
    if community is None or not actor.has_perm("members.add_member"):
        return community is None and actor.has_perm("members.add_member")
    return Area.objects.visible_to(actor).filter(pk=community.pk).exists()


# -- Tallies for the dashboards -----------------------------------------------------------------


def _month(value) -> str:
    return f"{value:%Y-%m}" if value else ""


def _tally_counts(dimension: str, ids: list[int]):
    """(community id, value, count) of one dimension over the given communities."""
    D = MemberTally.Dimension
    everyone = Member.objects.filter(community_id__in=ids)
    active = everyone.filter(status=Member.Status.ACTIVE)
    if dimension == D.CATEGORY:
        rows = (
            MemberCategory.objects.filter(
                member__community_id__in=ids, member__status=Member.Status.ACTIVE
            )
            .values_list("member__community_id", "category__code")
            .annotate(n=Count("*"))
        )
        return list(rows)
    grouped = {
        D.TOTAL: (active, Value("")),
        D.REPRESENTATIVE: (active.filter(is_representative=True), Value("")),
        D.INCOMPLETE: (active.filter(Member.incomplete_q()), Value("")),
        D.POLITICAL_STATUS: (active, Coalesce("political_status__code", Value(""))),
        D.ETHNICITY: (active, Coalesce("ethnicity__code", Value(""))),
        D.SEX: (active, F("sex")),
        D.BIRTH_YEAR: (active, ExtractYear("birth_date")),
        D.LAST_CONTACT: (active, TruncMonth("last_contact_on")),
        D.JOINED: (everyone, TruncMonth("created_at")),
        D.LEFT: (
            everyone.exclude(status=Member.Status.ACTIVE).filter(status_date__isnull=False),
            TruncMonth("status_date"),
        ),
    }
    members, value = grouped[dimension]
    rows = (
        members.annotate(tally_value=value)
        .values_list("community_id", "tally_value")
        .annotate(n=Count("*"))
        .order_by()
    )
    if dimension in (D.LAST_CONTACT, D.JOINED, D.LEFT):
        return [(community, _month(month), n) for community, month, n in rows]
    return [(community, "" if v is None else str(v), n) for community, v, n in rows]


def tally_refresh(*, communities, dimensions=None) -> None:
    """Recount the dashboards' tallies of these communities (ids), all or some dimensions.

    Called inside the transaction of every write that changes what is counted. The
    communities are locked first, so two writes in one community count one after the other
    (each sees the other's committed change) instead of both missing the other's.
    """
    ids = sorted({pk for pk in communities if pk is not None})
    if not ids:
        return
    dimensions = list(dimensions or MemberTally.Dimension.values)
    with transaction.atomic():
        list(Area.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        MemberTally.objects.filter(community_id__in=ids, dimension__in=dimensions).delete()
        MemberTally.objects.bulk_create(
            [
                MemberTally(community_id=community, dimension=dimension, value=value, count=n)
                for dimension in dimensions
                for community, value, n in _tally_counts(dimension, ids)
            ],
            batch_size=5000,
        )
