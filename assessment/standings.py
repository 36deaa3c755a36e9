"""Where each community of a period stands: target, actual and score per indicator, total,
ranks, grade and outcome. Live while the period is open; stored in `Result` once final."""

import dataclasses
import decimal
from collections import defaultdict

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, Need, Visit
from liaison.models import Attendance, Report, TaskCopy
from members.models import MemberTally
from resources.models import Match
from tongzhan.dates import local_days
from tongzhan.models import Area

from . import rules
from .models import Indicator, ManualScore, Period, Result, Target

D = decimal.Decimal
M = Indicator.Metric


@dataclasses.dataclass
class Line:
    """One indicator for one community."""

    indicator: Indicator
    target: D | None  # measured indicators only
    actual: D | None
    score: D
    evidence: str = ""
    evidence_url: str = ""  # the evidence file of a hand score, if one was given

    @property
    def progress(self) -> D | None:
        """Actual ÷ target in per cent, for the progress bars."""
        if self.target is None or self.actual is None:
            return None
        if self.target <= 0:
            return D(100)
        return (self.actual / self.target * 100).quantize(D("0.1"))


@dataclasses.dataclass
class Standing:
    community: Area
    street: Area | None
    lines: list[Line]
    total: D = D(0)
    rank_in_street: int = 0
    rank_in_district: int = 0
    grade: str = ""
    outcome: str = ""

    def get_grade_display(self) -> str:
        return str(Result.Grade(self.grade).label) if self.grade else ""

    def get_outcome_display(self) -> str:
        return str(Result.Outcome(self.outcome).label) if self.outcome else ""


def _percent(part: int, whole: int) -> D:
    if not whole:
        return D(0)
    return (D(part) * 100 / whole).quantize(D("0.1"), rounding=decimal.ROUND_HALF_UP)


def measure(period: Period, indicators: list[Indicator], ids: list[int]) -> dict:
    """{(indicator id, community id): actual} for the measured indicators, over the period."""
    start, end = local_days(period.starts_on, period.ends_on)
    registered, complete = defaultdict(int), defaultdict(int)
    for community, dimension, n in MemberTally.objects.filter(
        community_id__in=ids,
        dimension__in=[MemberTally.Dimension.TOTAL, MemberTally.Dimension.INCOMPLETE],
    ).values_list("community_id", "dimension", "count"):
        registered[community] += n if dimension == MemberTally.Dimension.TOTAL else 0
        complete[community] += n if dimension == MemberTally.Dimension.TOTAL else -n
    actual = {}
    for indicator in indicators:
        if not indicator.is_measured:
            continue
        metric, values = indicator.metric, {}
        if metric in (M.ACTIVITIES, M.PEOPLE_SERVED):
            activities = Activity.objects.filter(
                area_id__in=ids, starts_at__gte=start, starts_at__lt=end
            )
            if indicator.activity_type_id:
                activities = activities.filter(type_id=indicator.activity_type_id)
            counted = Count("id") if metric == M.ACTIVITIES else Sum("people_served")
            values = dict(activities.values_list("area_id").annotate(n=counted).order_by())
        elif metric == M.VISITED_SHARE:
            visited = dict(
                Visit.members.through.objects.filter(
                    visit__community_id__in=ids,
                    visit__date__gte=period.starts_on,
                    visit__date__lte=period.ends_on,
                )
                .values_list("visit__community_id")
                .annotate(n=Count("member_id", distinct=True))
                .order_by()
            )
            # Of the members the target counted when the period opened (`Target.members`),
            # not those registered now: a member leaving must not raise the share. Before
            # the period opens (no targets yet), of those registered now. Never above all of
            # them (members registered and visited since).
            counted = dict(
                Target.objects.filter(indicator=indicator, community_id__in=ids).values_list(
                    "community_id", "members"
                )
            )
            values = {
                pk: min(_percent(visited.get(pk, 0), counted.get(pk, registered[pk])), D(100))
                for pk in ids
            }
        elif metric in (M.NEEDS_RESOLVED, M.NEEDS_ON_TIME):
            needs = Need.objects.filter(community_id__in=ids).resolved(
                (period.starts_on, period.ends_on)
            )
            if metric == M.NEEDS_ON_TIME:
                needs = needs.on_time()
            values = dict(needs.values_list("community_id").annotate(n=Count("id")).order_by())
        elif metric == M.COMPLETENESS:
            values = {pk: _percent(complete[pk], registered[pk]) for pk in ids}
        elif metric == M.TASKS_ON_TIME:
            values = _tasks_on_time(period, ids)
        elif metric == M.REPORTS_ADOPTED:
            # Reports go up from communities and streets, never from grids, so a community's
            # own reports are those `Report.objects.adopted_in(community, ...)` counts.
            values = dict(
                Report.objects.adopted()
                .filter(area_id__in=ids, decided_at__gte=start, decided_at__lt=end)
                .values_list("area_id")
                .annotate(n=Count("id"))
                .order_by()
            )
        elif metric == M.TRAINING_HOURS:
            # The hours the community's staff accounts attended at sessions dated in the
            # period, by the area each account works in now (as the liaison app's hours by
            # area): a worker who moved takes her hours along.
            values = dict(
                Attendance.objects.filter(
                    user__area_id__in=ids,
                    training__date__gte=period.starts_on,
                    training__date__lte=period.ends_on,
                )
                .values_list("user__area_id")
                .annotate(n=Sum("hours"))
                .order_by()
            )
        elif metric == M.NEEDS_MATCHED:
            values = _needs_matched(period, ids)
        for pk in ids:
            actual[indicator.pk, pk] = D(values.get(pk) or 0)
    return actual


def _needs_matched(period: Period, ids: list[int]) -> dict:
    """{community id: matches settled 已落实 in the period for its needs}.

    By `settled_on`, the local day the match was settled. A member's need counts for the
    community that works it (`Need.community`, which stays when the member moves away, as
    the needs resolved do); a community need for its own community."""
    community = Coalesce("need__community_id", "community_need__area_id")
    return dict(
        Match.objects.filter(
            Q(need__community_id__in=ids) | Q(community_need__area_id__in=ids),
            state=Match.State.FULFILLED,
            settled_on__gte=period.starts_on,
            settled_on__lte=period.ends_on,
        )
        .annotate(community=community)
        .values_list("community")
        .annotate(n=Count("id"))
        .order_by()
    )


def _tasks_on_time(period: Period, ids: list[int]) -> dict:
    """{community id: share of its task copies due in the period reported done on time}.

    On time: done (已完成 or 已审核) and reported on or before the deadline, by the local day
    of `reported_at`, the moment the copy was last reported done. Not `completed_on`: that is
    the day the reporter says the work was done, which may be typed in the past. A copy sent
    back (退回) is 办理中 again, so not done; reported again after the deadline, its new
    `reported_at` makes it late, even if its first report was on time: what the sender
    accepted was only reported after the deadline.

    A copy not done whose deadline is today or ahead is not late yet: left out until it is
    done or its deadline passes (a live period must not count as late what still has time).

    A community with no task due in the period scores 100 %: nothing it was asked to do was
    late. The visited share gives 0 % to a community without members because registering
    them is its own work (as for complete records); which tasks go to which community is
    the sender's choice, and counting 0 % would sink those spared a task. A task withdrawn
    (撤回) was asked of nobody in the end, and is left out.
    """
    done = [TaskCopy.State.DONE, TaskCopy.State.APPROVED]
    due = (
        TaskCopy.objects.filter(
            area_id__in=ids,
            task__withdrawn_at__isnull=True,  # taken back by its sender: asked of nobody
            task__deadline__gte=period.starts_on,
            task__deadline__lte=period.ends_on,
        )
        .filter(Q(state__in=done) | Q(task__deadline__lt=timezone.localdate()))
        .values_list("area_id")
        .annotate(
            n=Count("id"),
            on_time=Count(
                "id",
                filter=Q(
                    state__in=done,
                    # `__date` is the day in the current (local) time zone, as `local_days`.
                    reported_at__date__lte=F("task__deadline"),
                ),
            ),
        )
        .order_by()
    )
    counted = {area: (n, on_time) for area, n, on_time in due}
    return {pk: _percent(counted[pk][1], counted[pk][0]) if pk in counted else D(100) for pk in ids}


def standings(period: Period) -> list[Standing]:
    """Every community of the period's district, best first (stored results once final)."""
    indicators = list(period.indicators.select_related("activity_type"))
    communities = Area.objects.communities().within(period.district)
    if period.state != Period.State.FINAL:
        # A community merged away or retired meanwhile is no longer assessed; a finalized
        # period's results still name it.
        communities = communities.current()
    communities = list(communities.select_related("parent").order_by("code"))
    if period.state == Period.State.FINAL:
        return _stored(period, indicators, communities)
    ids = [community.pk for community in communities]
    targets = {
        (target.indicator_id, target.community_id): target.value
        for target in Target.objects.filter(indicator__period=period)
    }
    scored = {
        (score.indicator_id, score.community_id): score
        for score in ManualScore.objects.filter(indicator__period=period)
    }
    actual = measure(period, indicators, ids)
    result = []
    for community in communities:
        lines = []
        for indicator in indicators:
            key = (indicator.pk, community.pk)
            if indicator.is_measured:
                target = targets.get(key)
                points = (
                    rules.score(indicator.weight, actual[key], target, indicator.cap)
                    if target is not None
                    else D(0)
                )
                lines.append(Line(indicator, target, actual[key], points))
            else:
                entry = scored.get(key)
                points = entry.points if entry else D(0)
                if indicator.kind == Indicator.Kind.DEDUCTION:
                    points = -points
                lines.append(
                    Line(
                        indicator,
                        None,
                        None,
                        points,
                        entry.evidence if entry else "",
                        _evidence_url(period, community, entry),
                    )
                )
        result.append(Standing(community, community.parent, lines))
    _rank(period, result)
    return result


def _evidence_url(period: Period, community: Area, entry) -> str:
    if entry is None or not entry.evidence_file:
        return ""
    return reverse("assessment:evidence", args=[period.pk, community.code, entry.pk])


def _rank(period: Period, standings_: list[Standing]) -> None:
    for standing in standings_:
        standing.total = sum((line.score for line in standing.lines), D(0))
        standing.grade = rules.grade(
            standing.total,
            excellent=period.excellent_from,
            good=period.good_from,
            passing=period.pass_from,
        )
    for standing, rank in zip(standings_, rules.ranks([s.total for s in standings_]), strict=True):
        standing.rank_in_district = rank
    by_street = defaultdict(list)
    for standing in standings_:
        by_street[standing.community.parent_id].append(standing)
    for members in by_street.values():
        for standing, rank in zip(members, rules.ranks([s.total for s in members]), strict=True):
            standing.rank_in_street = rank
    for standing, outcome in zip(
        standings_,
        rules.outcomes(
            [(s.rank_in_district, s.grade) for s in standings_], period.model_communities
        ),
        strict=True,
    ):
        standing.outcome = outcome
    standings_.sort(key=lambda s: (s.rank_in_district, s.community.code))


def _stored(period, indicators, communities) -> list[Standing]:
    by_id = {indicator.pk: indicator for indicator in indicators}
    places = {community.pk: community for community in communities}
    files = {
        (score.indicator_id, score.community_id): score
        for score in ManualScore.objects.filter(indicator__period=period).exclude(evidence_file="")
    }
    result = []
    for stored in period.results.all():
        community = places[stored.community_id]
        lines = [
            Line(
                by_id[line["indicator"]],
                D(line["target"]) if line["target"] is not None else None,
                D(line["actual"]) if line["actual"] is not None else None,
                D(line["score"]),
                line.get("evidence", ""),
                _evidence_url(period, community, files.get((line["indicator"], community.pk))),
            )
            for line in stored.breakdown
            if line["indicator"] in by_id
        ]
        result.append(
            Standing(
                community,
                community.parent,
                lines,
                stored.total,
                stored.rank_in_street,
                stored.rank_in_district,
                stored.grade,
                stored.outcome,
            )
        )
    return result


@dataclasses.dataclass
class EvaluationRow:
    """A representative's evaluation: each source's total, weighted total, rank, outcome."""

    evaluation: object
    by_source: dict
    total: D
    vetoes: list[str]
    rank: int = 0
    count: int = 0
    flagged: bool = False  # among the lowest share
    left: str = ""  # `Evaluation.Left`: no longer ranked, cut or removed

    @property
    def vetoed(self) -> bool:
        return bool(self.vetoes)

    @property
    def fails(self) -> bool:
        return not self.left and (self.vetoed or self.flagged)

    def get_left_display(self) -> str:
        from .models import Evaluation

        return str(Evaluation.Left(self.left).label) if self.left else ""


def round_results(evaluation_round) -> list[EvaluationRow]:
    """Every representative of a round, best first."""
    from .models import Evaluation, EvaluationScore, VetoMark

    evaluations = list(
        evaluation_round.evaluations.select_related("member__community").order_by("member__name")
    )
    for evaluation in evaluations:
        evaluation.round = evaluation_round
    sums = defaultdict(dict)
    for evaluation, source, total in (
        EvaluationScore.objects.filter(evaluation__round=evaluation_round)
        .values_list("evaluation_id", "source")
        .annotate(total=Sum("score"))
        .order_by()
    ):
        sums[evaluation][source] = total
    vetoes = defaultdict(list)
    for evaluation, item in VetoMark.objects.filter(evaluation__round=evaluation_round).values_list(
        "evaluation_id", "item__name"
    ):
        vetoes[evaluation].append(item)
    weights = {
        Evaluation.Source.SUPERIOR: evaluation_round.superior_weight,
        Evaluation.Source.SELF: evaluation_round.self_weight,
        Evaluation.Source.PUBLIC: evaluation_round.public_weight,
    }
    rows = [
        EvaluationRow(
            evaluation,
            sums[evaluation.pk],
            rules.weighted_total(sums[evaluation.pk], weights),
            vetoes[evaluation.pk],
            left=evaluation.departure(),
        )
        for evaluation in evaluations
    ]
    # Those who left are shown, marked, after the others: ranks and the cut are among those
    # still in the round.
    ranked = [row for row in rows if not row.left]
    totals = [row.total for row in ranked]
    for row, rank, flagged in zip(
        ranked,
        rules.ranks(totals),
        rules.lowest_share(totals, evaluation_round.cut_share),
        strict=True,
    ):
        row.rank, row.count, row.flagged = rank, len(ranked), flagged
    rows.sort(key=lambda row: (bool(row.left), row.rank, row.evaluation.member.name))
    return rows
