"""The writes of organisations, memberships and places: each checks the actor's right and
scope, validates, saves in one transaction and writes its audit line there."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Member
from members.validators import normalize_phone
from tongzhan.audit import audit_record
from tongzhan.masking import mask_phone
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import visible_area_ids
from tongzhan.services import area_records_repoint
from tongzhan.text import plain_name

from .models import Membership, Organisation, Place

# The levels an organisation or a place belongs to: a grid is part of its community.
AREA_LEVELS = (Area.Level.DISTRICT, Area.Level.STREET, Area.Level.COMMUNITY)


def _check_area(actor, area: Area) -> None:
    """An area in use within the actor's, at the level of a district, street or community."""
    ids = visible_area_ids(actor)
    if area.level not in AREA_LEVELS or area.is_retired or (ids is not None and area.pk not in ids):
        raise ValidationError({"area": _("Choose a district, street or community of yours.")})


def _area_locked(area: Area) -> Area:
    """The area of a record being registered, read again under a lock: the same form sent
    twice at once waits here for the first, whose name the constraint then refuses in words
    (not the database, as a server error); a merge of the area running meanwhile waits for
    the write and moves it, or ends first and the write is refused as in a retired area."""
    return Area.objects.select_for_update().get(pk=area.pk)


def _audit(actor, obj, action, fields, request, **detail) -> None:
    # Field names only: the values (phones among them) stay out of the log.
    audit_record(
        actor=actor, action=action, obj=obj, request=request,
        detail={"fields": sorted(f for f in fields if not f.endswith("_masked")), **detail},
    )  # fmt: skip


def _changed(obj, data: dict) -> list[str]:
    changed = [name for name, value in data.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, data[name])
    return changed


def _with_phone(data: dict, field: str) -> dict:
    """`data` with its phone in the stored form (digits) and its masked copy beside it."""
    if field not in data:
        return data
    try:
        phone = normalize_phone(data[field])
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    return {**data, field: phone, f"{field}_masked": mask_phone(phone)}


def _named(data: dict) -> dict:
    if "name" in data:
        data["name"] = plain_name(data["name"])
    return data


def _organisation_data(actor, data: dict, organisation: Organisation | None) -> dict:
    data = _named(_with_phone(dict(data), "contact_phone"))
    if "credit_code" in data:
        data["credit_code"] = (data["credit_code"] or "").strip().upper()
    parent = data.get("parent")
    if parent is not None:
        # A service group kept as it was stays, even the street's above the actor's community.
        new_parent = organisation is None or parent.pk != organisation.parent_id
        if new_parent and not Organisation.objects.visible_to(actor).filter(pk=parent.pk).exists():
            raise ValidationError({"parent": _("Choose an organisation of yours.")})
        if parent.kind != Organisation.Kind.SERVICE_GROUP or parent.parent_id is not None:
            raise ValidationError({"parent": _("Only a service group has sub-groups.")})
        if organisation is not None and parent.pk == organisation.pk:
            raise ValidationError({"parent": _("Only a service group has sub-groups.")})
    contact = data.get("contact_member")
    # A contact kept as it was stays, even one who moved out of the actor's area.
    new_contact = contact is not None and (
        organisation is None or contact.pk != organisation.contact_member_id
    )
    if new_contact and not Member.objects.visible_to(actor).filter(pk=contact.pk).exists():
        raise ValidationError({"contact_member": _("Choose a member of yours.")})
    return data


def organisation_create(*, actor, data: dict, request=None) -> Organisation:
    """Register an organisation of an area within the actor's."""
    if not actor.has_perm("organisations.add_organisation"):
        raise PermissionDenied
    data = _organisation_data(actor, data, None)
    with transaction.atomic():
        organisation = Organisation(**data)
        _check_area(actor, _area_locked(organisation.area))
        organisation.full_clean()
        organisation.save()
        _audit(actor, organisation, AuditEvent.Action.CREATE, data, request)
    return organisation


def organisation_update(*, actor, organisation: Organisation, data: dict, request=None):
    """Change an organisation the actor may edit; moving it keeps it within their area."""
    if not Organisation.objects.editable_by(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        # As stored: a form may have changed the instance it was given.
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        data = _organisation_data(actor, data, organisation)
        changed = _changed(organisation, data)
        if "area" in changed:
            _check_area(actor, organisation.area)
        if organisation.parent_id and organisation.children.exists():
            raise ValidationError(
                {"parent": _("A service group with sub-groups cannot be a sub-group itself.")}
            )
        organisation.full_clean()
        organisation.save()
        if changed:
            _audit(actor, organisation, AuditEvent.Action.UPDATE, changed, request)
    return organisation


def _check_not_future(day: datetime.date | None, field: str) -> None:
    # A membership is current until its day of leaving is set (`MembershipQuerySet.current`):
    # one ending on a day to come would leave now, one joining then would belong already.
    if day is not None and day > timezone.localdate():
        raise ValidationError({field: _("The day is in the future.")})


def membership_add(
    *, actor, organisation: Organisation, member: Member, role: str, joined_on, request=None
) -> Membership:
    """Record that a member the actor sees joined an organisation the actor may edit."""
    if not (
        actor.has_perm("organisations.add_membership")
        and Organisation.objects.editable_by(actor).filter(pk=organisation.pk).exists()
    ):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise ValidationError({"member": _("Choose a member of yours.")})
    _check_not_future(joined_on, "joined_on")
    with transaction.atomic():
        # Locked: the same member added twice at once (a form sent twice) waits here for the
        # first, which its constraint then names, instead of failing on the database's.
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        membership = Membership(
            organisation=organisation, member=member, role=(role or "").strip(),
            joined_on=joined_on,
        )  # fmt: skip
        membership.full_clean()
        membership.save()
        _audit(
            actor, membership, AuditEvent.Action.CREATE, ["member", "role", "joined_on"],
            request, organisation=organisation.pk, member=member.pk,
        )  # fmt: skip
    return membership


def membership_end(
    *, actor, membership: Membership, left_on: datetime.date, request=None
) -> Membership:
    """End a membership on `left_on`: the row stays, with its dates, as the history."""
    if not Membership.objects.editable_by(actor).filter(pk=membership.pk).exists():
        raise PermissionDenied
    # Only of a member the actor sees: the organisation's page names no other (a street's
    # group has members in every community), as only such a member may be added.
    if not Member.objects.visible_to(actor).filter(pk=membership.member_id).exists():
        raise PermissionDenied
    _check_not_future(left_on, "left_on")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.left_on is not None:
            raise ValidationError(_("This membership has already ended."))
        membership.left_on = left_on
        membership.full_clean()
        membership.save(update_fields=["left_on"])
        _audit(
            actor, membership, AuditEvent.Action.UPDATE, ["left_on"], request,
            organisation=membership.organisation_id, member=membership.member_id,
        )  # fmt: skip
    return membership


def place_create(*, actor, data: dict, request=None) -> Place:
    """Register a place of an area within the actor's."""
    if not actor.has_perm("organisations.add_place"):
        raise PermissionDenied
    data = _named(_with_phone(dict(data), "manager_phone"))
    with transaction.atomic():
        place = Place(**data)
        _check_area(actor, _area_locked(place.area))
        place.full_clean()
        place.save()
        _audit(actor, place, AuditEvent.Action.CREATE, data, request)
    return place


def place_update(*, actor, place: Place, data: dict, request=None) -> Place:
    """Change a place the actor may edit; moving it keeps it within their area."""
    if not Place.objects.editable_by(actor).filter(pk=place.pk).exists():
        raise PermissionDenied
    data = _named(_with_phone(dict(data), "manager_phone"))
    with transaction.atomic():
        place = Place.objects.select_for_update().get(pk=place.pk)
        changed = _changed(place, data)
        if "area" in changed:
            _check_area(actor, place.area)
        place.full_clean()
        place.save()
        if changed:
            _audit(actor, place, AuditEvent.Action.UPDATE, changed, request)
    return place


# -- Areas merged (撤并) or split (拆分): organisations and places follow their area ---------


def area_organisations_count(area: Area) -> int:
    return Organisation.objects.filter(area=area).count()


def area_organisations_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    area_records_repoint(
        actor=actor, source=source, target=target, records={"organisations": Organisation},
        request=request, change=change, distinct_names=True,
    )  # fmt: skip


def area_places_count(area: Area) -> int:
    return Place.objects.filter(area=area).count()


def area_places_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    area_records_repoint(
        actor=actor, source=source, target=target, records={"places": Place}, request=request,
        change=change, distinct_names=True,
    )  # fmt: skip


# -- Two records of one person merged (members.services.member_merge) ---------------------
#
# Registered as a `MemberMover`: the merged record's memberships become the kept record's.
# Where both are in one organisation now, the person is in it once (the one-open-spell rule):
# the kept record's spell stays, with its role, from the earlier of the two days of joining,
# and the merged record's goes; an undo recreates it and gives the kept spell its own day
# back. Ended spells move as they are: they are history.


def member_memberships_count(member: Member) -> int:
    return (
        Membership.objects.filter(member=member).count()
        + Organisation.objects.filter(contact_member=member).count()
    )


def member_memberships_move(*, keep: Member, merged: Member) -> dict:
    kept = {row.organisation_id: row for row in Membership.objects.current().filter(member=keep)}
    dropped = []
    for row in Membership.objects.current().filter(member=merged, organisation_id__in=kept):
        into = kept[row.organisation_id]
        dropped.append({
            "organisation": row.organisation_id, "role": row.role,
            "joined_on": row.joined_on.isoformat(), "into": into.pk,
            "into_joined_on": into.joined_on.isoformat(),
        })  # fmt: skip
        if row.joined_on < into.joined_on:
            into.joined_on = row.joined_on
            into.save(update_fields=["joined_on"])
        row.delete()
    moved = list(Membership.objects.filter(member=merged).values_list("pk", flat=True))
    Membership.objects.filter(pk__in=moved).update(member=keep)
    # The organisations she is the contact of name the kept record.
    contacts = list(Organisation.objects.filter(contact_member=merged).values_list("pk", flat=True))
    Organisation.objects.filter(pk__in=contacts).update(contact_member=keep)
    return {"moved": moved, "dropped": dropped, "contacts": contacts}


def member_memberships_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    Membership.objects.filter(pk__in=moved["moved"], member=keep).update(member=merged)
    Organisation.objects.filter(pk__in=moved.get("contacts", []), contact_member=keep).update(
        contact_member=merged
    )
    for row in moved["dropped"]:
        joined_on = datetime.date.fromisoformat(row["joined_on"])
        into_joined_on = datetime.date.fromisoformat(row["into_joined_on"])
        # The kept spell's own day back, unless it was changed or ended before it since.
        Membership.objects.filter(pk=row["into"], member=keep, joined_on=joined_on).exclude(
            left_on__lt=into_joined_on
        ).update(joined_on=into_joined_on)
        Membership.objects.create(
            member=merged, organisation_id=row["organisation"], role=row["role"],
            joined_on=joined_on,
        )  # fmt: skip
