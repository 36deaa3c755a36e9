"""Writes on assessment periods. Views, admin and commands call these and nothing else.

Who may do what: district staff (and administrators) of the period's district set it up,
open, finalise and publish it; hand-scored items are scored by the role the indicator names
(district staff, or the street staff of the community's street). Nothing changes once a
period is final. Every write leaves an audit event.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import MemberTally
from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent, User

from . import rules
from .models import Indicator, ManualScore, Period, Result, Target
from .standings import standings


def _district_staff(actor, period_district: Area) -> bool:
    if actor.sees_everything:
        return True
    return (
        actor.role == User.Role.DISTRICT
        and actor.area is not None
        and actor.area.code == period_district.code
    )


def _check_manages(actor, period: Period) -> None:
    """`actor` None is a command run by an administrator (the demo seed)."""
    if actor is None:
        return
    if not actor.has_perm("assessment.change_period") or not _district_staff(
        actor, period.district
    ):
        raise PermissionDenied


def _check_not_final(period: Period) -> None:
    if period.state == Period.State.FINAL:
        raise ValidationError(_("The period is finalised: nothing in it can change any more."))


def _audit(actor, obj, action, detail, request=None) -> None:
    audit_record(actor=actor, action=action, obj=obj, request=request, detail=detail)


def period_create(*, actor, data: dict, request=None) -> Period:
    period = Period(created_by=actor, **data)
    if period.district_id is None or period.district.level != Area.Level.DISTRICT:
        raise ValidationError({"district": _("Choose a district.")})
    _check_manages(actor, period)
    with transaction.atomic():
        period.full_clean()
        period.save()
        _audit(actor, period, AuditEvent.Action.CREATE, {"name": period.name}, request)
    return period


def period_update(*, actor, period: Period, data: dict, request=None) -> Period:
    _check_manages(actor, period)
    _check_not_final(period)
    with transaction.atomic():
        for name, value in data.items():
            setattr(period, name, value)
        period.full_clean()
        period.save()
        _audit(actor, period, AuditEvent.Action.UPDATE, {"fields": sorted(data)}, request)
    return period


def indicator_add(*, actor, period: Period, data: dict, request=None) -> Indicator:
    """Add an indicator while the period is being set up."""
    _check_manages(actor, period)
    if period.state != Period.State.DRAFT:
        raise ValidationError(_("Indicators are chosen before the period opens."))
    with transaction.atomic():
        indicator = Indicator(period=period, **data)
        indicator.full_clean()
        indicator.save()
        _audit(actor, period, AuditEvent.Action.UPDATE, {"indicator": indicator.name}, request)
    return indicator


def indicator_remove(*, actor, indicator: Indicator, request=None) -> None:
    period = indicator.period
    _check_manages(actor, period)
    if period.state != Period.State.DRAFT:
        raise ValidationError(_("Indicators are chosen before the period opens."))
    with transaction.atomic():
        name = indicator.name
        indicator.delete()
        _audit(actor, period, AuditEvent.Action.UPDATE, {"removed": name}, request)


def target_for(indicator: Indicator, members: int):
    """A community's target on a measured indicator, from its registered members."""
    if indicator.rule == Indicator.Rule.TIERS:
        return rules.tier_target(indicator.tiers, members)
    if indicator.rule == Indicator.Rule.LINEAR:
        return rules.linear_target(indicator.base, indicator.rate, members)
    return rules.linear_target(indicator.base, 0, 0)  # fixed: the base for everyone


def period_open(*, actor, period: Period, request=None) -> Period:
    """Open the period: every community's targets follow from its registered members now."""
    _check_manages(actor, period)
    if period.state != Period.State.DRAFT:
        raise ValidationError(_("The period is already open."))
    indicators = list(period.indicators.all())
    if not indicators:
        raise ValidationError(_("Choose the indicators first."))
    with transaction.atomic():
        communities = list(Area.objects.communities().within(period.district))
        members = dict(
            MemberTally.objects.filter(
                community__in=communities, dimension=MemberTally.Dimension.TOTAL
            ).values_list("community_id", "count")
        )
        Target.objects.bulk_create(
            [
                Target(
                    indicator=indicator,
                    community=community,
                    members=members.get(community.pk, 0),
                    value=target_for(indicator, members.get(community.pk, 0)),
                )
                for indicator in indicators
                if indicator.is_measured
                for community in communities
            ]
        )
        period.state, period.opened_at = Period.State.OPEN, timezone.now()
        period.save(update_fields=["state", "opened_at"])
        _audit(actor, period, AuditEvent.Action.STATUS, {"state": period.state}, request)
    return period


def may_score(actor, indicator: Indicator, community: Area) -> bool:
    """Whether `actor` may score this hand-scored item for this community."""
    if not actor.has_perm("assessment.score_indicator") or indicator.is_measured:
        return False
    if actor.sees_everything:
        return True
    if actor.area is None or not community.code.startswith(actor.area.code):
        return False
    if indicator.scored_by == Indicator.ScoredBy.DISTRICT:
        return actor.role == User.Role.DISTRICT
    return actor.role == User.Role.STREET


def score_set(
    *, actor, indicator: Indicator, community: Area, points, evidence: str, request=None
) -> ManualScore:
    """Score a hand-scored item, bonus or deduction for a community, with evidence."""
    period = indicator.period
    _check_not_final(period)
    if period.state != Period.State.OPEN:
        raise ValidationError(_("Items are scored while the period is open."))
    if community.level != Area.Level.COMMUNITY or not community.code.startswith(
        period.district.code
    ):
        raise ValidationError({"community": _("Choose a community of the period's district.")})
    if not may_score(actor, indicator, community):
        raise PermissionDenied
    if points is None or points < 0 or points > indicator.weight:
        raise ValidationError(
            {"points": _("Give between 0 and %(most)s points.") % {"most": indicator.weight}}
        )
    if not (evidence or "").strip():
        raise ValidationError({"evidence": _("Say what the score rests on.")})
    with transaction.atomic():
        score, _created = ManualScore.objects.update_or_create(
            indicator=indicator,
            community=community,
            defaults={"points": points, "evidence": evidence.strip(), "scored_by": actor},
        )
        _audit(
            actor,
            period,
            AuditEvent.Action.UPDATE,
            {"indicator": indicator.name, "community": community.code, "points": str(points)},
            request,
        )
    return score


def period_finalise(*, actor, period: Period, request=None) -> list[Result]:
    """Compute and store every community's result, then lock the period."""
    _check_manages(actor, period)
    if not actor.has_perm("assessment.finalise_period"):
        raise PermissionDenied
    _check_not_final(period)
    if period.state != Period.State.OPEN:
        raise ValidationError(_("Open the period before finalising it."))
    given = period
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        _check_not_final(period)
        results = [
            Result(
                period=period,
                community=standing.community,
                total=standing.total,
                rank_in_street=standing.rank_in_street,
                rank_in_district=standing.rank_in_district,
                grade=standing.grade,
                outcome=standing.outcome,
                breakdown=[
                    {
                        "indicator": line.indicator.pk,
                        "target": None if line.target is None else str(line.target),
                        "actual": None if line.actual is None else str(line.actual),
                        "score": str(line.score),
                        "evidence": line.evidence,
                    }
                    for line in standing.lines
                ],
            )
            for standing in standings(period)
        ]
        Result.objects.bulk_create(results)
        period.state, period.finalised_at = Period.State.FINAL, timezone.now()
        period.save(update_fields=["state", "finalised_at"])
        _audit(actor, period, AuditEvent.Action.STATUS, {"state": period.state}, request)
    given.state, given.finalised_at = period.state, period.finalised_at
    return results


def period_publish(*, actor, period: Period, request=None) -> Period:
    """Let every community of the district see the whole ranking."""
    _check_manages(actor, period)
    if not actor.has_perm("assessment.finalise_period"):
        raise PermissionDenied
    period.refresh_from_db(fields=["state", "published"])
    if period.state != Period.State.FINAL:
        raise ValidationError(_("Only a finalised period's ranking is published."))
    with transaction.atomic():
        period.published = True
        period.save(update_fields=["published"])
        _audit(actor, period, AuditEvent.Action.STATUS, {"published": True}, request)
    return period
