"""Writes on members. Views, admin, import and commands call these and nothing else.

Each write validates the member, saves it and records its history and audit entry in one
transaction (anchor: Zulip's `do_*` actions with their RealmAuditLog rows).
"""

import datetime
import functools
from collections import Counter

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, F, Value
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone, translation
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
    # Kept by the services from other data, not changes anybody made to the record.
    "last_contact_on",
    "incomplete",
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
    member.incomplete = member.misses_category_fields([c.slug for c in categories or []])
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
    tally_apply(tally_keys(member, categories or []))
    return member


def _stored_tally_keys(member: Member) -> Counter:
    """The tallies the member counts in as stored, before a write changes them; the stored
    member and categories ride along as `.stored` and `.categories`."""
    # Locked until commit, so a concurrent write on the member starts from this one's result.
    stored = Member.objects.select_for_update().defer("id_number", "phone").get(pk=member.pk)
    categories = list(stored.categories.all())
    keys = tally_keys(stored, categories)
    keys.stored, keys.categories = stored, categories
    return keys


def _tally_keys_now(member: Member) -> Counter:
    return tally_keys(member, list(member.categories.all()))


@transaction.atomic
def member_update(*, actor, member: Member, data: dict, source: str = "", request=None) -> Member:
    """Change a member's fields; only what really changed enters the history."""
    _check_editable(actor, member)
    before = snapshot(Member.objects.get(pk=member.pk))
    counted = _stored_tally_keys(member)
    if "community" in data and data["community"] != member.community:
        raise ValidationError({"community": _("Use a transfer to move a member.")})
    categories = _apply(member, data)
    # Kept by the activities' services: an instance read before a visit must not undo it.
    member.last_contact_on = counted.stored.last_contact_on
    slugs = [c.slug for c in (categories if categories is not None else counted.categories)]
    member.incomplete = member.misses_category_fields(slugs)
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
        tally_apply(tally_change(counted, _tally_keys_now(member)))
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
    counted = _stored_tally_keys(member)
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
    tally_apply(tally_change(counted, _tally_keys_now(member)))
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
    counted = _stored_tally_keys(member)
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
    tally_apply(tally_change(counted, _tally_keys_now(member)))
    return member


def _may_write_in(actor, community: Area | None) -> bool:
    """Whether `actor` may add a member to `community`: it must lie in their area."""
    if community is None or not actor.has_perm("members.add_member"):
        return community is None and actor.has_perm("members.add_member")
    return Area.objects.visible_to(actor).filter(pk=community.pk).exists()


# -- Tallies for the dashboards -----------------------------------------------------------------
#
# Each member counts once under each (community, dimension, value) `tally_keys` names. A write
# applies the difference between the member's keys before and after it (`tally_apply`), so
# keeping the tallies costs a few rows per save whatever the size of the community;
# `tally_refresh` recounts communities from scratch (`manage.py tally_rebuild`).


def _month(value) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return f"{value:%Y-%m}" if value else ""


def _value(value) -> str:
    return "" if value is None else str(value)


def tally_keys(member: Member, categories) -> Counter:
    """The tallies one member counts in; `categories` are the member's Category objects."""
    D = MemberTally.Dimension
    community = member.community_id
    keys = [(community, D.JOINED, _month(member.created_at))]
    if member.status != Member.Status.ACTIVE:
        if member.status_date:
            keys.append((community, D.LEFT, _month(member.status_date)))
        return Counter(keys)
    keys += [
        (community, D.TOTAL, ""),
        (community, D.POLITICAL_STATUS, _value(member.political_status_id)),
        (community, D.ETHNICITY, _value(member.ethnicity_id)),
        (community, D.SEX, member.sex),
        (community, D.BIRTH_YEAR, _value(member.birth_date and member.birth_date.year)),
        (community, D.LAST_CONTACT, _month(member.last_contact_on)),
    ]
    keys += [(community, D.CATEGORY, str(category.pk)) for category in categories]
    if member.is_representative:
        keys.append((community, D.REPRESENTATIVE, ""))
    if member.incomplete:
        keys.append((community, D.INCOMPLETE, ""))
    return Counter(keys)


def tally_apply(delta: dict) -> None:
    """Add `delta` ({(community id, dimension, value): change}) to the stored tallies.

    The communities are locked first, so concurrent writes in one community add up one
    after the other; a tally that reaches zero is removed, as a recount would not have it.
    """
    delta = {key: change for key, change in delta.items() if change}
    if not delta:
        return
    communities = sorted({community for community, _dimension, _value in delta})
    with transaction.atomic():
        list(
            Area.objects.select_for_update()
            .filter(pk__in=communities)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        stored = MemberTally.objects.filter(community_id__in=communities)
        if len(delta) <= 40:
            wanted = models.Q()
            for community, dimension, value in delta:
                wanted |= models.Q(community_id=community, dimension=dimension, value=value)
            stored = stored.filter(wanted)
        rows = {(row.community_id, row.dimension, row.value): row for row in stored}
        changed, created, emptied = [], [], []
        for key, change in delta.items():
            row = rows.get(key)
            if row is None:
                created.append(MemberTally(community_id=key[0], dimension=key[1], value=key[2]))
                row = created[-1]
                row.count = 0
            elif row.count + change:
                changed.append(row)
            else:
                emptied.append(row.pk)
            row.count += change
        if any(row.count < 0 for row in [*changed, *created]):
            raise ValueError(f"Tallies out of step with the members: {delta}")
        MemberTally.objects.bulk_update(changed, ["count"], batch_size=1000)
        MemberTally.objects.bulk_create(created, batch_size=1000)
        MemberTally.objects.filter(pk__in=emptied).delete()


def tally_change(before: Counter, after: Counter) -> dict:
    return {key: after[key] - before[key] for key in before.keys() | after.keys()}


def _tally_counts(dimension: str, ids: list[int]):
    """(community id, value, count) of one dimension over the given communities, counted."""
    D = MemberTally.Dimension
    everyone = Member.objects.filter(community_id__in=ids)
    active = everyone.filter(status=Member.Status.ACTIVE)
    if dimension == D.CATEGORY:
        rows = (
            MemberCategory.objects.filter(
                member__community_id__in=ids, member__status=Member.Status.ACTIVE
            )
            .values_list("member__community_id", "category_id")
            .annotate(n=Count("*"))
            .order_by()
        )
        return [(community, str(category), n) for community, category, n in rows]
    grouped = {
        D.TOTAL: (active, Value("")),
        D.REPRESENTATIVE: (active.filter(is_representative=True), Value("")),
        D.INCOMPLETE: (active.filter(incomplete=True), Value("")),
        D.POLITICAL_STATUS: (active, F("political_status_id")),
        D.ETHNICITY: (active, F("ethnicity_id")),
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
    return [(community, _value(value), n) for community, value, n in rows]


def completeness_refresh() -> int:
    """Set every member's `incomplete` flag from `Member.incomplete_q()`; the number changed."""
    condition = Member.incomplete_q()
    with transaction.atomic():
        changed = Member.objects.filter(condition).exclude(incomplete=True).update(incomplete=True)
        return changed + Member.objects.exclude(condition).filter(incomplete=True).update(
            incomplete=False
        )


def tally_refresh(*, communities) -> None:
    """Recount the dashboards' tallies of these communities (ids) from the members."""
    ids = sorted({pk for pk in communities if pk is not None})
    if not ids:
        return
    with transaction.atomic():
        list(Area.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
        MemberTally.objects.filter(community_id__in=ids).delete()
        MemberTally.objects.bulk_create(
            [
                MemberTally(community_id=community, dimension=dimension, value=value, count=n)
                for dimension in MemberTally.Dimension.values
                for community, value, n in _tally_counts(dimension, ids)
            ],
            batch_size=5000,
        )
