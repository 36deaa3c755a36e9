"""A period from set-up to finalizing: targets, scores, ranks, grades, locking, who may act."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessment import services
from assessment.models import Indicator, Period, Result, Target
from assessment.standings import standings

from .conftest import YEAR, hold_activities, populate, score_everywhere

pytestmark = pytest.mark.django_db


def give(actor, indicator, community, points, evidence="台账为证"):
    return services.score_set(
        actor=actor, indicator=indicator, community=community, points=D(points), evidence=evidence
    )


def test_targets_follow_each_communitys_members_when_the_period_opens(
    areas, period, indicators, district_user
):
    services.indicator_add(
        actor=district_user,
        period=period,
        data={"name": "服务群众", "kind": Indicator.Kind.MEASURED,
              "metric": Indicator.Metric.PEOPLE_SERVED, "weight": D(10),
              "rule": Indicator.Rule.LINEAR, "base": D(10), "rate": D("2.5")},
    )  # fmt: skip
    services.indicator_update(
        actor=district_user, indicator=indicators["system"], data={"weight": D(30)}
    )  # the points add up to 100 again
    populate(areas["140106001001"], 3)  # tier from 3: 2
    populate(areas["140106001002"], 2)  # tier from 0: 1
    populate(areas["140106002001"], 6)  # tier from 6: 4
    services.period_open(actor=district_user, period=period)
    targets = {
        (target.indicator.name, target.community.name): (target.members, target.value)
        for target in Target.objects.select_related("indicator", "community")
    }
    assert targets == {
        ("开展活动", "桥东一社区"): (3, 2),
        ("开展活动", "五一二社区"): (2, 1),
        ("开展活动", "府东一社区"): (6, 4),
        ("服务群众", "桥东一社区"): (3, D("18")),  # 10 + 2.5 × 3 = 17.5, rounded up
        ("服务群众", "五一二社区"): (2, D("15")),
        ("服务群众", "府东一社区"): (6, D("25")),
    }
    # More members later change nothing: targets are fixed when the period opens.
    populate(areas["140106001002"], 5)
    fewer = Target.objects.get(indicator=indicators["activities"], community=areas["140106001002"])
    assert fewer.value == 1
    with pytest.raises(ValidationError):
        services.period_open(actor=district_user, period=period)
    with pytest.raises(ValidationError):
        services.indicator_add(
            actor=district_user, period=period,
            data={"name": "x", "kind": "scored", "weight": D(1), "scored_by": "district"},
        )  # fmt: skip


def test_scores_ranks_grades_and_outcomes(
    areas, period, indicators, district_user, street_user, other_street_user
):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    fudong = areas["140106002001"]
    populate(qiaodong, 3)  # target 2
    populate(wuyier, 3)  # target 2
    populate(fudong, 6)  # target 4
    services.period_open(actor=district_user, period=period)
    hold_activities(street_user, qiaodong, 3)  # beyond the target: capped at 60
    hold_activities(street_user, wuyier, 1)  # half: 30
    hold_activities(other_street_user, fudong, 4)  # 60
    last_year = datetime.datetime(YEAR - 1, 6, 1, 9, tzinfo=datetime.UTC)
    hold_activities(street_user, wuyier, 5, starts_at=last_year)
    system = indicators["system"]
    give(street_user, system, qiaodong, 35)
    give(street_user, system, wuyier, 40)
    give(other_street_user, system, fudong, 35)
    give(district_user, indicators["innovation"], fudong, 3, "网格联络员制度")
    give(district_user, indicators["deduction"], qiaodong, 2, "两次迟报")
    table = {s.community.name: s for s in standings(period)}
    assert {name: s.total for name, s in table.items()} == {
        "府东一社区": D("98.00"),  # 60 + 35 + 3
        "桥东一社区": D("93.00"),  # 60 + 35 − 2
        "五一二社区": D("70.00"),  # 30 + 40; last year's activities do not count
    }
    assert [
        (n, table[n].rank_in_district, table[n].rank_in_street, table[n].grade, table[n].outcome)
        for n in ("府东一社区", "桥东一社区", "五一二社区")
    ] == [
        ("府东一社区", 1, 1, "excellent", "model"),
        ("桥东一社区", 2, 1, "excellent", ""),
        ("五一二社区", 3, 2, "pass", ""),
    ]  # fmt: skip
    line = table["五一二社区"].lines[0]
    assert (line.target, line.actual, line.score, line.progress) == (2, 1, D("30.00"), D("50.0"))


def test_ties_share_a_rank(areas, period, indicators, district_user, street_user):
    populate(areas["140106001001"], 1)
    populate(areas["140106001002"], 1)
    services.period_open(actor=district_user, period=period)
    hold_activities(street_user, areas["140106001001"], 1)
    hold_activities(street_user, areas["140106001002"], 1)
    ranks = {s.community.name: (s.rank_in_district, s.rank_in_street) for s in standings(period)}
    assert ranks == {"桥东一社区": (1, 1), "五一二社区": (1, 1), "府东一社区": (3, 1)}


def test_hand_scored_items_only_by_the_roles_that_may_score_them(
    areas, period, indicators, district_user, street_user, other_street_user, community_user
):
    qiaodong = areas["140106001001"]
    services.period_open(actor=district_user, period=period)
    system, bonus = indicators["system"], indicators["innovation"]
    for actor, indicator in (
        (community_user, system),  # a community does not score itself
        (other_street_user, system),  # another street's community
        (street_user, bonus),  # a district item
        (district_user, system),  # a street item
    ):
        with pytest.raises(PermissionDenied):
            give(actor, indicator, qiaodong, 1)
    with pytest.raises(ValidationError, match="0 到 40"):
        give(street_user, system, qiaodong, 41)
    with pytest.raises(ValidationError, match="依据"):
        give(street_user, system, qiaodong, 4, " ")
    with pytest.raises(PermissionDenied):  # measured items are not scored by hand
        give(district_user, indicators["activities"], qiaodong, 1)
    assert give(street_user, system, qiaodong, 40).points == 40


def test_only_the_districts_staff_set_up_open_and_finalize(
    areas, period, indicators, street_user, other_district_user, district_user
):
    for actor in (street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.period_open(actor=actor, period=period)
        with pytest.raises(PermissionDenied):
            services.indicator_add(actor=actor, period=period, data={})
    services.period_open(actor=district_user, period=period)
    with pytest.raises(PermissionDenied):
        services.period_finalize(actor=street_user, period=period)
    with pytest.raises(ValidationError):
        services.period_publish(actor=district_user, period=period)  # not final yet


def test_finalizing_stores_the_results_and_locks_the_period(
    areas, period, indicators, district_user, street_user, admin_user
):
    qiaodong = areas["140106001001"]
    populate(qiaodong, 3)
    services.period_open(actor=district_user, period=period)
    hold_activities(street_user, qiaodong, 2)
    score_everywhere(admin_user, indicators["system"])
    give(street_user, indicators["system"], qiaodong, 30)
    services.period_finalize(actor=district_user, period=period)
    period.refresh_from_db()
    assert period.state == Period.State.FINAL
    stored = Result.objects.get(period=period, community=qiaodong)
    assert (stored.total, stored.grade, stored.rank_in_district) == (D("90.00"), "excellent", 1)
    # After finalizing, work logged later changes nothing and nothing can be edited.
    hold_activities(street_user, areas["140106001002"], 5)
    assert {s.community.name: s.total for s in standings(period)}["五一二社区"] == D(0)
    for attempt in (
        lambda: give(street_user, indicators["system"], qiaodong, 40),
        lambda: services.period_update(actor=district_user, period=period, data={"pass_from": 50}),
        lambda: services.indicator_add(actor=district_user, period=period, data={"name": "x"}),
        lambda: services.period_finalize(actor=district_user, period=period),
    ):
        with pytest.raises(ValidationError):
            attempt()
    assert Result.objects.filter(period=period).count() == 3
    services.period_publish(actor=district_user, period=period)
    period.refresh_from_db()
    assert period.published


def test_each_measure_counts_what_was_logged_in_the_period(
    areas, period, district_user, street_user
):
    from activities import services as activity_services
    from activities.models import ActivityType, Need
    from assessment.standings import measure

    qiaodong = areas["140106001001"]
    members = populate(qiaodong, 4)
    training = ActivityType.objects.get(code="training")
    hold_activities(street_user, qiaodong, 2, people_served=30)
    hold_activities(street_user, qiaodong, 1, type=training, people_served=5)
    today = datetime.date.today()
    for member in members[:3]:  # three of four visited, one of them twice
        activity_services.visit_create(
            actor=street_user,
            data={"community": qiaodong, "date": today, "staff": "王", "way": "home"},
            members=[member],
        )
    activity_services.visit_create(
        actor=street_user,
        data={"community": qiaodong, "date": today, "staff": "王", "way": "phone"},
        members=[members[0]],
    )
    for due, closed in ((today, today), (today - datetime.timedelta(days=5), today)):
        need = activity_services.need_create(
            actor=street_user, member=members[0],
            data={"kind": "legal", "description": "咨询", "due_date": due,
                  "raised_on": today - datetime.timedelta(days=10)},
        )  # fmt: skip
        activity_services.need_set_status(
            actor=street_user, need=need, status=Need.Status.RESOLVED, resolution="已办",
            closed_on=closed,
        )  # fmt: skip
    metrics = [
        ("activities", None), ("activities", training), ("people_served", None),
        ("visited_share", None), ("needs_resolved", None), ("needs_on_time", None),
        ("completeness", None),
    ]  # fmt: skip
    indicators = [
        services.indicator_add(
            actor=district_user,
            period=period,
            data={
                "name": f"{metric}{index}",
                "kind": "measured",
                "metric": metric,
                "activity_type": kind,
                "weight": D(10),
                "rule": "fixed",
                "base": D(1),
            },
        )  # fmt: skip
        for index, (metric, kind) in enumerate(metrics)
    ]
    actual = measure(period, indicators, [qiaodong.pk])
    assert [actual[indicator.pk, qiaodong.pk] for indicator in indicators] == [
        3,  # activities of every type
        1,  # of the training type only
        65,  # people served: 30 + 30 + 5
        D("75.0"),  # 3 of 4 members visited
        2,  # needs resolved
        1,  # on time: the other was closed after its due date
        D("100.0"),  # every record complete
    ]
