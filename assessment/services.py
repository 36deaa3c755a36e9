"""Writes on assessment periods. Views, admin and commands call these and nothing else.

Who may do what is decided by permissions (the role groups carry them, `tongzhan.roles`),
where by scope: staff of the period's district holding `assessment.manage_period` (and
administrators of every area) set it up, open, finalize and publish it; hand-scored items
are scored within the scorer's area by whoever holds the permission for the level the
indicator names (`score_district_item`, `score_street_item`). Nothing changes once a period
is final. Every write leaves an audit event.
"""

import dataclasses
import datetime
import decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Member, MemberTally, Nomination
from members.services import nomination_decide, representative_set
from tongzhan.audit import audit_record
from tongzhan.models import Area, AuditEvent
from tongzhan.scoping import within_area
from tongzhan.uploads import UploadRefused, check_upload, upload_name

from . import rules
from .models import (
    Admission,
    Evaluation,
    EvaluationCategory,
    EvaluationItem,
    EvaluationRound,
    EvaluationScore,
    EvaluationTemplate,
    Indicator,
    ManualScore,
    Period,
    Result,
    Target,
    VetoMark,
)
from .standings import EvaluationRow, round_results, standings


def manages_district(actor, period_district: Area) -> bool:
    """Staff of that district who run its periods, or an administrator of every area."""
    if actor.sees_everything:
        return True
    return actor.has_perm("assessment.manage_period") and actor.area_id == period_district.pk


def _check_manages(actor, period: Period) -> None:
    """`actor` None is a command run by an administrator (the demo seed)."""
    if actor is None:
        return
    if not actor.has_perm("assessment.change_period") or not manages_district(
        actor, period.district
    ):
        raise PermissionDenied


def _check_not_final(period: Period) -> None:
    if period.state == Period.State.FINAL:
        raise ValidationError(_("The period is finalized: nothing in it can change any more."))


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


def _check_draft(actor, period: Period) -> None:
    """Within the write's transaction: the period as stored, locked, is still being set up
    (opening takes the same lock, so an indicator cannot change while the period opens)."""
    _check_manages(actor, period)
    locked = Period.objects.select_for_update().only("state").get(pk=period.pk)
    if locked.state != Period.State.DRAFT:
        raise ValidationError(_("Indicators are chosen before the period opens."))


def indicator_add(*, actor, period: Period, data: dict, request=None) -> Indicator:
    """Add an indicator while the period is being set up."""
    with transaction.atomic():
        _check_draft(actor, period)
        indicator = Indicator(period=period, **data)
        indicator.full_clean()
        indicator.save()
        _audit(actor, period, AuditEvent.Action.UPDATE, {"indicator": indicator.name}, request)
    return indicator


def indicator_update(*, actor, indicator: Indicator, data: dict, request=None) -> Indicator:
    """Change an indicator while the period is being set up: the checks of `indicator_add`."""
    period = indicator.period
    with transaction.atomic():
        _check_draft(actor, period)
        changed = sorted(name for name, value in data.items() if getattr(indicator, name) != value)
        for name, value in data.items():
            setattr(indicator, name, value)
        indicator.full_clean()
        indicator.save()
        _audit(
            actor,
            period,
            AuditEvent.Action.UPDATE,
            {"indicator": indicator.name, "fields": changed},
            request,
        )
    return indicator


# What a copied indicator keeps of the one it is copied from.
COPIED_FIELDS = [
    "name", "kind", "metric", "activity_type", "weight", "rule", "tiers", "base", "rate", "cap",
    "scored_by", "sort_order",
]  # fmt: skip


def period_copy_indicators(*, actor, period: Period, source: Period, request=None):
    """Copy the indicators of another period of the same district into a period being set up
    (added to those it has): a district's yearly assessment mostly repeats the last one.

    An indicator whose name the period already has is not copied again: copying twice (a
    second press, or after adding some by hand) must not double the points. Refused, naming
    them, when the period has them all."""
    _check_manages(actor, period)
    if source.pk == period.pk or source.district_id != period.district_id:
        raise ValidationError(
            {"source": _("Choose another assessment period of the same district.")}
        )
    originals = list(source.indicators.all())
    if not originals:
        raise ValidationError({"source": _("That period has no indicators to copy.")})
    with transaction.atomic():
        _check_draft(actor, period)  # locks the period: two copies at once run one by one
        present = set(period.indicators.values_list("name", flat=True))
        missing = [original for original in originals if original.name not in present]
        if not missing:
            raise ValidationError({
                "source": _("This period already has every indicator of %(period)s: %(names)s.")
                % {"period": source.name, "names": _names(originals)}
            })  # fmt: skip
        copies = []
        for original in missing:
            copy = Indicator(
                period=period, **{name: getattr(original, name) for name in COPIED_FIELDS}
            )
            copy.full_clean()
            copies.append(copy)
        Indicator.objects.bulk_create(copies)
        _audit(
            actor,
            period,
            AuditEvent.Action.UPDATE,
            {
                "copied_from": source.pk,
                "indicators": [copy.name for copy in copies],
                "already_there": [o.name for o in originals if o.name in present],
            },
            request,
        )
    return copies


def indicator_remove(*, actor, indicator: Indicator, request=None) -> None:
    period = indicator.period
    with transaction.atomic():
        _check_draft(actor, period)
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


# -- The steps of a period's life and what each needs ------------------------------------------

# The points of the measured and hand-scored items add up to this; bonus and deduction items
# come on top (加分、减分项另计).
FULL_MARKS = decimal.Decimal(100)
COUNTED_KINDS = (Indicator.Kind.MEASURED, Indicator.Kind.SCORED)


@dataclasses.dataclass
class PreCheck:
    """One condition a step needs, as its confirmation page lists it: `problem` is empty when
    it is met, and `details` name what stands in the way (communities without a score)."""

    label: str
    problem: str = ""
    details: list[str] = dataclasses.field(default_factory=list)

    @property
    def met(self) -> bool:
        return not self.problem


def period_weight_total(period: Period) -> decimal.Decimal:
    """The points of the measured and hand-scored items (bonus and deduction items apart)."""
    return sum(
        (indicator.weight for indicator in period.indicators.all()
         if indicator.kind in COUNTED_KINDS),
        decimal.Decimal(0),
    )  # fmt: skip


def period_overlapping(period: Period):
    """Periods of the same district already opened whose dates overlap this one's."""
    return (
        Period.objects.filter(
            district_id=period.district_id,
            starts_on__lte=period.ends_on,
            ends_on__gte=period.starts_on,
        )
        .exclude(pk=period.pk)
        .exclude(state=Period.State.DRAFT)
    )


def period_unscored(period: Period) -> list[tuple[Indicator, list[Area]]]:
    """Each hand-scored item with the communities of the district that have no score on it.
    Bonus and deduction items are not in the list: no entry there means none was earned."""
    communities = list(
        Area.objects.current().communities().within(period.district).order_by("code")
    )
    scored = set(
        ManualScore.objects.filter(indicator__period=period).values_list(
            "indicator_id", "community_id"
        )
    )
    missing = []
    for indicator in period.indicators.filter(kind=Indicator.Kind.SCORED):
        lacking = [c for c in communities if (indicator.pk, c.pk) not in scored]
        if lacking:
            missing.append((indicator, lacking))
    return missing


def _names(items) -> str:
    return "、".join(str(item) for item in items)


def _open_checks(period: Period) -> list[PreCheck]:
    checks = [PreCheck(_("The period is being set up"))]
    if period.state != Period.State.DRAFT:
        checks[0].problem = _("The period is already open.")
    has_indicators = period.indicators.exists()
    checks.append(PreCheck(_("Indicators are chosen")))
    if not has_indicators:
        checks[-1].problem = _("Choose the indicators first.")
    total = period_weight_total(period)
    checks.append(PreCheck(_("The points add up to 100")))
    if has_indicators and total != FULL_MARKS:
        checks[-1].problem = _(
            "The measured and hand-scored items add up to %(total)s points, not 100: "
            "change their points before opening the period."
        ) % {"total": _number(total)}
    overlapping = list(period_overlapping(period))
    checks.append(PreCheck(_("No other period of the district covers the same dates")))
    if overlapping:
        checks[-1].problem = _("The dates overlap another period of the district: %(periods)s.") % {
            "periods": _names(
                f"{other.name}（{other.starts_on:%Y-%m-%d} – {other.ends_on:%Y-%m-%d}）"
                for other in overlapping
            )
        }
    return checks


def _number(value: decimal.Decimal) -> str:
    """Points as the pages show them (floatformat "-2"): 110, 99.50."""
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


def _finalize_checks(period: Period) -> list[PreCheck]:
    checks = [PreCheck(_("The period is open"))]
    if period.state != Period.State.OPEN:
        checks[0].problem = (
            _("The period is finalized: nothing in it can change any more.")
            if period.state == Period.State.FINAL
            else _("Open the period before finalizing it.")
        )
    unscored = period_unscored(period) if period.state == Period.State.OPEN else []
    check = PreCheck(_("Every hand-scored item is scored in every community"))
    if unscored:
        check.problem = _(
            "Hand-scored items are not scored in every community: score them (0 points too, "
            "with the reason) before finalizing."
        )
        check.details = [
            _("%(item)s: not scored in %(count)s communities: %(communities)s")
            % {"item": indicator.name, "count": len(lacking), "communities": _names(
                community.name for community in lacking)}
            for indicator, lacking in unscored
        ]  # fmt: skip
    checks.append(check)
    return checks


def _publish_checks(period: Period) -> list[PreCheck]:
    check = PreCheck(_("The period is finalized and not yet published"))
    if period.state != Period.State.FINAL:
        check.problem = _("Only a finalized period's ranking is published.")
    elif period.published:
        check.problem = _("The ranking is published already.")
    return [check]


def _reopen_checks(period: Period) -> list[PreCheck]:
    check = PreCheck(_("The period is finalized and its ranking not published"))
    if period.state != Period.State.FINAL:
        check.problem = _("Only a finalized period is reopened.")
    elif period.published:
        check.problem = _("The ranking is published: the period can no longer be reopened.")
    return [check]


PRE_CHECKS = {
    "open": _open_checks,
    "finalize": _finalize_checks,
    "publish": _publish_checks,
    "reopen": _reopen_checks,
}


def period_checks(period: Period, step: str) -> list[PreCheck]:
    """What the step needs, each condition met or not (the confirmation page lists them)."""
    return PRE_CHECKS[step](period)


def _refuse_unless_ready(period: Period, step: str) -> None:
    problems = [check.problem for check in period_checks(period, step) if not check.met]
    if problems:
        raise ValidationError(problems)


def period_open(*, actor, period: Period, request=None) -> Period:
    """Open the period: every community's targets follow from its registered members now.
    Refused unless the measured and hand-scored items add up to 100 points and no opened
    period of the district covers any of the same days."""
    _check_manages(actor, period)
    given = period
    with transaction.atomic():
        # Two periods of a district opened at once must not each miss the other.
        Area.objects.select_for_update().filter(pk=period.district_id).get()
        period = Period.objects.select_for_update().get(pk=period.pk)
        _refuse_unless_ready(period, "open")
        indicators = list(period.indicators.all())
        communities = list(Area.objects.current().communities().within(period.district))
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
    given.state, given.opened_at = period.state, period.opened_at
    return given


def _scores_items_of(actor) -> list[str]:
    """The `Indicator.scored_by` values whose items `actor` scores (in their area)."""
    if actor.sees_everything:
        return list(Indicator.ScoredBy.values)
    permissions = {
        Indicator.ScoredBy.DISTRICT: "assessment.score_district_item",
        Indicator.ScoredBy.STREET: "assessment.score_street_item",
    }
    return [kind for kind, permission in permissions.items() if actor.has_perm(permission)]


def may_score(actor, indicator: Indicator, community: Area) -> bool:
    """Whether `actor` may score this hand-scored item for this community."""
    if not actor.has_perm("assessment.score_indicator") or indicator.is_measured:
        return False
    if not actor.sees_everything and (actor.area is None or not community.is_within(actor.area)):
        return False
    return indicator.scored_by in _scores_items_of(actor)


def scores_owed(actor) -> list[tuple[Period, Area, int]]:
    """Per open period the actor sees and community of it in their area: how many of its
    hand-scored items (`period_unscored`) they may score there (`may_score`) and nobody has
    scored yet, as each community's page lists them; communities owing none are left out.

    Three queries whatever the number of open periods, items and communities (the home
    page's 待办 card asks on every load)."""
    if not actor.has_perm("assessment.score_indicator"):
        return []
    kinds = _scores_items_of(actor)
    periods = list(
        Period.objects.visible_to(actor)
        .filter(state=Period.State.OPEN)
        .select_related("district")
        .annotate(
            items=Count(
                "indicators",
                filter=Q(indicators__kind=Indicator.Kind.SCORED, indicators__scored_by__in=kinds),
            )
        )
        .filter(items__gt=0)
        .order_by("-starts_on", "pk")
    )
    if not periods:
        return []
    scored = {
        (period, community): n
        for period, community, n in ManualScore.objects.filter(
            indicator__period__in=[period.pk for period in periods],
            indicator__kind=Indicator.Kind.SCORED,
            indicator__scored_by__in=kinds,
        )
        .values_list("indicator__period_id", "community_id")
        .annotate(n=Count("indicator", distinct=True))
        .order_by()
    }
    communities = list(Area.objects.visible_to(actor).current().communities().order_by("code"))
    owed = []
    for period in periods:
        for community in communities:
            if community.is_within(period.district):
                count = period.items - scored.get((period.pk, community.pk), 0)
                if count:
                    owed.append((period, community, count))
    return owed


def sheets_owed(actor) -> list[tuple[Evaluation, list[str]]]:
    """Each representative of an open round the actor sees whose sheet from a weighted
    source they enter (`may_enter`) is not full yet, as `round_outcome_preview` finds it,
    with those sources. One query whatever the number of open rounds and representatives
    (the home page's 待办 card asks on every load)."""
    if not actor.has_perm("assessment.score_evaluation"):
        return []
    if not actor.sees_everything and actor.area is None:
        return []
    rounds = EvaluationRound.objects.visible_to(actor).filter(state=EvaluationRound.State.OPEN)
    evaluations = Evaluation.objects.filter(round__in=rounds).select_related(
        "round__area", "member__community"
    )
    if not actor.sees_everything:
        evaluations = evaluations.filter(within_area(actor.area, "member__community"))
    # A sheet is full when each non-veto item of the round's template has its score.
    of_template = Q(
        scores__item__category__template=F("round__template"), scores__item__is_veto=False
    )
    items = (
        EvaluationItem.objects.filter(category__template=OuterRef("round__template"), is_veto=False)
        .order_by()
        .values("category__template")
        .annotate(n=Count("id"))
        .values("n")
    )
    evaluations = evaluations.annotate(
        items=Subquery(items),
        **{
            f"scored_{source}": Count(
                "scores__item", filter=of_template & Q(scores__source=source), distinct=True
            )
            for source in Evaluation.Source.values
        },
    ).order_by("-round_id", "member__name", "pk")
    owed = []
    for evaluation in evaluations:
        sources = [
            source
            for source in _weighted_sources(evaluation.round)
            if getattr(evaluation, f"scored_{source}") < (evaluation.items or 0)
            and may_enter(actor, evaluation, source)
        ]
        if sources:
            owed.append((evaluation, sources))
    return owed


def score_set(
    *,
    actor,
    indicator: Indicator,
    community: Area,
    points,
    evidence: str,
    upload=None,
    request=None,
) -> ManualScore:
    """Score a hand-scored item, bonus or deduction for a community, with evidence: notes
    and optionally a photo or PDF (`upload`), which replaces an earlier one."""
    period = indicator.period
    _check_not_final(period)
    if period.state != Period.State.OPEN:
        raise ValidationError(_("Items are scored while the period is open."))
    if community.level != Area.Level.COMMUNITY or not community.is_within(period.district):
        raise ValidationError({"community": _("Choose a community of the period's district.")})
    if not may_score(actor, indicator, community):
        raise PermissionDenied
    if points is None or points < 0 or points > indicator.weight:
        raise ValidationError(
            {"points": _("Give between 0 and %(most)s points.") % {"most": indicator.weight}}
        )
    if not (evidence or "").strip():
        raise ValidationError({"evidence": _("Say what the score rests on.")})
    file_type = None
    if upload is not None:
        try:
            file_type = check_upload(upload)
        except UploadRefused as refused:
            raise ValidationError({"evidence_file": refused.message}) from None
    with transaction.atomic():
        score, _created = ManualScore.objects.update_or_create(
            indicator=indicator,
            community=community,
            defaults={"points": points, "evidence": evidence.strip(), "scored_by": actor},
        )
        if file_type is not None:
            replaced = score.evidence_file.name
            storage = score.evidence_file.storage
            score.evidence_type, score.evidence_name = file_type.content_type, upload_name(upload)
            score.evidence_file.save("evidence", upload, save=False)
            score.save(update_fields=["evidence_file", "evidence_name", "evidence_type"])
            if replaced:
                transaction.on_commit(lambda: storage.delete(replaced))
        _audit(
            actor,
            period,
            AuditEvent.Action.UPDATE,
            {"indicator": indicator.name, "community": community.code, "points": str(points)},
            request,
        )
    return score


def grid_cell(row_key, column_key) -> str:
    """A cell of a score grid (`assessment.grids`): its row's key, its column's pk."""
    return f"cell-{row_key}-{column_key}"


def _cell_refusal(row: str, column: str, error: Exception) -> str:
    """A refused cell of a grid, as the grid's page and upload list it: row × column: why."""
    if isinstance(error, PermissionDenied):
        why = _("you may not score this here")
    else:
        why = "；".join(error.messages)
    return _("%(row)s × %(column)s: %(why)s") % {"row": row, "column": column, "why": why}


def _changed_meanwhile(row: str, column: str, now) -> str:
    """A grid's cell whose score someone else changed after the scorer saw it."""
    return _cell_refusal(
        row,
        column,
        ValidationError(
            _("scored %(now)s by someone else meanwhile; look at it again before saving")
            % {"now": "—" if now is None else _number(now)}
        ),
    )


def score_grid_set(
    *,
    actor,
    period: Period,
    changes: list,
    evidence: str = "",
    origin: str = "",
    seen: dict | None = None,
    request=None,
) -> int:
    """Save a grid of hand scores ([(community, indicator, points)]) all together or not at
    all: each cell through `score_set`, with its checks and audit line; one refused cell
    refuses the save, with every refused cell named. A cell whose points are already stored
    is not written again (no history for nothing). `evidence` is what the changed scores rest
    on; left empty, a changed score keeps the evidence it had. `origin` is the name of the
    uploaded file the changes come from (empty: the grid's page). `seen` holds the scores the
    scorer saw, by (community pk, indicator pk): a cell scored otherwise since is refused, so
    nobody overwrites a score they never saw. Returns how many were saved."""
    _check_not_final(period)
    errors, saved = {}, 0
    with transaction.atomic():
        # Locked: grid saves of the period, and its finalizing, follow one another.
        _check_not_final(Period.objects.select_for_update().get(pk=period.pk))
        stored = {
            (score.community_id, score.indicator_id): score
            for score in ManualScore.objects.filter(indicator__period=period)
        }
        for community, indicator, points in changes:
            if indicator.period_id != period.pk:
                raise ValidationError(_("An item that is not in this period."))
            earlier = stored.get((community.pk, indicator.pk))
            if earlier is not None and earlier.points == points:
                continue
            key = (community.pk, indicator.pk)
            now = earlier.points if earlier is not None else None
            if seen is not None and key in seen and seen[key] != now:
                errors[grid_cell(community.code, indicator.pk)] = _changed_meanwhile(
                    community.name, indicator.name, now
                )
                continue
            given = (evidence or "").strip() or (earlier.evidence if earlier else "")
            try:
                with transaction.atomic():
                    score_set(
                        actor=actor,
                        indicator=indicator,
                        community=community,
                        points=points,
                        evidence=given,
                        request=request,
                    )
            except (ValidationError, PermissionDenied) as error:
                errors[grid_cell(community.code, indicator.pk)] = _cell_refusal(
                    community.name, indicator.name, error
                )
                continue
            saved += 1
        if errors:
            raise ValidationError(errors)
        if saved:
            _audit(
                actor,
                period,
                AuditEvent.Action.UPDATE,
                {"score_grid": saved, **({"file": origin} if origin else {})},
                request,
            )
    return saved


def _check_finalizes(actor, period: Period) -> None:
    _check_manages(actor, period)
    if actor is not None and not actor.has_perm("assessment.finalize_period"):
        raise PermissionDenied


def period_finalize(*, actor, period: Period, request=None) -> list[Result]:
    """Compute and store every community's result, then lock the period. Refused while a
    hand-scored item has no score in some community: an item nobody scored would count 0
    everywhere and grade communities 不合格 for a score that was never given. A 0 is entered
    like any score, with its reason."""
    _check_finalizes(actor, period)
    given = period
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        _refuse_unless_ready(period, "finalize")
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
        period.state, period.finalized_at = Period.State.FINAL, timezone.now()
        period.save(update_fields=["state", "finalized_at"])
        _audit(actor, period, AuditEvent.Action.STATUS, {"state": period.state}, request)
    given.state, given.finalized_at = period.state, period.finalized_at
    return results


def period_publish(*, actor, period: Period, request=None) -> Period:
    """Let every community of the district see the whole ranking; the period cannot be
    reopened after that."""
    _check_finalizes(actor, period)
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        _refuse_unless_ready(locked, "publish")
        locked.published = True
        locked.save(update_fields=["published"])
        _audit(actor, locked, AuditEvent.Action.STATUS, {"published": True}, request)
    period.state, period.published = locked.state, locked.published
    return period


def period_reopen(*, actor, period: Period, request=None) -> Period:
    """Take a finalized period back to 进行中 before its ranking is published, to correct a
    score: its stored results are discarded and computed again when it is finalized anew."""
    _check_finalizes(actor, period)
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        _refuse_unless_ready(locked, "reopen")
        discarded, _deleted = Result.objects.filter(period=locked).delete()
        locked.state, locked.finalized_at = Period.State.OPEN, None
        locked.save(update_fields=["state", "finalized_at"])
        _audit(
            actor,
            locked,
            AuditEvent.Action.STATUS,
            {"state": locked.state, "reopened": True, "results_discarded": discarded},
            request,
        )
    period.state, period.finalized_at = locked.state, locked.finalized_at
    return period


# -- Evaluation of representatives (综合评价) -------------------------------------------------


def _sees(actor, area: Area) -> bool:
    return actor.sees_everything or (actor.area is not None and area.is_within(actor.area))


def round_rows_seen(actor, evaluation_round: EvaluationRound, rows: list) -> list:
    """The rows (`EvaluationRow`, `Missing`) of a round the actor sees: every one of a round
    of their area or below; of a round above it (a district's, seen by a street), those of
    the representatives in their area."""
    if _sees(actor, evaluation_round.area):
        return rows
    return [
        row for row in rows if _sees(actor, getattr(row, "row", row).evaluation.member.community)
    ]


def _check_round_open(evaluation_round: EvaluationRound) -> None:
    if evaluation_round.state != EvaluationRound.State.OPEN:
        raise ValidationError(_("The outcome of this round is confirmed: it cannot change."))


def round_create(*, actor, data: dict, request=None) -> EvaluationRound:
    """An evaluation round over the registered representatives of an area in the actor's;
    with an admission template (入选评价), over the nominees chosen in `data["nominees"]`."""
    data = dict(data)
    nominees = list(data.pop("nominees", None) or [])
    area = data.get("area")
    if (
        not actor.has_perm("assessment.add_evaluationround")
        or area is None
        or not _sees(actor, area)
    ):
        raise PermissionDenied
    with transaction.atomic():
        evaluation_round = EvaluationRound(created_by=actor, **data)
        admission = _is_admission(evaluation_round)
        if admission:
            # 末位淘汰 is a rule for sitting representatives: a nominee fails by a veto.
            evaluation_round.cut_share = 0
        elif nominees:
            raise ValidationError(
                {"nominees": _("Nominees are evaluated in a round with an admission template.")}
            )
        evaluation_round.full_clean()
        evaluation_round.save()
        representatives = Member.objects.filter(
            within_area(area, "community"),
            status=Member.Status.ACTIVE,
            is_representative=True,
            merged_into__isnull=True,
        )
        if admission:
            _admission_evaluations(evaluation_round, nominees)
            representatives = Member.objects.none()
        Evaluation.objects.bulk_create(
            [Evaluation(round=evaluation_round, member=member) for member in representatives]
        )
        _audit(
            actor,
            evaluation_round,
            AuditEvent.Action.CREATE,
            {"name": evaluation_round.name},
            request,
        )
    return evaluation_round


def may_enter(actor, evaluation: Evaluation, source: str) -> bool:
    """上级评议 by district staff; 自我评价 and 社会评价 by staff of the area, entered for the
    representative and from the public assessment forms."""
    if not actor.has_perm("assessment.score_evaluation"):
        return False
    if not _sees(actor, evaluation.member.community) or evaluation.departure():
        return False
    if source == Evaluation.Source.SUPERIOR:
        return actor.sees_everything or actor.has_perm("assessment.review_evaluation")
    return True


def evaluation_score(
    *, actor, evaluation: Evaluation, source: str, scores: dict, request=None
) -> None:
    """Enter one source's scores ({item: score}) for a representative."""
    _check_round_open(evaluation.round)
    if source not in Evaluation.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    if not may_enter(actor, evaluation, source):
        raise PermissionDenied
    if source == Evaluation.Source.PUBLIC and evaluation.round.outside_evaluators.exists():
        raise ValidationError(
            _(
                "This round's public assessment is entered per outside evaluator: its score is "
                "their mean."
            )
        )
    items = {
        item.pk: item
        for item in EvaluationItem.objects.filter(
            category__template=evaluation.round.template, is_veto=False
        )
    }
    errors = {}
    for item, score in scores.items():
        item = items.get(getattr(item, "pk", item))
        if item is None:
            raise ValidationError(_("An item that is not in this round's template."))
        if score is None or score < 0 or score > item.max_score:
            errors[f"item_{item.pk}"] = _("Give between 0 and %(most)s points.") % {
                "most": item.max_score
            }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        for item, score in scores.items():
            EvaluationScore.objects.update_or_create(
                evaluation=evaluation,
                source=source,
                item_id=getattr(item, "pk", item),
                defaults={"score": score},
            )
        _audit(
            actor,
            evaluation.member,
            AuditEvent.Action.UPDATE,
            {"evaluation": evaluation.round.name, "source": source},
            request,
        )


def evaluation_grid_score(
    *, actor, evaluation_round: EvaluationRound, source: str, changes: list, origin: str = "",
    seen: dict | None = None, request=None,
) -> int:  # fmt: skip
    """Save one source's grid ([(evaluation, item, score)]) all together or not at all, each
    representative's sheet through `evaluation_score`; one refused cell refuses the save, with
    every refused cell named. A score already stored is not written again. `origin` is the
    uploaded file's name and `seen` the scores the scorer saw (by evaluation pk, item pk), as
    for `score_grid_set`. Returns how many scores were saved."""
    _check_round_open(evaluation_round)
    if source not in Evaluation.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    errors, saved = {}, 0
    with transaction.atomic():
        # Locked: grid saves of the round, and its confirmation, follow one another.
        _check_round_open(EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk))
        stored = {
            (evaluation, item): score
            for evaluation, item, score in EvaluationScore.objects.filter(
                evaluation__round=evaluation_round, source=source
            ).values_list("evaluation_id", "item_id", "score")
        }
        sheets: dict = {}
        for evaluation, item, score in changes:
            if evaluation.round_id != evaluation_round.pk:
                raise ValidationError(_("A representative who is not in this round."))
            key = (evaluation.pk, item.pk)
            if stored.get(key) == score:
                continue
            if seen is not None and key in seen and seen[key] != stored.get(key):
                errors[grid_cell(evaluation.pk, item.pk)] = _changed_meanwhile(
                    evaluation.member.name, item.name, stored.get(key)
                )
                continue
            sheets.setdefault(evaluation, {})[item] = score
        for evaluation, scores in sheets.items():
            try:
                with transaction.atomic():
                    evaluation_score(
                        actor=actor,
                        evaluation=evaluation,
                        source=source,
                        scores=scores,
                        request=request,
                    )
            except (PermissionDenied, ValidationError) as error:
                by_field = getattr(error, "error_dict", {})
                for item in scores:
                    refused = by_field.get(f"item_{item.pk}")
                    if refused or not by_field:  # an error of the whole sheet is every cell's
                        errors[grid_cell(evaluation.pk, item.pk)] = _cell_refusal(
                            evaluation.member.name,
                            item.name,
                            ValidationError(refused) if refused else error,
                        )
                continue
            saved += len(scores)
        if errors:
            raise ValidationError(errors)
        if saved:
            _audit(
                actor,
                evaluation_round,
                AuditEvent.Action.UPDATE,
                {
                    "evaluation": evaluation_round.name,
                    "source": source,
                    "score_grid": saved,
                    **({"file": origin} if origin else {}),
                },
                request,
            )
    return saved


def veto_mark(*, actor, evaluation: Evaluation, item: EvaluationItem, note: str, request=None):
    """Mark a veto item (一票否决) against a representative; district staff only."""
    _check_round_open(evaluation.round)
    if not may_enter(actor, evaluation, Evaluation.Source.SUPERIOR):
        raise PermissionDenied
    if not item.is_veto or item.category.template_id != evaluation.round.template_id:
        raise ValidationError({"item": _("Choose a veto item of this round's template.")})
    if not (note or "").strip():
        raise ValidationError({"note": _("Say what the score rests on.")})
    with transaction.atomic():
        mark, _created = VetoMark.objects.update_or_create(
            evaluation=evaluation, item=item, defaults={"note": note.strip(), "marked_by": actor}
        )
        _audit(actor, evaluation.member, AuditEvent.Action.UPDATE, {"veto": item.name}, request)
    return mark


def _reason(evaluation_round: EvaluationRound, row) -> str:
    if row.vetoed:
        return _("Vetoed in %(round)s: %(items)s") % {
            "round": evaluation_round.name,
            "items": "、".join(row.vetoes),
        }
    return _("Among the lowest ranked in %(round)s (rank %(rank)s of %(count)s)") % {
        "round": evaluation_round.name,
        "rank": row.rank,
        "count": row.count,
    }


def may_confirm(actor, evaluation_round: EvaluationRound) -> bool:
    """District staff (and administrators of every area) confirm a round of their area, and
    may reopen it for `EVALUATION_REOPEN_DAYS` after (`round_reopen`)."""
    if not actor.has_perm("assessment.change_evaluationround"):
        return False
    if not _sees(actor, evaluation_round.area):
        return False
    return actor.sees_everything or actor.has_perm("assessment.confirm_evaluationround")


@dataclasses.dataclass
class Missing:
    """A representative still in the round without a full sheet from some weighted sources."""

    row: EvaluationRow
    sources: list[str]

    def labels(self) -> list[str]:
        return [str(Evaluation.Source(source).label) for source in self.sources]


@dataclasses.dataclass
class RoundOutcome:
    """What confirming a round would do, as `round_confirm` does it."""

    rows: list[EvaluationRow]
    missing: list[Missing]  # the round cannot be confirmed while anyone is here
    vetoed: list[EvaluationRow]
    lowest: list[EvaluationRow]  # among the lowest share, not vetoed
    loses_flag: list[EvaluationRow]  # flagged and a representative today

    @property
    def ready(self) -> bool:
        return not self.missing

    @property
    def ranked(self) -> list[EvaluationRow]:
        """Those still in the round: ranked, and cut if they are the lowest."""
        return [row for row in self.rows if not row.left]

    @property
    def flagged(self) -> list[EvaluationRow]:
        return self.vetoed + self.lowest

    @property
    def departed(self) -> list[EvaluationRow]:
        """Those who left the round (`Evaluation.departure`): neither ranked nor cut."""
        return [row for row in self.rows if row.left]

    @property
    def passing(self) -> list[EvaluationRow]:
        """Those still in the round and not flagged: in an admission round, the nominees the
        district may admit."""
        return [row for row in self.ranked if not row.fails]


def _weighted_sources(evaluation_round: EvaluationRound) -> list[str]:
    weights = {
        Evaluation.Source.SUPERIOR: evaluation_round.superior_weight,
        Evaluation.Source.SELF: evaluation_round.self_weight,
        Evaluation.Source.PUBLIC: evaluation_round.public_weight,
    }
    return [source for source, weight in weights.items() if weight > 0]


def round_outcome_preview(evaluation_round: EvaluationRound) -> RoundOutcome:
    """Who lacks scores, who is flagged and who loses the representative flag if the round
    were confirmed now. A sheet is full when each item of the template has its score: a
    missing sheet would count as nought and cut a representative nobody has scored."""
    rows = round_results(evaluation_round)
    items = EvaluationItem.objects.filter(
        category__template=evaluation_round.template_id, is_veto=False
    ).count()
    scored = {
        (evaluation, source): count
        for evaluation, source, count in EvaluationScore.objects.filter(
            evaluation__round=evaluation_round,
            item__category__template=evaluation_round.template_id,
            item__is_veto=False,
        )
        .values_list("evaluation_id", "source")
        .annotate(count=Count("item", distinct=True))
        .order_by()
    }
    sources = _weighted_sources(evaluation_round)
    missing = []
    for row in rows:
        if row.left:
            continue
        lacking = [s for s in sources if scored.get((row.evaluation.pk, s), 0) < items]
        if lacking:
            missing.append(Missing(row, lacking))
    failing = [row for row in rows if row.fails]
    return RoundOutcome(
        rows=rows,
        missing=missing,
        vetoed=[row for row in failing if row.vetoed],
        lowest=[row for row in failing if not row.vetoed],
        # An admission round removes nobody's flag: it tells who passed (`admission_passes`).
        loses_flag=[]
        if _is_admission(evaluation_round)
        else [row for row in failing if row.evaluation.member.is_representative],
    )


def _missing_message(evaluation_round: EvaluationRound, missing: list[Missing]) -> str:
    if _is_admission(evaluation_round):
        message = _(
            "The outcome cannot be confirmed yet: %(count)s nominees still lack scores "
            "(%(who)s). Enter them first."
        )
    else:
        message = _(
            "The outcome cannot be confirmed yet: %(count)s representatives still lack scores "
            "(%(who)s). Enter them first."
        )
    return message % {
        "count": len(missing),
        "who": "；".join(
            f"{entry.row.evaluation.member.name}：{'、'.join(entry.labels())}" for entry in missing
        ),
    }


def round_confirm(
    *, actor, evaluation_round: EvaluationRound, expected=None, request=None
) -> list[Evaluation]:
    """Confirm the outcome: the failed and the lowest ranked leave the representatives, each
    with this evaluation as the reason in their history. Representatives who left the round
    (`Evaluation.departure`) are marked as such and their record is left alone.

    Refused while anyone still in the round lacks a weighted source's scores. `expected`, the
    ids of the members the confirmation page said would lose the flag, refuses a confirmation
    whose outcome changed since the page was shown."""
    if not may_confirm(actor, evaluation_round):
        raise PermissionDenied
    with transaction.atomic():
        evaluation_round = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
        _check_round_open(evaluation_round)
        outcome = round_outcome_preview(evaluation_round)
        if outcome.missing:
            raise ValidationError(_missing_message(evaluation_round, outcome.missing))
        losing = {row.evaluation.member_id for row in outcome.loses_flag}
        if expected is not None and {str(pk) for pk in expected} != {str(pk) for pk in losing}:
            raise ValidationError(
                _("The outcome changed since it was shown: check it again before confirming.")
            )
        from . import meetings  # built on this module

        lacking = meetings.talks_lacking(evaluation_round, outcome)
        if lacking:
            raise ValidationError(meetings.talks_lacking_message(lacking))
        rows = outcome.rows
        for row in rows:
            row.evaluation.left = row.left
        Evaluation.objects.bulk_update([row.evaluation for row in rows if row.left], ["left"])
        removed = []
        for row in outcome.loses_flag:
            with translation.override(settings.LANGUAGE_CODE):  # history reads in Chinese
                reason = _reason(evaluation_round, row)
            representative_set(
                actor=actor,
                member=row.evaluation.member,
                value=False,
                date=timezone.localdate(),
                reason=reason[:200],
                link=_round_link(evaluation_round),
                request=request,
            )
            meetings.arrangements_cancel_for(
                actor=actor, evaluation=row.evaluation, reason=reason, request=request
            )
            row.evaluation.removed = True
            row.evaluation.save(update_fields=["removed"])
            removed.append(row.evaluation)
        evaluation_round.state = EvaluationRound.State.CONFIRMED
        evaluation_round.confirmed_at = timezone.now()
        evaluation_round.save(update_fields=["state", "confirmed_at"])
        _audit(
            actor,
            evaluation_round,
            AuditEvent.Action.STATUS,
            {"confirmed": True, "removed": [evaluation.member_id for evaluation in removed]},
            request,
        )
    return removed


def round_reopen_until(evaluation_round: EvaluationRound):
    """When a confirmed round can no longer be reopened (None while it is open)."""
    if evaluation_round.confirmed_at is None:
        return None
    return evaluation_round.confirmed_at + datetime.timedelta(days=settings.EVALUATION_REOPEN_DAYS)


def _decided(evaluation_round: EvaluationRound) -> bool:
    """Whether the district has decided on a nominee of the (admission) round."""
    return (
        Admission.objects.filter(evaluation__round=evaluation_round).exclude(decision="").exists()
    )


def may_reopen(actor, evaluation_round: EvaluationRound) -> bool:
    """Whoever may confirm the round may reopen it, while it is confirmed and recent, and no
    nominee of it has been decided on."""
    until = round_reopen_until(evaluation_round)
    return (
        evaluation_round.state == EvaluationRound.State.CONFIRMED
        and until is not None
        and timezone.now() <= until
        and may_confirm(actor, evaluation_round)
        and not _decided(evaluation_round)
    )


def round_reopen_preview(evaluation_round: EvaluationRound) -> tuple[list, list]:
    """(restored, kept out): the evaluations whose representative flag the confirmation removed
    and reopening gives back, and those whose member has left the round's area or the registry
    since (their record now belongs to wherever they are; it is not touched)."""
    restored, kept_out = [], []
    for evaluation in evaluation_round.evaluations.filter(removed=True).select_related(
        "member__community"
    ):
        (kept_out if evaluation.departure_now() else restored).append(evaluation)
    return restored, kept_out


def round_reopen(*, actor, evaluation_round: EvaluationRound, request=None) -> list[Evaluation]:
    """Take a confirmation back within `EVALUATION_REOPEN_DAYS`: the representatives it removed
    are representatives again (with the reopening in their history) and the round is open."""
    if not may_confirm(actor, evaluation_round):
        raise PermissionDenied
    with transaction.atomic():
        evaluation_round = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
        if evaluation_round.state != EvaluationRound.State.CONFIRMED:
            raise ValidationError(_("Only a confirmed round can be reopened."))
        if _decided(evaluation_round):
            raise ValidationError(
                _("The district has decided on nominees of this round: it cannot be reopened.")
            )
        if timezone.now() > round_reopen_until(evaluation_round):
            raise ValidationError(
                _(
                    "The outcome was confirmed on %(date)s, more than %(days)s days ago: "
                    "it can no longer be reopened."
                )
                % {
                    "date": timezone.localdate(evaluation_round.confirmed_at).isoformat(),
                    "days": settings.EVALUATION_REOPEN_DAYS,
                }
            )
        restored, _kept_out = round_reopen_preview(evaluation_round)
        with translation.override(settings.LANGUAGE_CODE):  # history reads in Chinese
            reason = _("%(round)s reopened: the confirmed outcome is taken back") % {
                "round": evaluation_round.name
            }
        for evaluation in restored:
            representative_set(
                actor=actor,
                member=evaluation.member,
                value=True,
                date=timezone.localdate(),
                reason=reason[:200],
                link=_round_link(evaluation_round),
                request=request,
            )
        from . import meetings  # built on this module

        meetings.arrangements_restore_for(
            actor=actor,
            evaluation_round=evaluation_round,
            evaluations=restored,
            reason=reason,
            request=request,
        )
        evaluation_round.evaluations.update(removed=False, left="")
        evaluation_round.state = EvaluationRound.State.OPEN
        evaluation_round.confirmed_at = None
        evaluation_round.save(update_fields=["state", "confirmed_at"])
        _audit(
            actor,
            evaluation_round,
            AuditEvent.Action.STATUS,
            {"reopened": True, "restored": [evaluation.member_id for evaluation in restored]},
            request,
        )
    return restored


# -- Admission evaluation (凡进必评, issue 18) -------------------------------------------------
#
# A round with an admission template evaluates nominees (`members.Nomination`) chosen when it
# is created, scored as any round is; confirming it changes no flag. Once it is confirmed, a
# district officer decides on each nominee (同意入选 / 不予入选): the members' service closes
# the nomination and, admitted, sets the flag and writes the register's entry.


def _is_admission(evaluation_round: EvaluationRound) -> bool:
    return (
        evaluation_round.template_id is not None
        and evaluation_round.template.kind == EvaluationTemplate.Kind.ADMISSION
    )


def _round_link(evaluation_round: EvaluationRound) -> str:
    return reverse("assessment:round", args=[evaluation_round.pk])


def _nominations_of(area: Area):
    """The pending nominations of registered members of `area`."""
    return Nomination.objects.pending().filter(
        within_area(area, "member__community"),
        member__status=Member.Status.ACTIVE,
        member__merged_into__isnull=True,
    )


def nominees_available(area: Area):
    """The pending nominations of registered members of `area` that no round evaluates yet
    (one in a round stays there until the district decides)."""
    return (
        _nominations_of(area)
        .exclude(admissions__decision="")
        .select_related("member__community")
        .order_by("member__community__code", "member__name")
    )


def _admission_evaluations(evaluation_round: EvaluationRound, nominees: list) -> None:
    if not nominees:
        raise ValidationError({"nominees": _("Choose the nominees this round evaluates.")})
    # A nominee named twice (a crafted POST, a caller's list) is evaluated once.
    chosen = list(dict.fromkeys(getattr(nomination, "pk", nomination) for nomination in nominees))
    # Locked, in order: of two rounds created at once naming one nominee, the second waits
    # for the first and then finds her taken, as `nomination_decide` waits for both.
    list(
        Nomination.objects.select_for_update()
        .filter(pk__in=chosen)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    area = evaluation_round.area
    available = {n.pk: n for n in nominees_available(area).filter(pk__in=chosen)}
    refused = [pk for pk in chosen if pk not in available]
    if refused:
        # Those of the round's area held by another round are named with it; anything else
        # (another area's, decided, a crafted id) is refused without a name.
        taken = (
            Admission.objects.filter(
                nomination__in=_nominations_of(area).filter(pk__in=chosen), decision=""
            )
            .select_related("nomination__member", "evaluation__round__area")
            .order_by("nomination__member__name", "pk")
        )
        holding = {admission.nomination_id: admission for admission in taken}
        errors = [
            _(
                "%(name)s is already a nominee of %(round)s: she is evaluated in no other round "
                "until the district decides on her there."
            )
            % {"name": admission.nomination.member.name, "round": admission.evaluation.round}
            for admission in holding.values()
        ]
        if len(holding) < len(refused):
            errors.append(
                _(
                    "Only pending nominees of the round's area who are not in another round "
                    "can be evaluated."
                )
            )
        raise ValidationError({"nominees": errors})
    for pk in chosen:
        nomination = available[pk]
        evaluation = Evaluation.objects.create(round=evaluation_round, member=nomination.member)
        Admission.objects.create(evaluation=evaluation, nomination=nomination)


def nomination_in_round_refusal(nomination: Nomination) -> str:
    """A nominee an admission round evaluates stays in it until the district decides on her
    there: her nomination is not withdrawn meanwhile (members.services.nomination_withdraw)."""
    admission = (
        Admission.objects.filter(nomination=nomination, decision="")
        .select_related("evaluation__round__area")
        .first()
    )
    if admission is None:
        return ""
    return _(
        "%(name)s is being evaluated in the admission round “%(round)s”, which is not "
        "finished: the district decides on her there (不予入选 closes the nomination); it "
        "cannot be withdrawn meanwhile."
    ) % {"name": nomination.member.name, "round": admission.evaluation.round}


def admission_passes(row: EvaluationRow) -> bool:
    """A nominee passes an admission evaluation unless a veto item fails her (or she left)."""
    return not row.left and not row.fails


def may_decide_admission(actor, evaluation_round: EvaluationRound) -> bool:
    """District officers holding `decide_admission` decide on the nominees of a round of
    their district (administrators of every area by scope)."""
    if not _is_admission(evaluation_round) or not may_confirm(actor, evaluation_round):
        return False
    return actor.sees_everything or actor.has_perm("assessment.decide_admission")


def admission_decide(
    *, actor, admission: Admission, decision: str, decided_on, note: str = "", request=None
) -> Admission:
    """Record the district's decision on a nominee of a confirmed admission round. 同意入选
    (only for one who passed) makes her a representative, with the decision as the reason in
    her history and an entry in the register; 不予入选 closes her nomination."""
    evaluation = admission.evaluation
    evaluation_round = evaluation.round
    if not may_decide_admission(actor, evaluation_round) or not _sees(
        actor, evaluation.member.community
    ):
        raise PermissionDenied
    if decision not in Admission.Decision.values:
        raise ValidationError({"decision": _("Choose 同意入选 or 不予入选.")})
    if decided_on is None:
        raise ValidationError({"decided_on": _("Give the date of the decision.")})
    with transaction.atomic():
        evaluation_round = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
        if evaluation_round.state != EvaluationRound.State.CONFIRMED:
            raise ValidationError(
                _("Decide on the nominees once the round's outcome is confirmed.")
            )
        admission = Admission.objects.select_for_update().get(pk=admission.pk)
        if admission.decision:
            raise ValidationError(_("The decision on this nominee is recorded already."))
        admitted = decision == Admission.Decision.ADMIT
        row = next(r for r in round_results(evaluation_round) if r.evaluation.pk == evaluation.pk)
        if admitted and not admission_passes(row):
            raise ValidationError(
                _("%(name)s did not pass the admission evaluation: she cannot be admitted.")
                % {"name": evaluation.member.name}
            )
        with translation.override(settings.LANGUAGE_CODE):  # history reads in Chinese
            reason = _("%(round)s: %(decision)s by the district on %(date)s") % {
                "round": evaluation_round.name,
                "decision": Admission.Decision(decision).label,
                "date": decided_on.isoformat(),
            }
        nomination_decide(
            actor=actor,
            nomination=admission.nomination,
            admitted=admitted,
            date=decided_on,
            note=note,
            reason=reason,
            link=_round_link(evaluation_round),
            request=request,
        )
        admission.decision = decision
        admission.decided_on = decided_on
        admission.note = (note or "").strip()
        admission.decided_by = actor
        admission.decided_at = timezone.now()
        admission.save()
        _audit(
            actor,
            evaluation_round,
            AuditEvent.Action.STATUS,
            {"admission": evaluation.member_id, "decision": decision},
            request,
        )
    return admission


# -- Evaluation templates ---------------------------------------------------------------------
#
# A template is its categories and their items; administrators keep them (TEMPLATE_EDIT).
# A round scores against its template's items as they are (scores and veto marks point at
# the items, totals read their maximum scores), so a template any round uses keeps its
# categories and items: only its name and notes change. To change more, it is copied as a
# new template (复制为新模板), which new rounds then use.
#
# The structure given to `template_create` / `template_update` is a list of categories, each
# {"pk": id or None, "name", "sort_order", "items": [{"pk", "name", "max_score", "is_veto",
# "sort_order"}, ...]}; a stored category or item left out of it is removed.

TEMPLATE_FIELDS = ("name", "notes")
CATEGORY_FIELDS = ("name", "sort_order")
ITEM_FIELDS = ("name", "max_score", "is_veto", "sort_order")


def template_rounds(template: EvaluationTemplate) -> int:
    """How many evaluation rounds (in any area) score against `template`."""
    return EvaluationRound.objects.filter(template=template).count()


def template_structure(template: EvaluationTemplate) -> list[dict]:
    """The template's categories and items as `template_update` takes them."""
    return [
        {
            "pk": category.pk,
            **{field: getattr(category, field) for field in CATEGORY_FIELDS},
            "items": [
                {"pk": item.pk, **{field: getattr(item, field) for field in ITEM_FIELDS}}
                for item in category.items.all()
            ],
        }
        for category in template.categories.prefetch_related("items")
    ]


def _comparable(structure: list[dict]) -> list:
    """What a round scores against: the categories and items in order, with their values."""
    return [
        (
            category.get("pk"),
            *(category[field] for field in CATEGORY_FIELDS),
            [
                (
                    item.get("pk"),
                    item["name"],
                    decimal.Decimal(item["max_score"]),
                    bool(item["is_veto"]),
                    item["sort_order"],
                )
                for item in category["items"]
            ],
        )  # fmt: skip
        for category in structure
    ]


def _structure_errors(structure: list[dict]) -> list[str]:
    """The rules of a template's structure, as messages naming the category or item."""
    errors = []
    if not structure:
        errors.append(_("A template needs at least one category."))
    names = [category["name"] for category in structure]
    for name in sorted({name for name in names if names.count(name) > 1}):
        errors.append(_("Two categories are called “%(name)s”.") % {"name": name})
    for category in structure:
        if not category["items"]:
            errors.append(
                _("Category “%(category)s” needs at least one item.")
                % {"category": category["name"]}
            )
        for item in category["items"]:
            most = decimal.Decimal(item["max_score"] or 0)
            if item["is_veto"] and most != 0:
                errors.append(
                    _("“%(item)s” is a veto item: it scores nothing, leave its maximum score "
                      "at 0.") % {"item": item["name"]}
                )  # fmt: skip
            elif not item["is_veto"] and most <= 0:
                errors.append(
                    _("“%(item)s” needs a maximum score above 0, or mark it as a veto item.")
                    % {"item": item["name"]}
                )
    return errors


def _check_template_permission(actor, permission: str) -> None:
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied


def _save_structure(template: EvaluationTemplate, structure: list[dict]) -> None:
    """Write the categories and items as given; those of the template left out are removed."""
    kept_categories, kept_items = [], []
    for category_data in structure:
        category = (
            template.categories.get(pk=category_data["pk"])
            if category_data.get("pk")
            else EvaluationCategory(template=template)
        )
        for field in CATEGORY_FIELDS:
            setattr(category, field, category_data[field])
        category.full_clean()
        category.save()
        kept_categories.append(category.pk)
        for item_data in category_data["items"]:
            item = (
                EvaluationItem.objects.get(category__template=template, pk=item_data["pk"])
                if item_data.get("pk")
                else EvaluationItem()
            )
            item.category = category
            for field in ITEM_FIELDS:
                setattr(item, field, item_data[field])
            item.full_clean()
            item.save()
            kept_items.append(item.pk)
    EvaluationItem.objects.filter(category__template=template).exclude(pk__in=kept_items).delete()
    template.categories.exclude(pk__in=kept_categories).delete()


def _check_own_rows(template: EvaluationTemplate, structure: list[dict]) -> None:
    """Refuse categories and items named by a pk that is not the template's: another
    template's, or removed since the page was opened."""
    categories = set(template.categories.values_list("pk", flat=True))
    items = set(
        EvaluationItem.objects.filter(category__template=template).values_list("pk", flat=True)
    )
    foreign = any(c.get("pk") and c["pk"] not in categories for c in structure) or any(
        i.get("pk") and i["pk"] not in items for c in structure for i in c["items"]
    )
    if foreign:
        raise ValidationError(
            _("Some categories or items on the page are no longer this template's (changed "
              "meanwhile?): open the template again and make the change there.")
        )  # fmt: skip


def _template_detail(template: EvaluationTemplate, **extra) -> dict:
    return {
        "name": template.name,
        "categories": template.categories.count(),
        "items": EvaluationItem.objects.filter(category__template=template).count(),
        **extra,
    }


@transaction.atomic
def template_create(
    *, actor, data: dict, categories: list[dict], request=None
) -> EvaluationTemplate:
    """A new evaluation template with its categories and items. One audit line."""
    _check_template_permission(actor, "assessment.add_evaluationtemplate")
    errors = _structure_errors(categories)
    if errors:
        raise ValidationError(errors)
    template = EvaluationTemplate(**{field: data.get(field, "") for field in TEMPLATE_FIELDS})
    template.kind = data.get("kind") or EvaluationTemplate.Kind.YEARLY
    template.full_clean()
    template.save()
    _save_structure(template, [{**c, "pk": None, "items": [{**i, "pk": None} for i in c["items"]]}
                               for c in categories])  # fmt: skip
    _audit(actor, template, AuditEvent.Action.CREATE, _template_detail(template), request)
    return template


@transaction.atomic
def template_update(
    *, actor, template: EvaluationTemplate, data: dict, categories: list[dict], request=None
) -> EvaluationTemplate:
    """Change a template's name and notes, and its categories and items unless a round uses
    it (then `template_copy` makes one to change). One audit line."""
    _check_template_permission(actor, "assessment.change_evaluationtemplate")
    stored = EvaluationTemplate.objects.select_for_update().get(pk=template.pk)
    structure_changed = _comparable(categories) != _comparable(template_structure(stored))
    if structure_changed:
        rounds = template_rounds(stored)
        if rounds:
            raise ValidationError(
                ngettext(
                    "%(count)d evaluation round scores against this template, so its "
                    "categories and items stay as they are: use “Copy as a new template” and "
                    "change the copy.",
                    "%(count)d evaluation rounds score against this template, so its "
                    "categories and items stay as they are: use “Copy as a new template” and "
                    "change the copy.",
                    rounds,
                )
                % {"count": rounds}
            )
        errors = _structure_errors(categories)
        if errors:
            raise ValidationError(errors)
        _check_own_rows(stored, categories)
    changed = [field for field in TEMPLATE_FIELDS if data.get(field, "") != getattr(stored, field)]
    for field in TEMPLATE_FIELDS:
        setattr(template, field, data.get(field, ""))
    if data.get("kind") and data["kind"] != stored.kind:
        # A round scores nominees or representatives by its template's kind: it stays.
        if template_rounds(stored):
            raise ValidationError(
                {"kind": _("Evaluation rounds use this template: its kind cannot change.")}
            )
        template.kind = data["kind"]
        changed.append("kind")
    template.full_clean()
    template.save()
    if structure_changed:
        _save_structure(template, categories)
        changed.append("categories")
    _audit(
        actor,
        template,
        AuditEvent.Action.UPDATE,
        _template_detail(template, fields=changed),
        request,
    )
    return template


@transaction.atomic
def template_copy(
    *, actor, template: EvaluationTemplate, name: str, request=None
) -> EvaluationTemplate:
    """复制为新模板: a new template with the same notes, categories and items, to change
    where the original is used by a round. One audit line naming the original."""
    _check_template_permission(actor, "assessment.add_evaluationtemplate")
    copy = EvaluationTemplate(name=name, notes=template.notes, kind=template.kind)
    copy.full_clean()
    copy.save()
    structure = template_structure(template)
    _save_structure(copy, [{**c, "pk": None, "items": [{**i, "pk": None} for i in c["items"]]}
                           for c in structure])  # fmt: skip
    _audit(
        actor,
        copy,
        AuditEvent.Action.CREATE,
        _template_detail(copy, source=template.name),
        request,
    )
    return copy


# -- Areas merged (撤并) -------------------------------------------------------------------------
#
# A finalized period stays as recorded (results, targets). In a period not yet finalized the
# community that takes over a merged one is measured against the members of both, as
# `period_open` would have set its targets had they been one community at the opening; the
# merged community's targets stay as recorded and it leaves the period's standings.


def _unfinished_targets(area: Area):
    return Target.objects.filter(community=area).exclude(
        indicator__period__state=Period.State.FINAL
    )


def area_targets_count(area: Area) -> int:
    return _unfinished_targets(area).count()


def area_targets_move(*, actor, source: Area, target: Area, request=None, change="merge"):
    """Set `target`'s targets in the periods not yet finalized from both communities'
    members at the opening, one audit line per period."""
    changed: dict[int, list[str]] = {}
    for old in _unfinished_targets(source).select_related("indicator__period"):
        kept = Target.objects.filter(indicator=old.indicator, community=target).first()
        members = old.members + (kept.members if kept else 0)
        if kept is None:
            kept = Target(indicator=old.indicator, community=target)
        kept.members, kept.value = members, target_for(old.indicator, members)
        kept.save()
        changed.setdefault(old.indicator.period_id, []).append(old.indicator.name)
    _audit_targets(actor, changed, {"merged": source.code, "into": target.code}, request)


def area_targets_split(*, actor, source: Area, target: Area, request=None) -> None:
    """Once `target` is split off `source`, divide `source`'s targets in the periods not yet
    finalized: `target` gets those of the members it took, `source` keeps those of its members
    at the opening less them; one audit line per period."""
    took = (
        MemberTally.objects.filter(community=target, dimension=MemberTally.Dimension.TOTAL)
        .values_list("count", flat=True)
        .first()
        or 0
    )
    changed: dict[int, list[str]] = {}
    for old in _unfinished_targets(source).select_related("indicator__period"):
        kept = max(old.members - took, 0)
        old.members, old.value = kept, target_for(old.indicator, kept)
        old.save(update_fields=["members", "value"])
        Target.objects.update_or_create(
            indicator=old.indicator,
            community=target,
            defaults={"members": took, "value": target_for(old.indicator, took)},
        )
        changed.setdefault(old.indicator.period_id, []).append(old.indicator.name)
    _audit_targets(actor, changed, {"split": source.code, "into": target.code}, request)


def _audit_targets(actor, changed: dict[int, list[str]], detail: dict, request) -> None:
    """One audit line per period whose targets an area change set, naming the indicators."""
    for period in Period.objects.filter(pk__in=changed):
        _audit(
            actor,
            period,
            AuditEvent.Action.UPDATE,
            {**detail, "targets": changed[period.pk]},
            request,
        )


# -- Two records of one person merged (members.services.member_merge) ---------------------------


def member_evaluations_count(member: Member) -> int:
    return Evaluation.objects.filter(member=member).count()


def member_evaluations_refusal(keep: Member, merged: Member) -> str:
    """Two evaluations of one person in one round cannot become one by moving them."""
    both = (
        EvaluationRound.objects.filter(evaluations__member=keep)
        .filter(pk__in=Evaluation.objects.filter(member=merged).values("round"))
        .first()
    )
    if both is None:
        return ""
    return _(
        "Both records are evaluated in %(round)s: remove one of the two evaluations first."
    ) % {"round": both.name}


def member_evaluations_move(*, keep: Member, merged: Member) -> list[int]:
    moved = list(Evaluation.objects.filter(member=merged).values_list("pk", flat=True))
    Evaluation.objects.filter(pk__in=moved).update(member=keep)
    return moved


def member_evaluations_undo(*, keep: Member, merged: Member, moved: list[int]) -> None:
    Evaluation.objects.filter(pk__in=moved, member=keep).update(member=merged)
