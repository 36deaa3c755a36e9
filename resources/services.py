"""The writes of resources, community needs and matches, and the match suggestions.

Each write checks the actor's right and scope, validates, saves in one transaction and
writes its audit line there. A member's need met by a match is resolved by the activities'
own `need_set_status`, which writes the need's history: one writer of a need's status.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from activities import services as activity_services
from activities.models import Need
from members.models import Member
from organisations.models import Organisation
from tongzhan.audit import audit_record
from tongzhan.masking import name_seen_by
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import enclosing_area_ids, enclosing_areas, visible_area_ids, within_area
from tongzhan.services import area_records_repoint
from tongzhan.text import plain_name

from .models import (
    CommunityNeed,
    Kind,
    Match,
    Project,
    ProjectStage,
    ProjectStep,
    Resource,
    ResourceArea,
    Service,
)

# What resources a member's need (activities.Need.Kind) is matched with. A kind not named
# here (an opinion, "other") is offered every professional service.
NEED_KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    Need.Kind.EMPLOYMENT: ((Kind.JOBS, ""), (Kind.TALENT, "")),
    Need.Kind.SCHOOLING: ((Kind.SERVICE, Service.EDUCATION),),
    Need.Kind.MEDICAL: ((Kind.SERVICE, Service.MEDICAL),),
    Need.Kind.FINANCING: ((Kind.FUNDS, ""), (Kind.PROJECT, "")),
    Need.Kind.LEGAL: ((Kind.SERVICE, Service.LEGAL),),
    Need.Kind.HARDSHIP: ((Kind.FUNDS, ""), (Kind.GOODS, "")),
}
UNMAPPED = ((Kind.SERVICE, ""),)
# How many suggestions a match page shows, nearest first.
SUGGESTION_LIMIT = 30
# The levels a resource may serve: a grid is part of its community.
AREA_LEVELS = (Area.Level.DISTRICT, Area.Level.STREET, Area.Level.COMMUNITY)


def _audit(actor, obj, action, request, **detail) -> None:
    audit_record(actor=actor, action=action, obj=obj, request=request, detail=detail)


# -- Who offers: names masked outside their area ----------------------------------------------


def owner_name(resource: Resource, user) -> str:
    """The organisation's name, or the member's: in full to those who see the member (her
    community's staff and those above), masked to other areas."""
    if resource.organisation_id:
        return resource.organisation.name
    return name_seen_by(user, resource.member.name, resource.member.community_id)


# -- Resources ----------------------------------------------------------------------------


def _resource_data(actor, data: dict, resource: Resource | None) -> dict:
    data = dict(data)
    member, organisation = data.get("member"), data.get("organisation")
    if (member is None) == (organisation is None):
        raise ValidationError(_("A resource is offered by a member or an organisation."))
    kept = resource is not None and (
        (member is not None and member.pk == resource.member_id)
        or (organisation is not None and organisation.pk == resource.organisation_id)
    )
    if kept:
        pass
    elif member is not None and not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise ValidationError({"member": _("Choose a member of yours.")})
    elif (
        organisation is not None
        and not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists()
    ):
        raise ValidationError({"organisation": _("Choose an organisation of yours.")})
    if "title" in data:
        data["title"] = plain_name(data["title"])
    if data.get("kind") != Kind.SERVICE:
        data["service"] = ""
    elif not data.get("service"):
        raise ValidationError({"service": _("Choose the field of the service.")})
    data["area_id"] = member.community_id if member is not None else organisation.area_id
    return data


def _choosable(actor) -> set[int] | None:
    """The ids of the areas the actor may have a resource serve: within theirs or above it;
    None for every area."""
    seen = visible_area_ids(actor)
    return None if seen is None else {*seen, *enclosing_area_ids(actor)}


def _served(actor, areas, default_area_id: int) -> list[int]:
    """The areas served: districts, streets and communities in use, within the actor's area
    or above it (a community's lawyer may serve the whole street); the owner's area if none."""
    ids = [area.pk for area in areas or ()]
    if not ids:
        return [default_area_id]
    allowed = _choosable(actor)
    for area in areas:
        if (
            area.level not in AREA_LEVELS
            or area.is_retired
            or (allowed is not None and area.pk not in allowed)
        ):
            raise ValidationError(
                {"served_areas": _("Choose districts, streets or communities of yours.")}
            )
    return ids


def resource_create(*, actor, data: dict, served_areas=(), request=None) -> Resource:
    """Record what a member or an organisation of the actor's area offers."""
    if not actor.has_perm("resources.add_resource"):
        raise PermissionDenied
    data = _resource_data(actor, data, None)
    with transaction.atomic():
        resource = Resource(recorded_by=actor, **data)
        resource.full_clean(exclude=["recorded_by"])
        resource.save()
        ids = _served(actor, served_areas, resource.area_id)
        ResourceArea.objects.bulk_create(ResourceArea(resource=resource, area_id=i) for i in ids)
        _audit(
            actor, resource, AuditEvent.Action.CREATE, request,
            fields=sorted(data), served=sorted(ids),
        )  # fmt: skip
    return resource


def resource_update(*, actor, resource: Resource, data: dict, served_areas=None, request=None):
    """Change a resource of the actor's area."""
    if not Resource.objects.editable_by(actor).filter(pk=resource.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        data = _resource_data(actor, data, resource)
        changed = [name for name, value in data.items() if getattr(resource, name) != value]
        for name in changed:
            setattr(resource, name, data[name])
        if "capacity" in changed and resource.capacity is not None:
            # The places its matches already take stay taken.
            taken = resource.matches.filter(Match.objects.is_taking_capacity()).count()
            if resource.capacity < taken:
                raise ValidationError(
                    {
                        "capacity": _(
                            "%(count)s places are already taken by matches: the capacity "
                            "cannot be less."
                        )
                        % {"count": taken}
                    }
                )
        resource.full_clean()
        resource.save()
        detail = {"fields": sorted(changed)}
        if served_areas is not None:
            before = set(
                ResourceArea.objects.filter(resource=resource).values_list("area_id", flat=True)
            )
            # Those the actor may not choose (another community, the street's or district's
            # choice) are not on its form: their absence takes none off.
            allowed = _choosable(actor)
            hidden = set() if allowed is None else before - allowed
            ids = sorted({*_served(actor, served_areas, resource.area_id), *hidden})
            if before != set(ids):
                ResourceArea.objects.filter(resource=resource).exclude(area_id__in=ids).delete()
                ResourceArea.objects.bulk_create(
                    ResourceArea(resource=resource, area_id=i) for i in set(ids) - before
                )
                detail["served"] = sorted(ids)
        if changed or "served" in detail:
            _audit(actor, resource, AuditEvent.Action.UPDATE, request, **detail)
    return resource


# -- Community needs ------------------------------------------------------------------------


def _community_need_data(actor, data: dict) -> dict:
    data = dict(data)
    area = data.get("area")
    ids = visible_area_ids(actor)
    if area is not None and (
        area.level != Area.Level.COMMUNITY or area.is_retired
        or (ids is not None and area.pk not in ids)
    ):  # fmt: skip
        raise ValidationError({"area": _("Choose a community of yours.")})
    if "kind" in data and data["kind"] != Kind.SERVICE:
        data["service"] = ""
    return data


def community_need_create(*, actor, data: dict, request=None) -> CommunityNeed:
    """Record what a community of the actor's area needs; it starts open."""
    if not actor.has_perm("resources.add_communityneed"):
        raise PermissionDenied
    data = _community_need_data(actor, data)
    with transaction.atomic():
        need = CommunityNeed(recorded_by=actor, status=CommunityNeed.Status.OPEN, **data)
        need.full_clean(exclude=["recorded_by"])
        need.save()
        _audit(actor, need, AuditEvent.Action.CREATE, request, fields=sorted(data))
    return need


def community_need_settled(need: CommunityNeed) -> int:
    """How much of the need's quantity its matches settled 已落实 have met."""
    return CommunityNeed.objects.with_progress().values_list("settled", flat=True).get(pk=need.pk)


def community_need_frozen(need: CommunityNeed) -> str:
    """Why the need can no longer be changed ("" while it is open): a need met or closed is
    a record of what was done, and its matches were settled against what it said."""
    if need.status == CommunityNeed.Status.MET:
        return _("This need has been met: it can no longer be changed.")
    if need.status == CommunityNeed.Status.CLOSED:
        return _("This need was closed: it can no longer be changed.")
    return ""


# What an open need's editor may change; its status moves by matches settled and closing.
COMMUNITY_NEED_FIELDS = ("area", "kind", "service", "description", "quantity", "due_date")
# What the matches of a need were made for: fixed once a resource is matched to it.
MATCHED_FOR = ("area", "kind", "service")


def community_need_update(*, actor, need: CommunityNeed, data: dict, request=None) -> CommunityNeed:
    """Change an open need of the actor's area. Its community and kind stay once a resource
    has been matched to it; its quantity is not below what is met already, and a quantity
    the settled matches reach makes it met."""
    if not CommunityNeed.objects.editable_by(actor).filter(pk=need.pk).exists():
        raise PermissionDenied
    data = {name: data[name] for name in COMMUNITY_NEED_FIELDS if name in data}
    data = _community_need_data(actor, data)
    with transaction.atomic():
        need = CommunityNeed.objects.select_for_update().get(pk=need.pk)
        if refusal := community_need_frozen(need):
            raise ValidationError(refusal)
        changed = [name for name, value in data.items() if getattr(need, name) != value]
        if set(changed) & set(MATCHED_FOR) and need.matches.exists():
            raise ValidationError(
                _("A resource has been matched to this need: its community and kind stay.")
            )
        for name in changed:
            setattr(need, name, data[name])
        need.full_clean(exclude=["recorded_by"])
        settled = community_need_settled(need)
        if need.quantity < settled:
            raise ValidationError(
                {"quantity": _("%(settled)s are met already: the quantity is not less.")
                 % {"settled": settled}}
            )  # fmt: skip
        detail = {"fields": sorted(changed)}
        if settled and settled >= need.quantity:
            need.status, need.closed_on = CommunityNeed.Status.MET, timezone.localdate()
            detail["status"] = need.status
        need.save()
        if changed:
            _audit(actor, need, AuditEvent.Action.UPDATE, request, **detail)
    return need


def community_need_close(*, actor, need: CommunityNeed, request=None) -> CommunityNeed:
    """Close an open community need that no longer needs a match (closed, not met)."""
    if not CommunityNeed.objects.editable_by(actor).filter(pk=need.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        need = CommunityNeed.objects.select_for_update().get(pk=need.pk)
        if need.status != CommunityNeed.Status.OPEN:
            raise ValidationError(_("This need is no longer open."))
        need.status, need.closed_on = CommunityNeed.Status.CLOSED, timezone.localdate()
        need.save(update_fields=["status", "closed_on", "updated_at"])
        _audit(actor, need, AuditEvent.Action.STATUS, request, status=need.status)
    return need


# -- Suggestions ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Suggestion:
    resource: Resource
    owner: str
    remaining: int | None
    level: str
    why: str


def need_area(*, need: Need | None = None, community_need: CommunityNeed | None = None) -> Area:
    """The community a need is matched for: a member's community now, or the community's;
    loaded with the areas above it for the suggestions."""
    if need is not None:
        member = Member.objects.select_related("community__parent__parent").get(pk=need.member_id)
        return member.community
    return community_need.area


def need_kinds(*, need: Need | None = None, community_need: CommunityNeed | None = None) -> Q:
    """The resources of the need's kind (`NEED_KINDS` for a member's need)."""
    if need is not None:
        pairs = NEED_KINDS.get(need.kind, UNMAPPED)
    else:
        pairs = ((community_need.kind, community_need.service),)
    condition = Q(pk__in=[])
    for kind, service in pairs:
        condition |= Q(kind=kind, service=service) if service else Q(kind=kind)
    return condition


def suggested_resources(user, *, need=None, community_need=None, today=None):
    """The resources the user sees that may meet the need: of its kind, valid `today`, with
    capacity left (matches 已对接 and 已落实 take it), serving the need's area or one above
    it; annotated with `nearest` (0 for the area itself, 1 the level above, ...) and `used`.
    One query; ordered nearest first."""
    today = today or timezone.localdate()
    area = need_area(need=need, community_need=community_need)
    chain = [area, *enclosing_areas(area)]
    rank = Case(
        *[When(area_id=area.pk, then=Value(i)) for i, area in enumerate(chain)],
        output_field=IntegerField(),
    )
    nearest = (
        ResourceArea.objects.filter(resource_id=OuterRef("pk"), area_id__in=[a.pk for a in chain])
        .annotate(rank=rank)
        .order_by("rank")
        .values("rank")[:1]
    )
    used = (
        Match.objects.filter(Match.objects.is_taking_capacity(), resource_id=OuterRef("pk"))
        .order_by()
        .values("resource_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    taken = Match.objects.filter(Match.objects.is_taking_capacity())
    taken = (
        taken.filter(need=need) if need is not None else taken.filter(community_need=community_need)
    )
    rows = (
        Resource.objects.visible_to(user)
        .valid_on(today)
        .filter(need_kinds(need=need, community_need=community_need))
        .annotate(nearest=Subquery(nearest), used=Coalesce(Subquery(used), 0))
        .filter(nearest__isnull=False)
        .filter(Q(capacity__isnull=True) | Q(capacity__gt=F("used")))
        .exclude(pk__in=taken.values("resource_id"))
        .order_by("nearest", "valid_until", "id")
    )
    return rows, chain


# Why a resource is suggested: the level of the nearest area it serves, from the need's.
LEVEL_WORDS = {
    Area.Level.COMMUNITY: pgettext_lazy("match", "Same community"),
    Area.Level.STREET: pgettext_lazy("match", "Same street"),
    Area.Level.DISTRICT: pgettext_lazy("match", "Same district"),
}


def match_suggestions(user, *, need=None, community_need=None, today=None) -> list[Suggestion]:
    """The suggestions of the match page, each with why it is suggested:
    同社区 · 法律 · 剩余名额 3."""
    rows, chain = suggested_resources(user, need=need, community_need=community_need, today=today)
    rows = rows.select_related("member", "organisation").defer("member__id_number", "member__phone")
    found = []
    for resource in rows[:SUGGESTION_LIMIT]:
        level = str(LEVEL_WORDS[chain[resource.nearest].level])
        remaining = None if resource.capacity is None else resource.capacity - resource.used
        room = (
            pgettext("match", "no limit")
            if remaining is None
            else pgettext("match", "%(count)s left") % {"count": remaining}
        )
        found.append(
            Suggestion(
                resource=resource,
                owner=owner_name(resource, user),
                remaining=remaining,
                level=level,
                why=" · ".join([level, str(resource.kind_label()), room]),
            )
        )
    return found


# -- Matches --------------------------------------------------------------------------------


def _need_for_match(actor, need, community_need):
    if (need is None) == (community_need is None):
        raise ValidationError(_("A match is of a member's need or a community need."))
    if need is not None:
        if not Need.objects.editable_by(actor).filter(pk=need.pk).exists():
            raise PermissionDenied
        if not need.is_open:
            raise ValidationError(_("This need is no longer open."))
    else:
        if not CommunityNeed.objects.editable_by(actor).filter(pk=community_need.pk).exists():
            raise PermissionDenied
        if community_need.status != CommunityNeed.Status.OPEN:
            raise ValidationError(_("This need is no longer open."))


def match_create(
    *, actor, resource: Resource, need: Need | None = None,
    community_need: CommunityNeed | None = None, note: str = "", request=None,
) -> Match:  # fmt: skip
    """Match a suggested resource to a need (已对接). Only a resource the match page would
    suggest to the actor: seen by them, of the need's kind, valid, with capacity left and
    serving the need's area. A member's need still 待办 becomes 办理中, in its history."""
    if not actor.has_perm("resources.add_match"):
        raise PermissionDenied
    _need_for_match(actor, need, community_need)
    with transaction.atomic():
        # Locked: two matches at once cannot both take a resource's last place.
        Resource.objects.select_for_update().filter(pk=resource.pk).first()
        rows, _chain_areas = suggested_resources(actor, need=need, community_need=community_need)
        if not rows.filter(pk=resource.pk).exists():
            raise ValidationError({"resource": _("This resource cannot be matched to this need.")})
        area = need_area(need=need, community_need=community_need)
        match = Match(
            need=need, community_need=community_need, resource=resource, area=area,
            state=Match.State.MATCHED, note=(note or "").strip(), recorded_by=actor,
            matched_on=timezone.localdate(),
        )  # fmt: skip
        match.full_clean(exclude=["recorded_by"])
        match.save()
        _audit(
            actor, match, AuditEvent.Action.CREATE, request,
            resource=resource.pk, need=need.pk if need else None,
            community_need=community_need.pk if community_need else None,
        )  # fmt: skip
        if need is not None and need.status == Need.Status.OPEN:
            activity_services.need_set_status(
                actor=actor, need=need, status=Need.Status.IN_PROGRESS,
                resolution=_("Matched with the resource %(resource)s.")
                % {"resource": resource.title},
                request=request,
            )  # fmt: skip
    return match


def match_settle(
    *, actor, match: Match, state: str, people_served: int = 0, value: Decimal | None = None,
    note: str = "", settled_on: datetime.date | None = None, request=None,
) -> Match:  # fmt: skip
    """Settle a match 已对接 → 已落实 (the need is met) or 未落实 (the resource's place is freed).

    A member's need met by it is resolved through `need_set_status`, naming the resource; a
    community need becomes met."""
    if not Match.objects.editable_by(actor).filter(pk=match.pk).exists():
        raise PermissionDenied
    if state not in (Match.State.FULFILLED, Match.State.UNFULFILLED):
        raise ValidationError({"state": _("Choose fulfilled or not fulfilled.")})
    with transaction.atomic():
        match = Match.objects.select_for_update().select_related("resource").get(pk=match.pk)
        if match.state != Match.State.MATCHED:
            raise ValidationError(_("This match has already been settled."))
        today = timezone.localdate()
        settled_on = settled_on or today
        if settled_on < match.matched_on:
            raise ValidationError({"settled_on": _("The day is before the match was made.")})
        # The assessment and the dashboards count a match in the period of its settling.
        if settled_on > today:
            raise ValidationError({"settled_on": _("The day is in the future.")})
        match.state, match.settled_on, match.settled_by = state, settled_on, actor
        match.people_served = people_served or 0
        match.value = value
        if note and note.strip():
            match.note = "\n".join(filter(None, [match.note, note.strip()]))
        match.full_clean(exclude=["recorded_by", "settled_by"])
        match.save()
        _audit(
            actor, match, AuditEvent.Action.STATUS, request, state=state,
            people_served=match.people_served,
            value=str(match.value) if match.value is not None else None,
        )  # fmt: skip
        if state == Match.State.FULFILLED:
            _need_met(actor, match, settled_on, note, request)
    return match


def _need_met(actor, match: Match, day, note: str, request) -> None:
    if match.need_id:
        # Locked before it is read: another of its matches settled at the same moment waits,
        # then finds it resolved, instead of resolving it a second time over the first.
        need = Need.objects.select_for_update().get(pk=match.need_id)
        if need.is_open:
            resolution = _("Resolved through the resource %(resource)s.") % {
                "resource": match.resource.title
            }
            if note and note.strip():
                resolution = f"{resolution}\n{note.strip()}"
            activity_services.need_set_status(
                actor=actor, need=need, status=Need.Status.RESOLVED, resolution=resolution,
                closed_on=day, request=request,
            )  # fmt: skip
        return
    need = CommunityNeed.objects.select_for_update().get(pk=match.community_need_id)
    # Met once the matches settled 已落实 reach its quantity: 5 jobs wait for 5 people placed.
    if need.status == CommunityNeed.Status.OPEN and community_need_settled(need) >= need.quantity:
        need.status, need.closed_on = CommunityNeed.Status.MET, day
        need.save(update_fields=["status", "closed_on", "updated_at"])
        _audit(actor, need, AuditEvent.Action.STATUS, request, status=need.status,
               match=match.pk)  # fmt: skip


# -- Areas merged (撤并) or split (拆分): resources, community needs and matches follow ------


def area_resources_count(area: Area) -> int:
    return (
        Resource.objects.filter(area=area).count()
        + ResourceArea.objects.filter(area=area).count()
        + CommunityNeed.objects.filter(area=area).count()
        + Match.objects.filter(area=area).count()
    )


def area_resources_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """What an area merged away offered, served, needed and matched counts for the area that
    took it over; a resource serving both serves the target once."""
    serving_both = ResourceArea.objects.filter(
        area=source,
        resource_id__in=ResourceArea.objects.filter(area=target).values("resource_id"),
    )
    serving_both.delete()
    area_records_repoint(
        actor=actor, source=source, target=target, request=request, change=change,
        records={"resources": Resource, "served": ResourceArea, "community_needs": CommunityNeed,
                 "matches": Match},
    )  # fmt: skip


# -- A member transferred (members.services.transfer_follower_register) ----------------------


def _resource_relocate(resource: Resource, source: Area, target: Area) -> list[int]:
    """Keep `resource` at `target` instead of `source`, serving `target` instead of `source`
    (once, if it served both); the ids of the areas it served before."""
    served = ResourceArea.objects.filter(resource=resource)
    before = sorted(served.values_list("area_id", flat=True))
    if target.pk in before:
        served.filter(area=source).delete()
    else:
        served.filter(area=source).update(area=target)
    resource.area = target
    resource.save(update_fields=["area", "updated_at"])
    return before


def member_resources_follow_transfer(*, actor, member, from_community, to_community, request):
    """What a member offers in her old community goes with her to the new one: each of her
    resources kept at `from_community` is kept at `to_community`, and if it served her old
    community it serves her new one instead (once, if it served both): someone who moved
    offers her help where she now lives. The other areas it serves stay, and so does a
    resource kept at a street or the district, which is that area's, not her community's.
    A match stays with its need, in the need's area. One audit line per resource moved."""
    for resource in Resource.objects.select_for_update(of=("self",)).filter(
        member=member, area=from_community
    ):
        _resource_relocate(resource, from_community, to_community)
        served = ResourceArea.objects.filter(resource=resource)
        _audit(
            actor, resource, AuditEvent.Action.TRANSFER, request, fields=["area"],
            member=member.pk, **{"from": from_community.code, "to": to_community.code},
            served=sorted(served.values_list("area_id", flat=True)),
        )  # fmt: skip


# -- Two records of one person merged (members.services.member_merge) ---------------------------
#
# Registered as a `MemberMover`: what the merged record offers and the projects it introduced
# become the kept record's. A resource kept at the merged record's community, when the kept
# record lives in another, goes there as it would with a transfer (`_resource_relocate`); an
# undo puts it back where it was, serving the areas it served at the merge.


def member_resources_count(member: Member) -> int:
    return (
        Resource.objects.filter(member=member).count()
        + Project.objects.filter(member=member).count()
    )


def member_resources_move(*, keep: Member, merged: Member) -> dict:
    resources = list(Resource.objects.filter(member=merged).values_list("pk", flat=True))
    relocated = {}
    if keep.community_id != merged.community_id:
        for resource in Resource.objects.filter(member=merged, area_id=merged.community_id):
            served = _resource_relocate(resource, merged.community, keep.community)
            relocated[str(resource.pk)] = {"area": merged.community_id, "served": served}
    Resource.objects.filter(pk__in=resources).update(member=keep)
    projects = list(Project.objects.filter(member=merged).values_list("pk", flat=True))
    Project.objects.filter(pk__in=projects).update(member=keep)
    return {"resources": resources, "relocated": relocated, "projects": projects}


def member_resources_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    Resource.objects.filter(pk__in=moved["resources"], member=keep).update(member=merged)
    for pk, before in moved["relocated"].items():
        # Unless it was moved elsewhere since: then it stays where it was put.
        resource = Resource.objects.filter(pk=pk, member=merged, area_id=keep.community_id).first()
        if resource is None:
            continue
        resource.area_id = before["area"]
        resource.save(update_fields=["area", "updated_at"])
        ResourceArea.objects.filter(resource=resource).delete()
        ResourceArea.objects.bulk_create(
            ResourceArea(resource=resource, area_id=area_id) for area_id in before["served"]
        )
    Project.objects.filter(pk__in=moved["projects"], member=keep).update(member=merged)


# -- Projects (引资引智) -----------------------------------------------------------------------
# A project lands in an area of the actor's (a community, street or district) and is
# introduced by a member or an organisation the actor sees. It moves 意向 → 洽谈 → 签约 → 落地
# one step at a time, or to 终止 from any open stage, never back: each step is a ProjectStep
# with its day, and an audit line.

PROJECT_FIELDS = (
    "name", "description", "member", "organisation", "area", "industry", "amount_planned",
    "amount_signed", "amount_in_place", "jobs",
)  # fmt: skip


def introducer_name(project: Project, user) -> str:
    """The organisation's name, or the member's: in full to those who see the member (her
    community's staff and those above), masked to other areas."""
    if project.organisation_id:
        return project.organisation.name
    return name_seen_by(user, project.member.name, project.member.community_id)


def _project_data(actor, data: dict, project: Project | None) -> dict:
    data = {name: data.get(name) for name in PROJECT_FIELDS if name in data}
    member, organisation = data.get("member"), data.get("organisation")
    if (member is None) == (organisation is None):
        raise ValidationError(_("A project is introduced by a member or an organisation."))
    kept = project is not None and (
        (member is not None and member.pk == project.member_id)
        or (organisation is not None and organisation.pk == project.organisation_id)
    )
    if kept:
        pass
    elif member is not None and not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise ValidationError({"member": _("Choose a member of yours.")})
    elif (
        organisation is not None
        and not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists()
    ):
        raise ValidationError({"organisation": _("Choose an organisation of yours.")})
    area = data.get("area")
    ids = visible_area_ids(actor)
    kept_area = project is not None and area is not None and area.pk == project.area_id
    if area is None or not kept_area and (
        area.level not in AREA_LEVELS or area.is_retired
        or (ids is not None and area.pk not in ids)
    ):  # fmt: skip
        raise ValidationError({"area": _("Choose a district, street or community of yours.")})
    for name in ("description", "industry"):
        data[name] = (data.get(name) or "").strip()
    if "name" in data:
        data["name"] = plain_name(data["name"])
    return data


def _check_step_day(day: datetime.date, after: datetime.date | None) -> None:
    if day > timezone.localdate():
        raise ValidationError({"date": _("The day is in the future.")})
    if after is not None and day < after:
        raise ValidationError({"date": _("The day is before the project's last step.")})


def project_create(
    *, actor, data: dict, intent_on: datetime.date | None = None, note: str = "", request=None
) -> Project:
    """Record a project of the actor's area at 意向, reached on `intent_on` (today)."""
    if not actor.has_perm("resources.add_project"):
        raise PermissionDenied
    data = _project_data(actor, data, None)
    day = intent_on or timezone.localdate()
    _check_step_day(day, None)
    with transaction.atomic():
        project = Project(recorded_by=actor, stage=Project.Stage.INTENT, **data)
        project.full_clean(exclude=["recorded_by"])
        project.save()
        ProjectStep.objects.create(
            project=project, stage=Project.Stage.INTENT, date=day, note=(note or "").strip(),
            recorded_by=actor,
        )  # fmt: skip
        _audit(
            actor, project, AuditEvent.Action.CREATE, request,
            fields=sorted(name for name, value in data.items() if value not in (None, "")),
            stage=project.stage, date=day.isoformat(),
        )  # fmt: skip
    return project


def project_update(*, actor, project: Project, data: dict, request=None) -> Project:
    """Change a project of the actor's area (not its stage: that is `project_advance`)."""
    if not Project.objects.editable_by(actor).filter(pk=project.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        data = _project_data(actor, data, project)
        changed = [name for name, value in data.items() if getattr(project, name) != value]
        for name in changed:
            setattr(project, name, data[name])
        project.full_clean()
        project.save()
        if changed:
            _audit(actor, project, AuditEvent.Action.UPDATE, request, fields=sorted(changed))
    return project


def project_advance(
    *, actor, project: Project, stage: str, date: datetime.date | None = None, note: str = "",
    request=None,
) -> ProjectStep:  # fmt: skip
    """Move a project on to its next stage, or to 终止 from an open stage; never back, never
    past a stage. The day is not before its last step's nor in the future."""
    if not Project.objects.editable_by(actor).filter(pk=project.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not project.is_open:
            raise ValidationError(_("This project has ended."))
        if stage not in (project.next_stage(), Project.Stage.DROPPED):
            raise ValidationError(
                {"stage": _("A project moves on one stage at a time, or is dropped.")}
            )
        last = project.steps.order_by("-date", "-id").values_list("date", flat=True).first()
        day = date or timezone.localdate()
        _check_step_day(day, last)
        before = project.stage
        project.stage = stage
        project.save(update_fields=["stage", "updated_at"])
        step = ProjectStep.objects.create(
            project=project, stage=stage, date=day, note=(note or "").strip(), recorded_by=actor
        )
        _audit(
            actor, project, AuditEvent.Action.STATUS, request,
            stage=stage, before=before, date=day.isoformat(),
        )  # fmt: skip
    return step


@dataclasses.dataclass
class ProjectTally:
    """One row of the projects' table: an area's projects that reached each stage in the
    period, the amounts signed (of those signed in it), in place and jobs (of those landed
    in it)."""

    area: Area | None
    reached: dict
    signed: Decimal = Decimal(0)
    in_place: Decimal = Decimal(0)
    jobs: int = 0

    def counts(self) -> list[int]:
        """The numbers reached, in the order of `ProjectStage`."""
        return [self.reached[stage] for stage in ProjectStage.values]


def project_table(user, *, area: Area | None, since: datetime.date, until: datetime.date):
    """The table per area: a row for each area under `area` (the user's own, or all
    districts) with the projects the user sees that reached a stage from `since` to `until`,
    a row for those landing in `area` itself, and the total. One query."""
    if area is None:
        area = user.area if visible_area_ids(user) is not None else None
    if area is None:
        children = list(Area.objects.filter(level=Area.Level.DISTRICT).order_by("code"))
    else:
        children = list(Area.objects.filter(parent=area, level__in=AREA_LEVELS).order_by("code"))
    steps = ProjectStep.objects.filter(
        project__in=Project.objects.visible_to(user), date__gte=since, date__lte=until
    )
    if area is not None:
        steps = steps.filter(within_area(area, "project__area"))
    rows = {child.code: ProjectTally(child, dict.fromkeys(ProjectStage.values, 0))
            for child in children}  # fmt: skip
    # A project is counted under the area below `area` whose code its area's code extends.
    width = len(children[0].code) if children else 0
    own = ProjectTally(area, dict.fromkeys(ProjectStage.values, 0))
    total = ProjectTally(None, dict.fromkeys(ProjectStage.values, 0))
    for stage, code, signed, in_place, jobs in steps.values_list(
        "stage", "project__area__code", "project__amount_signed", "project__amount_in_place",
        "project__jobs",
    ).order_by():  # fmt: skip
        row = rows.get(code[:width], own)
        for tally in (row, total):
            tally.reached[stage] += 1
            if stage == ProjectStage.SIGNED:
                tally.signed += signed or 0
            elif stage == ProjectStage.LANDED:
                tally.in_place += in_place or 0
                tally.jobs += jobs or 0
    shown = list(rows.values())
    if area is not None and (any(own.reached.values()) or not shown):
        shown.insert(0, own)
    return shown, total


def period_days(year: int, quarter: int | None) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a year, or of one of its quarters."""
    if not quarter:
        return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    first = datetime.date(year, 3 * quarter - 2, 1)
    following = datetime.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, following - datetime.timedelta(days=1)


def area_projects_count(area: Area) -> int:
    return Project.objects.filter(area=area).count()


def area_projects_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """The projects landing in an area merged away land in the area that took it over."""
    area_records_repoint(
        actor=actor, source=source, target=target, records={"projects": Project},
        request=request, change=change,
    )  # fmt: skip
