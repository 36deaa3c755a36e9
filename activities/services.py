"""Writes on activities. Views, admin and commands call these and nothing else.

Each write checks the actor's scope, validates, saves and records its history entry and
audit event in one transaction, as `members.services` does for members.
"""

import datetime
import decimal
from collections import Counter

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest, TruncDate, TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from members.models import Member, MemberTally
from members.services import tally_apply, tally_change
from organisations.models import Organisation, Place
from tongzhan.attachments import attachment_store, files_kept_only_if_committed, uploads_checked
from tongzhan.audit import audit_record
from tongzhan.dates import local_midnight
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import within_area
from tongzhan.services import area_move_audit

from .models import (
    Activity,
    ActivityChange,
    ActivityFile,
    ActivityTally,
    ActivityType,
    ChangeRecord,
    Need,
    NeedChange,
    Participation,
    Visit,
    VisitChange,
)

# The fields an activity's history shows, in order.
HISTORY_FIELDS = (
    "type",
    "title",
    "starts_at",
    "ends_at",
    "venue",
    "place",
    "area",
    "organiser",
    "other_attendees",
    "people_served",
    "funds",
    "funds_source",
    "summary",
)


def activity_create(
    *, actor, data: dict, participants=(), partners=(), uploads=(), request=None
) -> Activity:
    """Record an activity organised by an area in the actor's scope, with its photos and PDFs,
    held at a place (阵地) and with partner organisations the actor may see.

    A refused file refuses the whole activity: nothing is written and no file is kept.
    """
    if not actor.has_perm("activities.add_activity"):
        raise PermissionDenied
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        activity = Activity(created_by=actor, **data)
        _check_area(actor, activity.area)
        _check_type_in_use(activity, None)
        _check_venue(actor, activity.venue, kept_id=None)
        members = _members_in_scope(actor, participants)
        organisations = _partners_in_scope(actor, partners, kept=())
        activity.full_clean()
        activity.save()
        activity.participants.set(members)
        activity.partners.set(organisations)
        names = [
            attachment_store(
                ActivityFile, *pair, actor=actor, stored=stored, activity=activity
            ).name
            for pair in checked
        ]
        _record(
            actor=actor,
            activity=activity,
            action=ActivityChange.Action.CREATE,
            changes=_changes({}, snapshot(activity)) + _files_added(names),
            request=request,
        )
        contacts_refresh([member.pk for member in members])
        activity_tally_refresh([tally_key(activity)])
    return activity


def activity_update(
    *,
    actor,
    activity: Activity,
    data: dict,
    participants=None,
    partners=None,
    uploads=(),
    request=None,
) -> Activity:
    """Change an activity and add photos or PDFs to it; only what really changed enters the
    history. A refused file refuses the whole change."""
    if not Activity.objects.editable_by(actor).filter(pk=activity.pk).exists():
        raise PermissionDenied
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        stored_activity = Activity.objects.get(pk=activity.pk)
        before = snapshot(stored_activity)
        took_part = set(activity.participants.values_list("pk", flat=True))
        for name, value in data.items():
            setattr(activity, name, value)
        _check_area(actor, activity.area)
        _check_type_in_use(activity, stored_activity.type_id)
        _check_venue(actor, activity.venue, kept_id=stored_activity.venue_id)
        if partners is not None:
            partners = _partners_kept(actor, stored_activity, partners)
        activity.full_clean()
        activity.save()
        if partners is not None:
            activity.partners.set(partners)
        if participants is not None:
            # The editor adds or removes only the participants it may see: those from areas
            # it cannot see (who moved away since, or came from a joint activity's other
            # areas) are not on its form, so their absence removes nobody.
            hidden = Member.objects.filter(pk__in=took_part).exclude(
                pk__in=Member.objects.visible_to(actor).values("pk")
            )
            activity.participants.set([*_members_in_scope(actor, participants), *hidden])
        names = [
            attachment_store(
                ActivityFile, *pair, actor=actor, stored=stored, activity=activity
            ).name
            for pair in checked
        ]
        changes = _changes(before, snapshot(activity)) + _files_added(names)
        if changes:
            _record(
                actor=actor,
                activity=activity,
                action=ActivityChange.Action.UPDATE,
                changes=changes,
                request=request,
            )
        took_part.update(activity.participants.values_list("pk", flat=True))
        contacts_refresh(took_part)
        activity_tally_refresh([tally_key(stored_activity), tally_key(activity)])
    return activity


def _check_type_in_use(activity: Activity, kept_type_id) -> None:
    """A type out of use (停用) is given to no activity; one recorded with it keeps it."""
    if activity.type_id and activity.type_id != kept_type_id and not activity.type.is_active:
        raise ValidationError(
            {"type": _("%(type)s is no longer in use: choose another type.")
             % {"type": activity.type.name}}
        )  # fmt: skip


def tally_key(activity: Activity) -> tuple[int, datetime.date]:
    """The organising area and month an activity is counted under."""
    return activity.area_id, timezone.localtime(activity.starts_at).date().replace(day=1)


def activity_tally_refresh(keys=None) -> None:
    """Recount the dashboards' activity tallies of these (area id, month) pairs; None: all.

    The areas are locked first, as `members.services.tally_refresh` does for communities.
    """
    with transaction.atomic():
        if keys is None:
            ActivityTally.objects.all().delete()
        else:
            keys = sorted(set(keys))
            if not keys:
                return  # nothing to recount (an empty filter would count everything)
            areas = sorted({area for area, _month in keys})
            list(Area.objects.select_for_update().filter(pk__in=areas).order_by("pk").values("pk"))
            for area, month in keys:
                ActivityTally.objects.filter(area_id=area, month=month).delete()
        ActivityTally.objects.bulk_create(
            [
                ActivityTally(
                    area_id=area, month=month, type_id=kind, count=n, people_served=served
                )
                for (area, month, kind), (n, served) in activity_tally_counted(keys).items()
            ],
            batch_size=5000,
        )


def activity_tally_counted(keys=None) -> dict:
    """What the activity tallies of these (area id, month) pairs (None: all) should hold,
    counted from the activities: {(area id, month, type id): (activities, people served)}."""
    if keys is None:
        counted = Activity.objects.all()
    elif not keys:
        return {}
    else:
        within = Q()
        for area, month in keys:
            following = (month + datetime.timedelta(days=32)).replace(day=1)
            within |= Q(
                area_id=area,
                starts_at__gte=local_midnight(month),
                starts_at__lt=local_midnight(following),
            )
        counted = Activity.objects.filter(within)
    rows = (
        counted.annotate(month=TruncMonth("starts_at"))
        .values_list("area_id", "month", "type_id")
        .annotate(n=Count("id"), served=Sum("people_served"))
        .order_by()
    )
    return {
        (
            area,
            timezone.localtime(month).date() if isinstance(month, datetime.datetime) else month,
            kind,
        ): (n, served or 0)
        for area, month, kind, n, served in rows
    }


def activity_tally_stored() -> dict:
    """What the activity tallies hold, as `activity_tally_counted` gives it."""
    return {
        (area, month, kind): (n, served)
        for area, month, kind, n, served in ActivityTally.objects.values_list(
            "area_id", "month", "type_id", "count", "people_served"
        )
    }


def contacts_refresh(member_ids=None) -> None:
    """Set each member's last contact to the day of their latest activity or visit.

    Called by every write that adds, moves or removes an activity's participants or a visit's
    members; the dashboards' "not contacted" tally of their communities follows. None: every
    member (`manage.py tally_rebuild`).
    """
    if member_ids is not None:
        member_ids = list(member_ids)
        if not member_ids:
            return
    members = Member.objects.filter(pk__in=member_ids) if member_ids else Member.objects.all()
    if member_ids is not None:
        # Locked until commit: a concurrent write on the same members waits and then
        # reads what this one stored, so neither counts a contact twice.
        before = _last_contacts(members.select_for_update())
    members.update(last_contact_on=_last_contact_counted())
    if member_ids is not None:
        tally_apply(tally_change(before, _last_contacts(members)))


def _last_contact_counted():
    """A member's last contact as her activities and visits have it (in a query on members)."""
    took_part = (
        Participation.objects.filter(member=OuterRef("pk"))
        .annotate(day=TruncDate("activity__starts_at"))
        .order_by("-day")
        .values("day")[:1]
    )
    visited = (
        Visit.members.through.objects.filter(member=OuterRef("pk"))
        .order_by("-visit__date")
        .values("visit__date")[:1]
    )
    activity_day, visit_day = Subquery(took_part), Subquery(visited)
    # Greatest is NULL on SQLite when either side is: each side falls back on the other.
    return Greatest(Coalesce(activity_day, visit_day), Coalesce(visit_day, activity_day))


def contacts_set_right(member_ids) -> None:
    """Set these members' last contact from their activities and visits, leaving the tallies
    to be recounted (they counted what was stored: `dashboards.tallies`)."""
    Member.objects.filter(pk__in=list(member_ids)).update(last_contact_on=_last_contact_counted())


def contacts_stale(*, chunk: int = 20_000) -> list[int]:
    """The members whose stored last contact is not what their activities and visits say
    (written around the services).

    Counted a range of member ids at a time with grouped queries, not a subquery per member
    (30 times faster): 100,000 members in about 2 s, in the memory of one range.
    """
    stale = []
    bounds = Member.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return stale
    for low in range(bounds["low"], bounds["high"] + 1, chunk):
        ids = {"member_id__gte": low, "member_id__lt": low + chunk}
        counted = dict(
            Participation.objects.filter(**ids)
            .values_list("member_id")
            .annotate(day=Max(TruncDate("activity__starts_at")))
            .order_by()
        )
        for member, day in (
            Visit.members.through.objects.filter(**ids)
            .values_list("member_id")
            .annotate(day=Max("visit__date"))
            .order_by()
        ):
            counted[member] = max(day, counted.get(member, day))
        stale += [
            member
            for member, stored in Member.objects.filter(pk__gte=low, pk__lt=low + chunk)
            .values_list("pk", "last_contact_on")
            .order_by("pk")
            if stored != counted.get(member)
        ]
    return stale


def _last_contacts(members) -> Counter:
    """The "last contact" tallies these members count in (registered members only)."""
    return Counter(
        (community, MemberTally.Dimension.LAST_CONTACT, f"{day:%Y-%m}" if day else "")
        for community, day in members.filter(
            status=Member.Status.ACTIVE, merged_into__isnull=True
        ).values_list("community_id", "last_contact_on")
    )


def snapshot(activity: Activity) -> dict[str, str]:
    """The activity as its history shows it: each field as a person reads it."""
    values = {name: _display(getattr(activity, name)) for name in HISTORY_FIELDS}
    # The same amount reads the same whether it came from the form or the database.
    values["funds"] = f"{decimal.Decimal(activity.funds or 0):.2f}"
    # Ids, not names: a joint activity's participants come from areas not every viewer of its
    # history may see, so the page names each viewer's own and counts the others.
    values["participants"] = sorted(member.pk for member in activity.participants.all())
    # Names, as the page shows them: an organisation is no person whose name needs hiding.
    values["partners"] = "、".join(sorted(str(item) for item in activity.partners.all()))
    return values


def _display(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _changes(before: dict, after: dict) -> list[dict]:
    return [
        {"field": name, "old": before.get(name, ""), "new": value}
        for name, value in after.items()
        if (before.get(name) or "") != (value or "")
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


def _check_venue(actor, venue: Place | None, *, kept_id: int | None) -> None:
    """A new place must be one of the actor's places in use; the one the activity was
    already held at stays, even if put out of use since."""
    if venue is None or venue.pk == kept_id:
        return
    if not Place.objects.visible_to(actor).filter(pk=venue.pk, is_active=True).exists():
        raise ValidationError({"venue": _("Choose a place of your area that is in use.")})


def _partners_in_scope(actor, partners, *, kept) -> list[Organisation]:
    """The partner organisations; those newly chosen must be the actor's and in use (those
    the activity already had stay)."""
    partners = list(partners)
    new = {item.pk for item in partners} - set(kept)
    allowed = set(
        Organisation.objects.visible_to(actor)
        .filter(pk__in=new, is_active=True)
        .values_list("pk", flat=True)
    )
    if new - allowed:
        raise ValidationError(
            {"partners": _("Choose partner organisations of your area that are in use.")}
        )
    return partners


def _partners_kept(actor, activity: Activity, partners) -> list[Organisation]:
    """An edited activity's partners: those chosen, checked as new ones are, and those the
    editor cannot see. As with participants, those are not on its form, so their absence
    removes none."""
    had = set(activity.partners.values_list("pk", flat=True))
    hidden = Organisation.objects.filter(pk__in=had).exclude(
        pk__in=Organisation.objects.visible_to(actor).values("pk")
    )
    return [*_partners_in_scope(actor, partners, kept=had), *hidden]


AUDIT_ACTIONS = {
    ChangeRecord.Action.CREATE: AuditEvent.Action.CREATE,
    ChangeRecord.Action.UPDATE: AuditEvent.Action.UPDATE,
    ChangeRecord.Action.STATUS: AuditEvent.Action.STATUS,
}


def _record(*, actor, activity, action, changes, request=None) -> None:
    ActivityChange.objects.create(activity=activity, actor=actor, action=action, changes=changes)
    _audit(actor, activity, action, changes, request)


def _audit(actor, obj, action, changes, request) -> None:
    audit_record(
        actor=actor,
        action=AUDIT_ACTIONS[action],
        obj=obj,
        request=request,
        detail={"fields": [change["field"] for change in changes]},
    )


def activity_file_add(*, actor, activity: Activity, upload, request=None) -> ActivityFile:
    """Attach a photo or PDF to an activity the actor may edit; anything else is refused."""
    if not Activity.objects.editable_by(actor).filter(pk=activity.pk).exists():
        raise PermissionDenied
    [(upload, file_type)] = uploads_checked([upload])
    with files_kept_only_if_committed() as stored, transaction.atomic():
        attached = attachment_store(
            ActivityFile, upload, file_type, actor=actor, stored=stored, activity=activity
        )
        changes = _files_added([attached.name])
        ActivityChange.objects.create(
            activity=activity, actor=actor, action=ChangeRecord.Action.UPDATE, changes=changes
        )
        _audit(actor, activity, ChangeRecord.Action.UPDATE, changes, request)
    return attached


def _files_added(names) -> list[dict]:
    return [{"field": "files", "old": "", "new": name} for name in names]


def activity_file_remove(*, actor, attached: ActivityFile, request=None) -> None:
    """Take a photo or PDF off an activity the actor may edit; the stored file goes with it."""
    activity = attached.activity
    if not Activity.objects.editable_by(actor).filter(pk=activity.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        stored, storage = attached.file.name, attached.file.storage
        attached.delete()
        changes = [{"field": "files", "old": attached.name, "new": ""}]
        _record(
            actor=actor,
            activity=activity,
            action=ChangeRecord.Action.UPDATE,
            changes=changes,
            request=request,
        )
        # Only once the removal is committed: a rollback must not leave a row without its file.
        transaction.on_commit(lambda: storage.delete(stored))


# -- Visits -----------------------------------------------------------------------------------

VISIT_FIELDS = ("date", "way", "staff", "situation", "opinions")


def visit_create(*, actor, data: dict, members, need: dict | None = None, request=None) -> Visit:
    """Record a visit to members of one community in the actor's scope.

    `need`, the fields of a need the (one) member raised on it, is recorded with the visit.
    """
    if not actor.has_perm("activities.add_visit"):
        raise PermissionDenied
    with transaction.atomic():
        visit = Visit(created_by=actor, **data)
        visited = _visited(actor, visit, members)
        _check_visit_date(visit)
        visit.full_clean()
        visit.save()
        visit.members.set(visited)
        contacts_refresh([member.pk for member in visited])
        changes = _changes({}, visit_snapshot(visit))
        VisitChange.objects.create(
            visit=visit, actor=actor, action=ChangeRecord.Action.CREATE, changes=changes
        )
        _audit(actor, visit, ChangeRecord.Action.CREATE, changes, request)
        if need:
            if len(visited) != 1:
                raise ValidationError({"members": _("A need is raised by one member.")})
            need_create(actor=actor, member=visited[0], visit=visit, data=need, request=request)
    return visit


def visit_update(*, actor, visit: Visit, data: dict, members=None, request=None) -> Visit:
    if not Visit.objects.editable_by(actor).filter(pk=visit.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        stored = Visit.objects.get(pk=visit.pk)
        before = visit_snapshot(stored)
        was_visited = set(visit.members.values_list("pk", flat=True))
        for name, value in data.items():
            setattr(visit, name, value)
        visited = _visited(actor, visit, members) if members is not None else None
        _check_visit_date(visit)
        visit.full_clean()
        visit.save()
        if visited is not None:
            visit.members.set(visited)
        if visit.date != stored.date:
            _needs_follow_visit(actor, visit, stored.date, request)
        contacts_refresh(was_visited | set(visit.members.values_list("pk", flat=True)))
        changes = _changes(before, visit_snapshot(visit))
        if changes:
            VisitChange.objects.create(
                visit=visit, actor=actor, action=ChangeRecord.Action.UPDATE, changes=changes
            )
            _audit(actor, visit, ChangeRecord.Action.UPDATE, changes, request)
    return visit


def _check_visit_date(visit: Visit) -> None:
    if visit.date and visit.date > timezone.localdate():
        raise ValidationError({"date": _("The visit's date cannot be in the future.")})


def _needs_follow_visit(actor, visit: Visit, was: datetime.date, request) -> None:
    """The needs raised on a visit whose date was corrected were raised on its new day; a due
    date left at its default moves with it."""
    default_due = datetime.timedelta(days=settings.NEED_DUE_DAYS)
    for need in visit.needs.all():
        data = {"raised_on": visit.date}
        if need.due_date == was + default_due:
            data["due_date"] = visit.date + default_due
        _need_change(actor, need, data, ChangeRecord.Action.UPDATE, request)


def visit_snapshot(visit: Visit) -> dict[str, str]:
    with translation.override(settings.LANGUAGE_CODE):
        values = {name: _display(_choice(visit, name)) for name in VISIT_FIELDS}
    # Ids, as an activity's participants: whoever reads the history sees the names in scope.
    values["members"] = sorted(member.pk for member in visit.members.all())
    return values


def _visited(actor, visit: Visit, members) -> list[Member]:
    """The members visited: in the actor's scope and all of the visit's community."""
    _check_area(actor, visit.community)
    members = _members_in_scope(actor, members)
    if not members:
        raise ValidationError({"members": _("Choose at least one member.")})
    if any(member.community_id != visit.community_id for member in members):
        raise ValidationError(
            {"members": _("Everyone visited must belong to the visit's community.")}
        )
    return members


# -- Needs ------------------------------------------------------------------------------------

NEED_FIELDS = (
    "kind",
    "description",
    "raised_on",
    "handler",
    "due_date",
    "status",
    "resolution",
    "closed_on",
    "satisfaction",
)


def need_create(*, actor, member: Member, data: dict, visit: Visit | None = None, request=None):
    """Record a need a member raised, possibly on a visit; it starts as 待办.

    It was raised on the visit's day, else on the day given (today when none). Left without
    a handler or due date, it is handled by the visitor (or whoever records it) and due
    NEED_DUE_DAYS after it was raised, so an unattended need becomes overdue.
    """
    if not actor.has_perm("activities.add_need"):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    if visit is not None and not visit.members.filter(pk=member.pk).exists():
        raise ValidationError({"visit": _("The member was not on this visit.")})
    with transaction.atomic():
        need = Need(
            created_by=actor,
            member=member,
            community_id=member.community_id,
            visit=visit,
            **data,
        )
        need.status = Need.Status.OPEN
        if visit is not None:
            need.raised_on = visit.date
        elif not data.get("raised_on"):
            need.raised_on = timezone.localdate()
        if not need.handler.strip():
            need.handler = visit.staff if visit is not None else _name(actor)
        if need.due_date is None:
            need.due_date = need.raised_on + datetime.timedelta(days=settings.NEED_DUE_DAYS)
        _check_need_dates(need, dated=("raised_on", "due_date"))
        need.full_clean()
        need.save()
        changes = _changes({}, need_snapshot(need))
        NeedChange.objects.create(
            need=need, actor=actor, action=ChangeRecord.Action.CREATE, changes=changes
        )
        _audit(actor, need, ChangeRecord.Action.CREATE, changes, request)
    return need


def need_update(*, actor, need: Need, data: dict, request=None) -> Need:
    """Change what a need is about (not its status: see `need_set_status`)."""
    if "status" in data:
        raise ValidationError({"status": _("Change the status with its own action.")})
    return _need_change(actor, need, data, ChangeRecord.Action.UPDATE, request)


def need_set_status(
    *, actor, need: Need, status: str, resolution="", closed_on=None, satisfaction="",
    request=None,
) -> Need:  # fmt: skip
    """Move a need along 待办 → 办理中 → 已办结 (or 无法办理, with the reason).

    Whoever holds it does so (`NeedQuerySet.editable_by`); a need referred up is accepted
    before it is handled there (`need_accept`)."""
    if not Need.objects.editable_by(actor).filter(pk=need.pk).exists():
        raise PermissionDenied
    if need.awaits_acceptance:
        raise ValidationError(
            {"status": _("The need awaits acceptance by %(area)s.") % {"area": need.held_by}}
        )
    if status not in Need.NEXT[need.status]:
        raise ValidationError(
            {
                "status": _("A need that is %(current)s cannot become %(new)s.")
                % {
                    "current": need.get_status_display(),
                    "new": Need.Status(status).label,
                }
            }
        )
    data = {"status": status}
    # 办理情况: kept with the change whatever the status (the need keeps the closing one).
    note = (resolution or "").strip()
    if status in (Need.Status.RESOLVED, Need.Status.IMPOSSIBLE):
        data.update(resolution=resolution, closed_on=closed_on, satisfaction=satisfaction)
        # Closed by the community keeping the member now: the resolved need counts as its work.
        data["community_id"] = Member.objects.values_list("community_id", flat=True).get(
            pk=need.member_id
        )
    return _need_change(actor, need, data, ChangeRecord.Action.STATUS, request, note=note)


def need_snapshot(need: Need) -> dict[str, str]:
    # In the registry's language whatever the editor's, as members' history is.
    with translation.override(settings.LANGUAGE_CODE):
        return {name: _display(_choice(need, name)) for name in NEED_FIELDS}


def _need_change(actor, need: Need, data: dict, action, request, note: str = "") -> Need:
    with transaction.atomic():
        # Locked, and read and checked after the lock: a referral, acceptance, return or
        # recall committed meanwhile (they lock the need too) is kept, not saved over with
        # where the need was held before.
        stored = Need.objects.select_for_update(of=("self",)).get(pk=need.pk)
        if not Need.objects.editable_by(actor).filter(pk=need.pk).exists():
            raise PermissionDenied
        # Changed on a fresh copy: a refused change leaves the caller's need as it was.
        changed = Need.objects.get(pk=need.pk)
        before = need_snapshot(stored)
        for name, value in data.items():
            setattr(changed, name, value)
        if changed.visit_id and changed.raised_on != stored.raised_on:
            visit_day = Visit.objects.values_list("date", flat=True).get(pk=changed.visit_id)
            if changed.raised_on != visit_day:
                raise ValidationError(
                    {"raised_on": _("A need raised on a visit was raised on the visit's day.")}
                )
        # Only the dates being written are checked: closing an old need is not refused for
        # a due date it was given before these checks.
        _check_need_dates(changed, dated=[name for name in data if name != "status"])
        changed.full_clean()
        changed.save()
        for field in Need._meta.concrete_fields:
            setattr(need, field.attname, getattr(changed, field.attname))
        changes = _changes(before, need_snapshot(changed))
        if changes:
            NeedChange.objects.create(
                need=changed, actor=actor, action=action, changes=changes, note=note
            )
            _audit(actor, changed, action, changes, request)
    return need


# -- Needs referred up (上报) ---------------------------------------------------------------
#
# A need its community cannot solve goes to its street or the district with a note; the
# receiving level accepts it (受理) and handles it with `need_set_status`, or returns it
# (退回) with the reason to where it came from. `Need.held_by` says where it is now; the
# need's history (`NeedChange` with its areas) shows the whole path.


def _holder(need: Need) -> Area:
    """The area holding the need now: the one it was referred to, else its member's
    community (the community that follows it up, `NeedQuerySet`)."""
    if need.held_by_id is not None:
        return need.held_by
    return Member.objects.select_related("community").get(pk=need.member_id).community


def _path_step(actor, need: Need, action, *, from_area, to_area, note: str, request) -> None:
    NeedChange.objects.create(
        need=need, actor=actor, action=action, note=note, from_area=from_area, to_area=to_area
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.STATUS,
        obj=need,
        request=request,
        detail={"referral": str(action), "from": from_area.code, "to": to_area.code},
    )


def member_needs_follow_transfer(*, actor, member, from_community, to_community, request):
    """A member's open need referred to an area above her old community that is not above
    her new one (her old street, when she moved to another street) goes back to her new
    community, which may refer it to its own street: the old street no longer sees her, so
    nobody could act on it there. One held by a district still above her stays there."""
    for need in (
        Need.objects.select_for_update(of=("self",))
        .filter(member=member, held_by__isnull=False, status__in=Need.OPEN)
        .select_related("held_by")
    ):
        if to_community.is_within(need.held_by):
            continue
        held_by = need.held_by
        need.held_by, need.referral = None, Need.Referral.RETURNED
        need.save(update_fields=["held_by", "referral", "updated_at"])
        NeedChange.objects.create(
            need=need,
            actor=actor if actor is not None and actor.pk else None,
            action=NeedChange.Action.RETURN,
            from_area=held_by,
            to_area=to_community,
            note=_("The member moved to %(community)s.") % {"community": to_community.name},
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATUS,
            obj=need,
            request=request,
            detail={"referral": "return", "from": held_by.code, "to": to_community.code},
        )


def _locked_need(actor, need: Need) -> Need:
    if not actor.has_perm("activities.change_need"):
        raise PermissionDenied
    if not Need.objects.visible_to(actor).filter(pk=need.pk).exists():
        raise PermissionDenied
    return Need.objects.select_for_update(of=("self",)).select_related("held_by").get(pk=need.pk)


def _copy_back(need: Need, stored: Need) -> Need:
    for field in Need._meta.concrete_fields:
        setattr(need, field.attname, getattr(stored, field.attname))
    return need


def need_refer(*, actor, need: Need, to_area: Area, note: str, request=None) -> Need:
    """Refer an open need up (上报) from the area holding it, the actor's own, to an area
    above it (a community's street or district, a street's district), with a note saying
    why it cannot be solved where it is."""
    with transaction.atomic():
        stored = _locked_need(actor, need)
        if stored.awaits_acceptance:
            raise ValidationError(_("The need already awaits acceptance by %(area)s.") % {
                "area": stored.held_by
            })  # fmt: skip
        holder = _holder(stored)
        if actor.area_id != holder.pk:
            raise PermissionDenied
        if not stored.is_open:
            raise ValidationError(_("Only an open need can be referred up."))
        if (
            to_area is None
            or to_area.pk == holder.pk
            or to_area.is_retired
            or not holder.is_within(to_area)
        ):
            raise ValidationError(
                {"to_area": _("Refer the need to an area above %(area)s.") % {"area": holder}}
            )
        if not (note or "").strip():
            raise ValidationError({"note": _("Say why the need is referred up.")})
        stored.held_by, stored.referral = to_area, Need.Referral.REFERRED
        stored.save(update_fields=["held_by", "referral", "updated_at"])
        _path_step(
            actor, stored, NeedChange.Action.REFER,
            from_area=holder, to_area=to_area, note=note.strip(), request=request,
        )  # fmt: skip
    return _copy_back(need, stored)


def need_accept(*, actor, need: Need, note: str = "", request=None) -> Need:
    """The area a need was referred to accepts it (受理): it handles it from now on."""
    with transaction.atomic():
        stored = _locked_need(actor, need)
        if not stored.awaits_acceptance:
            raise ValidationError(_("The need does not await acceptance."))
        if actor.area_id != stored.held_by_id:
            raise PermissionDenied
        stored.referral = Need.Referral.ACCEPTED
        # Who handles it now is someone of the accepting area, not the community's worker.
        stored.handler = (actor.get_full_name() or actor.get_username())[:100]
        stored.save(update_fields=["referral", "handler", "updated_at"])
        _path_step(
            actor, stored, NeedChange.Action.ACCEPT,
            from_area=stored.held_by, to_area=stored.held_by, note=(note or "").strip(),
            request=request,
        )  # fmt: skip
    return _copy_back(need, stored)


def _referred_from(need: Need):
    """The area that referred the need to where it is held now (its last referral there);
    once that area was merged away (撤并), the area that took it over, with its accounts and
    members."""
    came_from = (
        NeedChange.objects.filter(need=need, action=NeedChange.Action.REFER, to_area=need.held_by)
        .select_related("from_area")
        .order_by("-at", "-id")
        .first()
    )
    if came_from is None:
        return None
    area = came_from.from_area
    while area.merged_into_id is not None:
        area = area.merged_into
    return area


def need_may_recall(user, need: Need) -> bool:
    """Whether the user's area referred the need, which waits for acceptance still."""
    if not (need.awaits_acceptance and user.has_perm("activities.change_need")):
        return False
    referred_from = _referred_from(need)
    return referred_from is not None and user.area_id == referred_from.pk


def need_recall(*, actor, need: Need, note: str = "", request=None) -> Need:
    """The area that referred a need takes it back (撤回) before the area above accepts it:
    it holds the need again as before (a community follows it up, a street handles it)."""
    with transaction.atomic():
        stored = _locked_need(actor, need)
        if not stored.awaits_acceptance:
            raise ValidationError(_("Only a referral not yet accepted is taken back."))
        back_to = _referred_from(stored)
        if back_to is None or actor.area_id != back_to.pk:
            raise PermissionDenied
        held = stored.held_by
        if back_to.level == Area.Level.COMMUNITY:
            stored.held_by, stored.referral = None, ""
        else:
            # A street refers up only a need it accepted (or was returned): it handles it.
            stored.held_by, stored.referral = back_to, Need.Referral.ACCEPTED
        stored.save(update_fields=["held_by", "referral", "updated_at"])
        _path_step(
            actor, stored, NeedChange.Action.RECALL,
            from_area=held, to_area=back_to, note=(note or "").strip(), request=request,
        )  # fmt: skip
    return _copy_back(need, stored)


def need_return(*, actor, need: Need, reason: str, request=None) -> Need:
    """The area holding a referred need sends it back (退回) with the reason to the area that
    referred it (its community, or the street that referred it further up)."""
    with transaction.atomic():
        stored = _locked_need(actor, need)
        if stored.held_by_id is None or not stored.is_open:
            raise ValidationError(_("Only an open need referred up can be returned."))
        if actor.area_id != stored.held_by_id:
            raise PermissionDenied
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Say why the need is returned.")})
        back_to = _referred_from(stored)
        held = stored.held_by
        if back_to is None or back_to.level == Area.Level.COMMUNITY:
            stored.held_by = None
            back_to = back_to or _holder(stored)
        else:
            stored.held_by = back_to
        stored.referral = Need.Referral.RETURNED
        stored.save(update_fields=["held_by", "referral", "updated_at"])
        _path_step(
            actor, stored, NeedChange.Action.RETURN,
            from_area=held, to_area=back_to, note=reason.strip(), request=request,
        )  # fmt: skip
    return _copy_back(need, stored)


def _check_need_dates(need: Need, *, dated) -> None:
    """The need's dates against each other and today: raised by today, due and closed no
    earlier than raised, closed by today. Only the fields named in `dated` are checked."""
    today, raised = timezone.localdate(), need.raised_on
    errors = {}
    if "raised_on" in dated and raised and raised > today:
        errors["raised_on"] = _("The need cannot be raised after today.")
    due_or_raised = "due_date" in dated or "raised_on" in dated
    if due_or_raised and need.due_date and raised and need.due_date < raised:
        errors["due_date"] = _("The due date cannot be before the need was raised (%(day)s).") % {
            "day": raised.isoformat()
        }
    if "closed_on" in dated and need.closed_on:
        if need.closed_on > today:
            errors["closed_on"] = _("The closing date cannot be after today.")
        elif raised and need.closed_on < raised:
            errors["closed_on"] = _(
                "The closing date cannot be before the need was raised (%(day)s)."
            ) % {"day": raised.isoformat()}
    if errors:
        raise ValidationError(errors)


def _name(user) -> str:
    return user.get_full_name() or user.username


def _choice(obj, name: str):
    """A field's value as people read it: the label of a choice, else the value."""
    display = getattr(obj, f"get_{name}_display", None)
    return display() if display is not None else getattr(obj, name)


# -- Activity types -----------------------------------------------------------------------
#
# The list every activity form offers; global (no area), kept by whoever holds
# `activities.change_activitytype` (administrators). A type is never deleted: activities,
# their tallies and assessment indicators point at it. It is put out of use (停用) instead:
# new activities no longer offer it, the old ones keep it.

ACTIVITY_TYPE_FIELDS = ("code", "name", "serves_people", "sort_order", "is_active")


def _activity_type_save(*, actor, activity_type, data: dict, permission: str, request):
    unknown = set(data) - set(ACTIVITY_TYPE_FIELDS)
    if unknown:
        raise ValueError(f"not activity type fields: {sorted(unknown)}")
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied
    created = activity_type.pk is None
    stored = {} if created else {f: getattr(activity_type, f) for f in ACTIVITY_TYPE_FIELDS}
    for field, value in data.items():
        setattr(activity_type, field, value)
    activity_type.full_clean()
    activity_type.save()
    changed = {
        field: getattr(activity_type, field)
        for field in ACTIVITY_TYPE_FIELDS
        if created or stored[field] != getattr(activity_type, field)
    }
    if actor is not None:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            obj=activity_type,
            request=request,
            detail={"changed": changed} if changed else {},
        )
    return activity_type


@transaction.atomic
def activity_type_create(*, actor, data: dict, request=None) -> ActivityType:
    """Add an activity type (code, name, serves_people, sort_order, is_active). One audit line."""
    return _activity_type_save(
        actor=actor,
        activity_type=ActivityType(),
        data=data,
        permission="activities.add_activitytype",
        request=request,
    )


@transaction.atomic
def activity_type_update(*, actor, activity_type: ActivityType, data: dict, request=None):
    """Change an activity type, or put it out of use and back (`is_active`). One audit line
    with what changed. Old activities keep their type whatever happens to it."""
    locked = ActivityType.objects.select_for_update().get(pk=activity_type.pk)
    saved = _activity_type_save(
        actor=actor,
        activity_type=locked,
        data=data,
        permission="activities.change_activitytype",
        request=request,
    )
    for field in ACTIVITY_TYPE_FIELDS:
        setattr(activity_type, field, getattr(saved, field))
    return activity_type


# -- Areas merged (撤并) -------------------------------------------------------------------------
#
# Activities, visits and needs stay where the work was done while the area lives; when it is
# merged away (and so retired) they point at the area that took it over.


def area_activities_count(area: Area) -> int:
    return Activity.objects.filter(within_area(area, "area")).count()


def area_activities_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """Move the activities organised in `source` (or its grids) to `target`, with the
    dashboards' activity tallies of the months they count in."""
    moved = Activity.objects.filter(within_area(source, "area"))
    keys = {tally_key(activity) for activity in moved}
    count = moved.update(area=target)
    activity_tally_refresh(keys | {(target.pk, month) for _area, month in keys})
    area_move_audit(
        actor=actor, source=source, target=target, request=request, change=change,
        activities=count,
    )  # fmt: skip


def area_visits_count(area: Area) -> int:
    return Visit.objects.filter(community=area).count()


def area_visits_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    if source.level == Area.Level.COMMUNITY:
        Visit.objects.filter(community=source).update(community=target)


def area_needs_count(area: Area) -> int:
    return Need.objects.filter(Q(community=area) | Q(held_by=area)).count()


def area_needs_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    if source.level == Area.Level.COMMUNITY:
        Need.objects.filter(community=source).update(community=target)
    # A need referred to a street or district merged away is held by the one taking it over.
    Need.objects.filter(held_by=source).update(held_by=target)


# -- Two records of one person merged (members.services.member_merge) ---------------------------
#
# Registered as `MemberMover`s: the merged record's participations, visits and needs become
# the kept record's. Where both took part in one activity or were both visited once, the
# merged record's row goes (one person, one row) and is recreated on undo.


def _links_move(through, owner: str, *, keep: Member, merged: Member) -> dict:
    shared = through.objects.filter(member=keep).values(owner)
    dropped = list(
        through.objects.filter(member=merged, **{f"{owner}__in": shared}).values_list(
            owner, flat=True
        )
    )
    through.objects.filter(member=merged, **{f"{owner}__in": dropped}).delete()
    moved = list(through.objects.filter(member=merged).values_list("pk", flat=True))
    through.objects.filter(pk__in=moved).update(member=keep)
    contacts_refresh([keep.pk, merged.pk])
    return {"moved": moved, "dropped": dropped}


def _links_undo(through, owner: str, *, keep: Member, merged: Member, moved: dict) -> None:
    through.objects.filter(pk__in=moved["moved"], member=keep).update(member=merged)
    through.objects.bulk_create(
        [through(**{f"{owner}_id": pk, "member": merged}) for pk in moved["dropped"]],
        ignore_conflicts=True,
    )
    contacts_refresh([keep.pk, merged.pk])


def member_participations_count(member: Member) -> int:
    return Participation.objects.filter(member=member).count()


def member_participations_move(*, keep: Member, merged: Member) -> dict:
    return _links_move(Participation, "activity", keep=keep, merged=merged)


def member_participations_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    _links_undo(Participation, "activity", keep=keep, merged=merged, moved=moved)


def member_visits_count(member: Member) -> int:
    return Visit.members.through.objects.filter(member=member).count()


def member_visits_move(*, keep: Member, merged: Member) -> dict:
    return _links_move(Visit.members.through, "visit", keep=keep, merged=merged)


def member_visits_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    _links_undo(Visit.members.through, "visit", keep=keep, merged=merged, moved=moved)


def member_needs_count(member: Member) -> int:
    return Need.objects.filter(member=member).count()


def member_needs_move(*, keep: Member, merged: Member) -> list[int]:
    moved = list(Need.objects.filter(member=merged).values_list("pk", flat=True))
    Need.objects.filter(pk__in=moved).update(member=keep)
    return moved


def member_needs_undo(*, keep: Member, merged: Member, moved: list[int]) -> None:
    Need.objects.filter(pk__in=moved, member=keep).update(member=merged)
