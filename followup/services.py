"""Writes of what an assessment leads to (结果运用). Views, admin and commands call these and
nothing else; each step's rule lives here, once.

A rectification (责令整改) is ordered by the district for the communities of a published
period given 限期整改 or graded 不合格, with a notice and a deadline; the community reports
what it did, with evidence; the street checks the report and passes it on or sends it back;
the district accepts it (验收通过) or returns it to the community. Who may take each step is
decided by permissions (the role groups carry them, `tongzhan.roles`), where by scope: the
community's own workers report, the officers of its street check, the staff of the period's
district (or an administrator of every area) order, change and accept. Each step is taken on
the record locked (`select_for_update`), so a double submit takes it once; each leaves a
history line and an audit event.

A 示范社区's reward and its experience-sharing activity (one of the community's own
activities) are recorded by the same district staff.
"""

import datetime
import decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.models import Activity
from assessment.models import Period, Result
from tongzhan.attachments import attachment_store, files_kept_only_if_committed, uploads_checked
from tongzhan.audit import audit_record
from tongzhan.models import AuditEvent
from tongzhan.text import plain_name

from .models import (
    ModelCommunity,
    ModelCommunityChange,
    Rectification,
    RectificationEvent,
    RectificationFile,
)

State = Rectification.State

# Results that are ordered to rectify: the outcome 限期整改, or the grade 不合格 (an outcome
# left empty by a period's settings does not spare a failing community).
RECTIFY = Q(outcome=Result.Outcome.RECTIFY) | Q(grade=Result.Grade.FAIL)


def default_deadline(today: datetime.date | None = None) -> datetime.date:
    """The deadline a notice proposes: `RECTIFICATION_DAYS` (60) days from today."""
    today = today or timezone.localdate()
    return today + datetime.timedelta(days=getattr(settings, "RECTIFICATION_DAYS", 60))


def default_notice(period: Period) -> str:
    return _(
        "In the assessment %(period)s your community was graded fail. Rectify the "
        "shortcomings the assessment found by the deadline and report what was done, with "
        "evidence, to the street."
    ) % {"period": f"{period.district.name} {period.name}"}


# -- Who may do what ----------------------------------------------------------------------------


def manages(user, period: Period) -> bool:
    """Staff of the period's district who order and accept rectifications, or an
    administrator of every area."""
    if not user.is_authenticated or not user.has_perm("followup.manage_rectification"):
        return False
    return user.sees_everything or user.area_id == period.district_id


def may_report(user, rectification: Rectification) -> bool:
    """The community's own workers report its rectification."""
    return (
        user.is_authenticated
        and user.area_id == rectification.community_id
        and user.has_perm("followup.report_rectification")
    )


def may_check(user, rectification: Rectification) -> bool:
    """The officers of the community's street check the report."""
    return (
        user.is_authenticated
        and user.area_id is not None
        and user.area_id == rectification.community.parent_id
        and user.has_perm("followup.check_rectification")
    )


def may_accept(user, rectification: Rectification) -> bool:
    return manages(user, rectification.result.period)


def may_record_model(user, period: Period) -> bool:
    return (
        user.is_authenticated
        and user.has_perm("followup.change_modelcommunity")
        and (user.sees_everything or user.area_id == period.district_id)
    )


# -- Rectifications -----------------------------------------------------------------------------


def _check_published(period: Period) -> None:
    if period.state != Period.State.FINAL or not period.published:
        raise ValidationError(
            _("Rectifications are ordered once the period's ranking is published.")
        )


def _check_deadline(deadline, *, today=None) -> None:
    today = today or timezone.localdate()
    if deadline is None:
        raise ValidationError({"deadline": _("Set a deadline.")})
    if deadline < today:
        raise ValidationError({"deadline": _("The deadline cannot lie in the past.")})


def _check_notice(notice: str) -> str:
    # A text of characters that show nothing says nothing (tongzhan.text).
    notice = plain_name(notice)
    if not notice:
        raise ValidationError({"notice": _("Write the notice: what is to be rectified.")})
    return notice


def rectifications_due(period: Period):
    """The results of the period that are ordered to rectify and have no rectification yet."""
    return (
        Result.objects.filter(period=period)
        .filter(RECTIFY)
        .filter(rectification__isnull=True)
        .select_related("community__parent")
        .order_by("community__code")
    )


def rectifications_notify(
    *, actor, period: Period, deadline: datetime.date, notice: str, request=None
) -> list[Rectification]:
    """发出整改通知: one rectification for each community of the published period given
    限期整改 or graded 不合格 that has none yet, with the notice and deadline given (each can
    be changed later, one by one). Sending again orders only those still missing."""
    if not manages(actor, period):
        raise PermissionDenied
    notice = _check_notice(notice)
    _check_deadline(deadline)
    with transaction.atomic():
        # Two districts' clicks at once: the second waits and finds nothing left to order.
        period = Period.objects.select_for_update().select_related("district").get(pk=period.pk)
        _check_published(period)
        results = list(rectifications_due(period))
        if not results:
            raise ValidationError(_("Every community to rectify has its notice already."))
        made = []
        for result in results:
            rectification = Rectification(
                result=result,
                community=result.community,
                notice=notice,
                deadline=deadline,
                notified_by=actor,
            )
            rectification.full_clean()
            rectification.save()
            RectificationEvent.objects.create(
                rectification=rectification,
                actor=actor,
                action="notify",
                to_state=State.RECTIFYING,
                note=f"{notice}\n" + _("Deadline: %(day)s") % {"day": f"{deadline:%Y-%m-%d}"},
            )
            made.append(rectification)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=period,
            request=request,
            detail={
                "rectifications": [result.community.code for result in results],
                "deadline": f"{deadline}",
            },
        )
    return made


def _locked(rectification: Rectification) -> Rectification:
    """The rectification as stored, locked for the step: a second submit waits, then finds
    the step taken and is refused by the state check."""
    return (
        Rectification.objects.select_for_update(of=("self",))
        .select_related("result__period", "community")
        .get(pk=rectification.pk)
    )


def _check_state(rectification: Rectification, allowed: tuple, refusal: str) -> None:
    if rectification.state not in allowed:
        raise ValidationError(
            _("%(refusal)s: the rectification is %(state)s.")
            % {"refusal": refusal, "state": rectification.state_label}
        )


def _move(*, actor, rectification, action, to_state, note="", request=None, detail=None):
    event = RectificationEvent.objects.create(
        rectification=rectification,
        actor=actor,
        action=action,
        from_state=rectification.state,
        to_state=to_state,
        note=note,
    )
    rectification.state = to_state
    rectification.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.STATUS,
        obj=rectification,
        request=request,
        detail={"action": action, "from": event.from_state, "to": to_state, **(detail or {})},
    )
    return rectification


def rectification_update(
    *, actor, rectification: Rectification, notice: str, deadline: datetime.date, request=None
) -> Rectification:
    """The district changes the notice or the deadline (extends it, say) until it accepts."""
    if not may_accept(actor, rectification):
        raise PermissionDenied
    notice = _check_notice(notice)
    with transaction.atomic():
        locked = _locked(rectification)
        _check_state(
            locked,
            (State.RECTIFYING, State.REPORTED, State.PASSED),
            _("An accepted rectification is not changed"),
        )
        if deadline != locked.deadline:
            _check_deadline(deadline)
        changed = {}
        if notice != locked.notice:
            changed["notice"] = True
        if deadline != locked.deadline:
            changed["deadline"] = {"before": f"{locked.deadline}", "after": f"{deadline}"}
        if not changed:
            return locked
        lines = []
        if "notice" in changed:
            lines.append(notice)
        if "deadline" in changed:
            lines.append(
                _("Deadline: %(before)s → %(after)s")
                % {"before": f"{locked.deadline:%Y-%m-%d}", "after": f"{deadline:%Y-%m-%d}"}
            )
        locked.notice, locked.deadline = notice, deadline
        locked.full_clean()
        return _move(
            actor=actor,
            rectification=locked,
            action="edit",
            to_state=locked.state,
            note="\n".join(lines),
            request=request,
            detail=changed,
        )


def rectification_report(
    *, actor, rectification: Rectification, report: str, uploads=(), request=None
) -> Rectification:
    """The community reports what it rectified, with its evidence: the report's text and,
    if given, photos or PDFs (checked by their bytes, as every upload is)."""
    if not may_report(actor, rectification):
        raise PermissionDenied
    report = plain_name(report)
    if not report:
        raise ValidationError({"report": _("Say what was rectified.")})
    checked = uploads_checked(uploads)
    with files_kept_only_if_committed() as stored, transaction.atomic():
        locked = _locked(rectification)
        _check_state(locked, (State.RECTIFYING,), _("Only a rectification underway is reported"))
        names = [
            attachment_store(
                RectificationFile, *pair, actor=actor, stored=stored, rectification=locked
            ).name
            for pair in checked
        ]
        if not names and not locked.files.exists():
            raise ValidationError({"files": _("Add the evidence: at least one photo or PDF.")})
        locked.report = report
        locked.reported_at = timezone.now()
        locked.returned_reason = ""
        return _move(
            actor=actor,
            rectification=locked,
            action="report",
            to_state=State.REPORTED,
            note=report,
            request=request,
            detail={"files": names},
        )


def rectification_pass(*, actor, rectification: Rectification, request=None) -> Rectification:
    """The street checked the report and passes it on to the district."""
    if not may_check(actor, rectification):
        raise PermissionDenied
    with transaction.atomic():
        locked = _locked(rectification)
        _check_state(locked, (State.REPORTED,), _("Only a reported rectification is checked"))
        return _move(
            actor=actor, rectification=locked, action="pass", to_state=State.PASSED,
            request=request,
        )  # fmt: skip


def _send_back(*, actor, rectification, reason, allowed, action, refusal, request):
    reason = plain_name(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why it is sent back.")})
    with transaction.atomic():
        locked = _locked(rectification)
        _check_state(locked, allowed, refusal)
        locked.returned_reason = reason
        return _move(
            actor=actor, rectification=locked, action=action, to_state=State.RECTIFYING,
            note=reason, request=request, detail={"reason": reason},
        )  # fmt: skip


def rectification_send_back(
    *, actor, rectification: Rectification, reason: str, request=None
) -> Rectification:
    """The street sends the report back to the community, with the reason: it reports again."""
    if not may_check(actor, rectification):
        raise PermissionDenied
    return _send_back(
        actor=actor, rectification=rectification, reason=reason, allowed=(State.REPORTED,),
        action="send_back", refusal=_("Only a reported rectification is checked"),
        request=request,
    )  # fmt: skip


def rectification_accept(*, actor, rectification: Rectification, request=None) -> Rectification:
    """验收通过: the district accepts the rectification the street passed on. Final."""
    if not may_accept(actor, rectification):
        raise PermissionDenied
    with transaction.atomic():
        locked = _locked(rectification)
        _check_state(
            locked, (State.PASSED,), _("Only a rectification the street passed on is accepted")
        )
        locked.accepted_at, locked.accepted_by = timezone.now(), actor
        return _move(
            actor=actor, rectification=locked, action="accept", to_state=State.ACCEPTED,
            request=request,
        )  # fmt: skip


def rectification_return(
    *, actor, rectification: Rectification, reason: str, request=None
) -> Rectification:
    """The district does not accept it: back to the community, with the reason."""
    if not may_accept(actor, rectification):
        raise PermissionDenied
    return _send_back(
        actor=actor, rectification=rectification, reason=reason, allowed=(State.PASSED,),
        action="return", refusal=_("Only a rectification the street passed on is accepted"),
        request=request,
    )  # fmt: skip


# -- 示范社区 ------------------------------------------------------------------------------------


def model_results(period: Period):
    """The period's 示范社区, best first."""
    return (
        Result.objects.filter(period=period, outcome=Result.Outcome.MODEL)
        .select_related("community__parent")
        .order_by("rank_in_district", "community__code")
    )


def model_activity_choices(actor, community):
    """The activities the district may link: the community's own, within the actor's scope."""
    return (
        Activity.objects.visible_to(actor)
        .filter(area=community)
        .select_related("type")
        .order_by("-starts_at")
    )


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, decimal.Decimal):
        return f"{value:.2f}"
    if isinstance(value, Activity):
        return f"{value.title} ({timezone.localtime(value.starts_at):%Y-%m-%d})"
    return str(value)


def model_community_set(
    *, actor, result: Result, reward, activity: Activity | None, request=None
) -> ModelCommunity:
    """Record a 示范社区's reward (yuan) and its experience-sharing activity, one of the
    community's own activities. Refused for a result that is not a published 示范社区, and
    for an activity of another community or outside the actor's area."""
    period = result.period
    if not may_record_model(actor, period):
        raise PermissionDenied
    if reward is not None and reward < 0:
        raise ValidationError({"reward": _("A reward cannot be negative.")})
    if activity is not None and not (
        model_activity_choices(actor, result.community).filter(pk=activity.pk).exists()
    ):
        raise ValidationError({"activity": _("Choose one of the community's own activities.")})
    with transaction.atomic():
        locked_period = Period.objects.select_for_update().get(pk=period.pk)
        _check_published(locked_period)
        if result.outcome != Result.Outcome.MODEL:
            raise ValidationError(_("Only a model community's reward is recorded."))
        record, _created = ModelCommunity.objects.select_for_update().get_or_create(
            result=result, defaults={"community": result.community, "recorded_by": actor}
        )
        fields = (("reward", _("reward (yuan)")), ("activity", _("experience-sharing activity")))
        changes = [
            {"field": str(label), "before": _shown(getattr(record, name)), "after": _shown(value)}
            for (name, label), value in zip(fields, (reward, activity), strict=True)
            if _shown(getattr(record, name)) != _shown(value)
        ]
        if not changes:
            return record
        record.reward, record.activity, record.recorded_by = reward, activity, actor
        record.full_clean()
        record.save()
        ModelCommunityChange.objects.create(model_community=record, actor=actor, changes=changes)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=record,
            request=request,
            detail={"changes": changes},
        )
    return record


# -- A community merged into another (tongzhan.services.area_merge) -----------------------------
#
# Registered as an `AreaMover`: a rectification still underway goes with the community's work
# to the community it is merged into, whose workers then report it; the result it stands on
# stays the old community's, as every assessment result does. Accepted ones are history and
# stay where they were.


def area_rectifications_count(area) -> int:
    return Rectification.objects.filter(community=area).underway().count()


def area_rectifications_move(*, actor, source, target, request=None, change="merge"):
    moved = list(Rectification.objects.select_for_update().filter(community=source).underway())
    for rectification in moved:
        rectification.community = target
        _move(
            actor=actor, rectification=rectification, action="merge",
            to_state=rectification.state, note=f"{source.name} → {target.name}",
            request=request, detail={"from_area": source.code, "to_area": target.code},
        )  # fmt: skip
