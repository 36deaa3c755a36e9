"""The writes of commendations: campaigns, nominations, the street's review, the district's
decision and the publication. Each checks the actor's right and area, writes in one
transaction under a lock (a form sent twice waits for the first and is then refused in
words), records the nomination's history and writes its audit line there.

Who does what (issue 18, 表彰): the district names campaigns for its area or a street of it;
communities within the area nominate their members or residents who are not members, until
the deadline; the street reviews its communities' nominations (推荐 / 不推荐); the district
decides on those the street recommended (表彰 / 不予表彰) and publishes the results.

And the ways back before the results are published: a community edits its nomination while
the street has not reviewed it and the campaign takes nominations, and withdraws it (撤回)
while the street has not reviewed it; the street changes its review while the district has
not decided; the district changes its decisions while the campaign is under review, and
reopens the nominating it ended while the deadline has not passed and nothing is decided.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Member
from tongzhan.attachments import attachment_store, files_kept_only_if_committed, uploads_checked
from tongzhan.audit import audit_record
from tongzhan.masking import mask_contact, name_seen_by
from tongzhan.models import Area, AuditEvent
from tongzhan.services import area_move_audit
from tongzhan.text import plain_name

from .models import Campaign, Nomination, NominationEvent, NominationFile

State = Nomination.State
# The district's decisions.
DECIDED = (State.COMMENDED, State.NOT_COMMENDED)

# The levels a campaign covers: the district, or one of its streets.
CAMPAIGN_LEVELS = (Area.Level.DISTRICT, Area.Level.STREET)


def _level(user) -> str | None:
    return user.area.level if user.is_authenticated and user.area_id else None


# -- Names masked outside their area ---------------------------------------------------------


def nominee_seen_by(user, nomination: Nomination) -> str:
    """The nominee's name as `user` may read it: a member's in full to those who see the
    community she belongs to now (one who moved away is the new community's), a resident's to
    those who see the nominating community; masked to the others."""
    if nomination.member_id:
        return name_seen_by(user, nomination.member.name, nomination.member.community_id)
    return name_seen_by(user, nomination.resident_name, nomination.community_id)


# -- Campaigns -------------------------------------------------------------------------------


def campaign_may_create(user) -> bool:
    """District staff name campaigns (the issue: "one the district names")."""
    return user.has_perm("commendations.add_campaign") and _level(user) == Area.Level.DISTRICT


def campaign_may_run(user, campaign: Campaign) -> bool:
    """The district whose area covers the campaign closes, decides and publishes it."""
    return (
        _level(user) == Area.Level.DISTRICT
        and Campaign.objects.editable_by(user).filter(pk=campaign.pk).exists()
    )


def campaign_create(*, actor, data: dict, request=None) -> Campaign:
    """Name a campaign for the actor's district or a street of it."""
    if not campaign_may_create(actor):
        raise PermissionDenied
    area = data.get("area") or actor.area
    if area.level not in CAMPAIGN_LEVELS or area.is_retired or not area.is_within(actor.area):
        raise ValidationError({"area": _("Choose your district or one of its streets.")})
    data = {**data, "area": area}
    # A title or a name of characters that show nothing is no title (tongzhan.text).
    data["title"] = plain_name(data.get("title"))
    data["kind_name"] = plain_name(data.get("kind_name"))
    if data.get("kind") != Campaign.Kind.OTHER:
        data["kind_name"] = ""
    elif not data["kind_name"]:
        raise ValidationError({"kind_name": _("Name the commendation of another kind.")})
    if data.get("deadline") and data["deadline"] < timezone.localdate():
        raise ValidationError({"deadline": _("The nomination deadline has already passed.")})
    with transaction.atomic():
        campaign = Campaign(**data, created_by=actor)
        campaign.full_clean()
        campaign.save()
        audit_record(
            actor=actor, action=AuditEvent.Action.CREATE, obj=campaign, request=request,
            detail={"fields": sorted(data)},
        )  # fmt: skip
    return campaign


def _campaign_locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().select_related("area").get(pk=campaign.pk)


def campaign_close(*, actor, campaign: Campaign, request=None) -> Campaign:
    """End the nominating (征集中 → 评审中): no community nominates any more."""
    if not campaign_may_run(actor, campaign):
        raise PermissionDenied
    with transaction.atomic():
        stored = _campaign_locked(campaign)
        if stored.state != Campaign.State.NOMINATING:
            raise ValidationError(_("The nominating of this campaign has already ended."))
        stored.state = Campaign.State.REVIEW
        stored.save(update_fields=["state"])
        audit_record(
            actor=actor, action=AuditEvent.Action.STATUS, obj=stored, request=request,
            detail={"state": Campaign.State.REVIEW},
        )  # fmt: skip
    campaign.state = stored.state
    return campaign


def campaign_reopen_checks(campaign: Campaign) -> list[str]:
    """Why the nominating cannot be reopened; empty when it can: the campaign is under
    review, its deadline has not passed and the district has decided no nomination yet."""
    if campaign.state == Campaign.State.PUBLISHED:
        return [_("The results of this campaign are already published.")]
    if campaign.state != Campaign.State.REVIEW:
        return [_("The campaign is still taking nominations.")]
    problems = []
    if timezone.localdate() > campaign.deadline:
        problems.append(
            _("The nomination deadline (%(day)s) has passed: the nominating is not reopened.")
            % {"day": f"{campaign.deadline:%Y-%m-%d}"}
        )
    decided = campaign.nominations.filter(state__in=DECIDED).count()
    if decided:
        problems.append(
            ngettext(
                "You have decided %(count)s nomination already: the nominating is not reopened.",
                "You have decided %(count)s nominations already: the nominating is not reopened.",
                decided,
            )
            % {"count": decided}
        )
    return problems


def campaign_reopen(*, actor, campaign: Campaign, request=None) -> Campaign:
    """Take the nominating up again (评审中 → 征集中), as a way back from ending it early:
    communities nominate again until the deadline."""
    if not campaign_may_run(actor, campaign):
        raise PermissionDenied
    with transaction.atomic():
        stored = _campaign_locked(campaign)
        problems = campaign_reopen_checks(stored)
        if problems:
            raise ValidationError(problems)
        stored.state = Campaign.State.NOMINATING
        stored.save(update_fields=["state"])
        audit_record(
            actor=actor, action=AuditEvent.Action.STATUS, obj=stored, request=request,
            detail={"state": Campaign.State.NOMINATING, "reopened": True},
        )  # fmt: skip
    campaign.state = stored.state
    return campaign


def campaign_publish_checks(campaign: Campaign) -> list[str]:
    """Why the results cannot be published yet; empty when they can."""
    if campaign.state == Campaign.State.PUBLISHED:
        return [_("The results of this campaign are already published.")]
    if campaign.state != Campaign.State.REVIEW:
        return [_("End the nominating first: results are published after the review.")]
    problems = []
    nominations = campaign.nominations.all()
    waiting_street = nominations.filter(state=State.SUBMITTED).count()
    if waiting_street:
        problems.append(
            _("%(count)s nominations still await the street's review.") % {"count": waiting_street}
        )
    waiting_district = nominations.filter(state=State.RECOMMENDED).count()
    if waiting_district:
        problems.append(
            _("%(count)s nominations recommended by the streets still await your decision.")
            % {"count": waiting_district}
        )
    return problems


def campaign_publish(*, actor, campaign: Campaign, request=None) -> Campaign:
    """Publish the results (已公布): everyone in the covered area sees who was commended, and
    the commended members' pages show it. It cannot be undone."""
    if not campaign_may_run(actor, campaign):
        raise PermissionDenied
    with transaction.atomic():
        stored = _campaign_locked(campaign)
        problems = campaign_publish_checks(stored)
        if problems:
            raise ValidationError(problems)
        stored.state = Campaign.State.PUBLISHED
        stored.published_at, stored.published_by = timezone.now(), actor
        stored.save(update_fields=["state", "published_at", "published_by"])
        commended = list(stored.nominations.filter(state=State.COMMENDED))
        NominationEvent.objects.bulk_create(
            [NominationEvent(nomination=nomination, actor=actor, action="publish",
                             to_state=nomination.state) for nomination in commended]
        )  # fmt: skip
        audit_record(
            actor=actor, action=AuditEvent.Action.STATUS, obj=stored, request=request,
            detail={"state": Campaign.State.PUBLISHED, "commended": len(commended)},
        )  # fmt: skip
    campaign.state, campaign.published_at = stored.state, stored.published_at
    return campaign


# -- Nominations -----------------------------------------------------------------------------


def _nominating_problems(campaign: Campaign) -> list[str]:
    """Why the campaign takes no nominations (it is past nominating, or its deadline)."""
    if campaign.state != Campaign.State.NOMINATING:
        return [_("This campaign no longer takes nominations.")]
    if timezone.localdate() > campaign.deadline:
        return [
            _("The nomination deadline (%(day)s) has passed.")
            % {"day": f"{campaign.deadline:%Y-%m-%d}"}
        ]
    return []


def nomination_may_submit(user, campaign: Campaign) -> bool:
    """Community staff nominate for their own community, when the campaign covers it."""
    return (
        user.has_perm("commendations.add_nomination")
        and _level(user) == Area.Level.COMMUNITY
        and user.area.is_within(campaign.area)
    )


def nomination_submit(
    *, actor, campaign: Campaign, data: dict, uploads=(), request=None
) -> Nomination:
    """Nominate (推荐) a member of the actor's community, or a resident of it who is not a
    member (`resident_name`, optional `contact` and `notes`), with their deeds, while the
    campaign gathers nominations and before its deadline."""
    if not nomination_may_submit(actor, campaign):
        raise PermissionDenied
    community = actor.area
    member = data.get("member")
    name = plain_name(data.get("resident_name") or "")
    deeds = plain_name(data.get("deeds"))
    if member is not None and name:
        raise ValidationError(_("Choose a member or enter a resident's name, not both."))
    if member is None and not name:
        raise ValidationError(
            {"resident_name": _("Choose a member, or enter the resident's name.")}
        )
    if member is not None and not (
        member.community_id == community.pk
        and Member.objects.visible_to(actor).filter(pk=member.pk).exists()
    ):
        raise ValidationError({"member": _("Choose a member of your community.")})
    if member is not None and member.status != Member.Status.ACTIVE:
        raise ValidationError(
            {"member": _("%(name)s is no longer registered (%(status)s): nominate a member who is.")
             % {"name": member.name, "status": member.get_status_display()}}
        )  # fmt: skip
    if not deeds:
        raise ValidationError({"deeds": _("Describe the nominee's deeds.")})
    contact = "" if member is not None else plain_name(data.get("contact"))
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        # Locked: the same person nominated twice at once waits here for the first, which
        # the constraint then names in words.
        locked = _campaign_locked(campaign)
        problems = _nominating_problems(locked)
        if problems:
            raise ValidationError(problems)
        nomination = Nomination(
            campaign=locked, community=community, member=member, resident_name=name,
            contact=contact, contact_masked=mask_contact(contact),
            notes="" if member is not None else plain_name(data.get("notes")),
            deeds=deeds, submitted_by=actor,
        )  # fmt: skip
        nomination.full_clean()
        nomination.save()
        for upload, file_type in checked:
            attachment_store(
                NominationFile, upload, file_type, actor=actor, stored=stored,
                nomination=nomination,
            )  # fmt: skip
        NominationEvent.objects.create(
            nomination=nomination, actor=actor, action="nominate", to_state=State.SUBMITTED
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.CREATE, obj=nomination, request=request,
            detail={"campaign": campaign.pk, "member": member.pk if member else None,
                    "files": len(checked)},
        )  # fmt: skip
    return nomination


def nomination_may_edit(user, nomination: Nomination) -> bool:
    """Staff of the nominating community edit its nomination, and withdraw it."""
    return (
        user.has_perm("commendations.add_nomination")
        and _level(user) == Area.Level.COMMUNITY
        and nomination.community_id == user.area_id
    )


def nomination_may_withdraw(user, nomination: Nomination) -> bool:
    return nomination_may_edit(user, nomination)


def _street_state_label(nomination: Nomination) -> str:
    """The state as the street left it: the district's decision is not told before it
    publishes (the pages read a decided nomination as recommended)."""
    state = State.RECOMMENDED if nomination.state in DECIDED else State(nomination.state)
    return str(state.label)


def _awaiting_review_problems(nomination: Nomination, refusal: str) -> list[str]:
    """`refusal` with the street's word, unless the street has not reviewed the nomination
    yet; that it was withdrawn, if it was."""
    if nomination.state == State.WITHDRAWN:
        return [_("The community has withdrawn this nomination.")]
    if nomination.state != State.SUBMITTED:
        return [refusal % {"state": _street_state_label(nomination)}]
    return []


def nomination_edit_checks(nomination: Nomination) -> list[str]:
    """Why the community cannot edit its nomination now; empty when it can."""
    return _awaiting_review_problems(
        nomination,
        _("The street has already reviewed this nomination (%(state)s): it is no longer edited."),
    ) or _nominating_problems(nomination.campaign)


def nomination_withdraw_checks(nomination: Nomination) -> list[str]:
    """Why the community cannot withdraw its nomination now; empty when it can."""
    if nomination.campaign.state == Campaign.State.PUBLISHED:
        return [_("The results of this campaign are already published.")]
    if nomination.state == State.WITHDRAWN:
        return [_("This nomination is already withdrawn.")]
    return _awaiting_review_problems(
        nomination,
        _("The street has already reviewed this nomination (%(state)s): it is no longer "
          "withdrawn."),
    )  # fmt: skip


def nomination_edit(
    *, actor, nomination: Nomination, data: dict, uploads=(), request=None
) -> Nomination:
    """Change what the actor's community wrote of its nomination (the deeds, and for a
    resident the contact and notes; `contact` left out keeps it) and add files, while the
    street has not reviewed it and the campaign takes nominations."""
    if not nomination_may_edit(actor, nomination):
        raise PermissionDenied
    values = {"deeds": plain_name(data.get("deeds"))}
    if not values["deeds"]:
        raise ValidationError({"deeds": _("Describe the nominee's deeds.")})
    if not nomination.member_id:
        values["notes"] = plain_name(data.get("notes"))
        if "contact" in data:
            values["contact"] = plain_name(data["contact"])
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored_files, transaction.atomic():
        campaign = _campaign_locked(nomination.campaign)
        stored = _nomination_locked(nomination)
        stored.campaign = campaign
        problems = nomination_edit_checks(stored)
        if problems:
            raise ValidationError(problems)
        changed = sorted(name for name, value in values.items() if getattr(stored, name) != value)
        if not changed and not checked:
            raise ValidationError(_("Nothing was changed: the nomination is as it was."))
        for name in changed:
            setattr(stored, name, values[name])
        if "contact" in changed:
            stored.contact_masked = mask_contact(stored.contact)
            changed_columns = [*changed, "contact_masked"]
        else:
            changed_columns = changed
        stored.full_clean()
        if changed_columns:
            stored.save(update_fields=changed_columns)
        for upload, file_type in checked:
            attachment_store(
                NominationFile, upload, file_type, actor=actor, stored=stored_files,
                nomination=stored,
            )  # fmt: skip
        words = [str(Nomination._meta.get_field(name).verbose_name) for name in changed]
        if checked:
            words.append(
                ngettext("%(count)s file added", "%(count)s files added", len(checked))
                % {"count": len(checked)}
            )
        NominationEvent.objects.create(
            nomination=stored, actor=actor, action="edit", to_state=stored.state,
            note=_("Changed: %(what)s") % {"what": "、".join(words)},
        )  # fmt: skip
        audit_record(
            actor=actor, action=AuditEvent.Action.UPDATE, obj=stored, request=request,
            detail={"fields": changed, "files": len(checked)},
        )  # fmt: skip
    return stored


def nomination_withdraw(*, actor, nomination: Nomination, request=None) -> Nomination:
    """Take back (撤回) the actor's community's nomination while the street has not reviewed
    it and the results are not published. It is kept, with its history, and counts no more:
    the same person may be nominated again."""
    if not nomination_may_withdraw(actor, nomination):
        raise PermissionDenied
    with transaction.atomic():
        campaign = _campaign_locked(nomination.campaign)
        stored = _nomination_locked(nomination)
        stored.campaign = campaign
        problems = nomination_withdraw_checks(stored)
        if problems:
            raise ValidationError(problems)
        stored.state = State.WITHDRAWN
        stored.save(update_fields=["state"])
        _step(actor=actor, nomination=stored, action="withdraw", to_state=stored.state,
              note="", request=request)  # fmt: skip
    return stored


def nomination_may_review(user, nomination: Nomination) -> bool:
    """The street above the nominating community reviews."""
    return (
        user.has_perm("commendations.review_nomination")
        and _level(user) == Area.Level.STREET
        and nomination.community.parent_id == user.area_id
    )


def nomination_may_decide(user, nomination: Nomination) -> bool:
    return user.has_perm("commendations.decide_nomination") and campaign_may_run(
        user, nomination.campaign
    )


def _nomination_locked(nomination: Nomination) -> Nomination:
    return (
        Nomination.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .get(pk=nomination.pk)
    )


def _step(*, actor, nomination, action, to_state, note, request, before=None) -> None:
    """The step in the nomination's history and its audit line (`before`: the state a
    review or a decision changed)."""
    NominationEvent.objects.create(
        nomination=nomination, actor=actor, action=action, to_state=to_state, note=note
    )
    detail = {"state": to_state}
    if before is not None:
        detail["before"] = {"state": before}
    audit_record(
        actor=actor, action=AuditEvent.Action.STATUS, obj=nomination, request=request,
        detail=detail,
    )  # fmt: skip


def nomination_review(
    *,
    actor,
    nomination: Nomination,
    recommend: bool,
    opinion: str = "",
    change: bool = False,
    request=None,
) -> Nomination:
    """The street's review: 推荐 (recommended to the district) or 不推荐, with its opinion
    (required when not recommending), before the results are published. Given once (the
    same form sent twice is refused in words); with `change`, a review given is changed while
    the district has not decided the nomination."""
    if not nomination_may_review(actor, nomination):
        raise PermissionDenied
    opinion = plain_name(opinion)
    if not recommend and not opinion:
        raise ValidationError({"opinion": _("Say why the nominee is not recommended.")})
    to_state = State.RECOMMENDED if recommend else State.NOT_RECOMMENDED
    with transaction.atomic():
        # The campaign first, as publishing locks it: a review changed back to recommended
        # waits for a publication that counts the nominations awaiting a decision.
        campaign = _campaign_locked(nomination.campaign)
        stored = _nomination_locked(nomination)
        before = stored.state
        if campaign.state == Campaign.State.PUBLISHED:
            raise ValidationError(_("The results of this campaign are already published."))
        if not change:
            problems = _awaiting_review_problems(
                stored, _("The street has already reviewed this nomination: %(state)s.")
            )
            if problems:
                raise ValidationError(problems)
        elif stored.state == State.WITHDRAWN:
            raise ValidationError(_("The community has withdrawn this nomination."))
        elif stored.state == State.SUBMITTED:
            raise ValidationError(_("The street has not reviewed this nomination yet."))
        elif stored.state in DECIDED:
            raise ValidationError(
                _("The district has already decided on this nomination: the street's review "
                  "is no longer changed.")
            )  # fmt: skip
        elif stored.state == to_state and stored.street_opinion == opinion:
            raise ValidationError(_("The review is unchanged."))
        stored.state = to_state
        stored.street_opinion, stored.street_by, stored.street_at = opinion, actor, timezone.now()
        stored.save(update_fields=["state", "street_opinion", "street_by", "street_at"])
        _step(actor=actor, nomination=stored, action="review_change" if change else "review",
              to_state=stored.state, note=opinion, request=request,
              before=before if change else None)  # fmt: skip
    return stored


def nomination_decide(
    *,
    actor,
    nomination: Nomination,
    commend: bool,
    opinion: str = "",
    change: bool = False,
    request=None,
) -> Nomination:
    """The district's decision on a nomination the street recommended: 表彰 or 不予表彰, with
    its opinion (required when not commending), within the campaign's quota; after the
    nominating ended and before the results are published. Given once (the same form sent
    twice is refused in words); with `change`, a decision given is changed."""
    if not nomination_may_decide(actor, nomination):
        raise PermissionDenied
    opinion = plain_name(opinion)
    if not commend and not opinion:
        raise ValidationError({"opinion": _("Say why the nominee is not commended.")})
    with transaction.atomic():
        # The campaign first, as publishing locks it: two decisions against the quota wait
        # for each other.
        campaign = _campaign_locked(nomination.campaign)
        stored = _nomination_locked(nomination)
        if campaign.state == Campaign.State.PUBLISHED:
            raise ValidationError(_("The results of this campaign are already published."))
        if campaign.state != Campaign.State.REVIEW:
            raise ValidationError(
                _("The campaign is still taking nominations: end the nominating first.")
            )
        to_state = State.COMMENDED if commend else State.NOT_COMMENDED
        before = stored.state
        if change:
            if stored.state not in DECIDED:
                raise ValidationError(_("You have not decided this nomination yet."))
            if stored.state == to_state and stored.district_opinion == opinion:
                raise ValidationError(_("The decision is unchanged."))
        elif stored.state in DECIDED:
            raise ValidationError(
                _("This nomination has already been decided: %(state)s.")
                % {"state": stored.get_state_display()}
            )
        elif stored.state != State.RECOMMENDED:
            raise ValidationError(_("Only a nomination the street recommended is decided."))
        if commend and campaign.quota is not None:
            # A decision changed to 表彰 does not count its own nomination twice.
            commended = (
                campaign.nominations.filter(state=State.COMMENDED).exclude(pk=stored.pk).count()
            )
            if commended >= campaign.quota:
                raise ValidationError(
                    _("The quota of %(quota)s commendations is reached.")
                    % {"quota": campaign.quota}
                )
        stored.state = to_state
        stored.district_opinion, stored.district_by = opinion, actor
        stored.district_at = timezone.now()
        stored.save(update_fields=["state", "district_opinion", "district_by", "district_at"])
        _step(actor=actor, nomination=stored, action="decide_change" if change else "decide",
              to_state=stored.state, note=opinion, request=request,
              before=before if change else None)  # fmt: skip
    return stored


# -- Areas merged (撤并) or split: campaigns and nominations follow their area ---------------


def area_commendations_count(area: Area) -> int:
    return (
        Campaign.objects.filter(area=area).count()
        + Nomination.objects.filter(community=area).count()
    )


def area_commendations_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """Campaigns of `source` become `target`'s, and so do its nominations; a resident whose
    name `target` already nominated in the same campaign gets the old community's name in
    brackets (one name per community and campaign, withdrawn nominations aside)."""
    renamed = []
    suffix = f"（{source.name}）"
    room = Nomination._meta.get_field("resident_name").max_length - len(suffix)
    taken = Nomination.objects.standing().filter(community=target, member__isnull=True)
    residents = Nomination.objects.standing().filter(community=source, member__isnull=True)
    for nomination in residents:
        clash = taken.filter(
            campaign_id=nomination.campaign_id, resident_name=nomination.resident_name
        )
        if clash.exists():
            nomination.resident_name = nomination.resident_name[:room] + suffix
            nomination.save(update_fields=["resident_name"])
            renamed.append(nomination.pk)
    moved = {
        "campaigns": Campaign.objects.filter(area=source).update(area=target),
        "nominations": Nomination.objects.filter(community=source).update(community=target),
    }
    area_move_audit(
        actor=actor, source=source, target=target, request=request, change=change, **moved,
        **({"renamed": renamed} if renamed else {}),
    )  # fmt: skip


# -- Two records of one person merged (members.services.member_merge) ---------------------
#
# Registered as a `MemberMover`: the merged record's nominations become the kept record's, so
# her commendations show on the record that stays. Where both were nominated in one campaign
# the merged record keeps its own (a person is nominated once per campaign; a withdrawn
# nomination does not count and moves); an undo puts back those that moved.


def member_nominations_count(member: Member) -> int:
    return Nomination.objects.filter(member=member).count()


def member_nominations_move(*, keep: Member, merged: Member) -> dict:
    kept_campaigns = Nomination.objects.standing().filter(member=keep).values("campaign_id")
    moving = Nomination.objects.filter(member=merged).exclude(
        Q(campaign_id__in=kept_campaigns) & ~Q(state=State.WITHDRAWN)
    )
    moved = list(moving.values_list("pk", flat=True))
    Nomination.objects.filter(pk__in=moved).update(member=keep)
    return {"moved": moved}


def member_nominations_undo(*, keep: Member, merged: Member, moved: dict) -> None:
    Nomination.objects.filter(pk__in=moved["moved"], member=keep).update(member=merged)
