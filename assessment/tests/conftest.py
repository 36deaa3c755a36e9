"""A period of 迎泽区 with a measured, a hand-scored, a bonus and a deduction item."""

import datetime
from decimal import Decimal as D

import pytest
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from assessment import services
from assessment.models import Indicator
from members.tests.factories import MemberFactory

YEAR = timezone.localdate().year


def populate(community, count):
    return [MemberFactory(community=community) for _ in range(count)]


def hold_activities(actor, community, count, **fields):
    kind = ActivityType.objects.get(code="consultation")
    for index in range(count):
        activity_services.activity_create(
            actor=actor,
            data={"type": kind, "title": f"座谈{index}", "area": community,
                  "starts_at": timezone.now() - datetime.timedelta(hours=index), **fields},
        )  # fmt: skip


def talk_with_the_flagged(evaluation_round, actor):
    """A warning talk with each representative the round flags and who has no talk record yet:
    a round is confirmed only then (issue 18)."""
    from assessment import meetings

    for entry in meetings.talks_needed(evaluation_round):
        if entry.talk is None:
            meetings.talk_record_set(
                actor=actor, evaluation=entry.row.evaluation,
                data={"kind": "warning", "held_on": timezone.localdate(), "held_by": "区委统战部",
                      "content": "指出评价中的问题"},
            )  # fmt: skip


def score_everywhere(actor, indicator, points=0, evidence="按台账评定"):
    """Score a hand-scored item in every community of the period's district (finalizing
    needs it); `actor` scores all of them, e.g. an administrator of every area."""
    from tongzhan.models import Area

    for community in Area.objects.communities().within(indicator.period.district):
        services.score_set(
            actor=actor, indicator=indicator, community=community, points=D(points),
            evidence=evidence,
        )  # fmt: skip


@pytest.fixture
def period(areas, district_user):
    return services.period_create(
        actor=district_user,
        data={
            "district": areas["140106"],
            "name": f"{YEAR}年度",
            "starts_on": datetime.date(YEAR, 1, 1),
            "ends_on": datetime.date(YEAR, 12, 31),
            "model_communities": 1,
        },
    )


@pytest.fixture
def indicators(period, district_user):
    add = services.indicator_add
    return {
        "activities": add(
            actor=district_user,
            period=period,
            data={
                "name": "开展活动",
                "kind": Indicator.Kind.MEASURED,
                "metric": Indicator.Metric.ACTIVITIES,
                "weight": D(60),
                "rule": Indicator.Rule.TIERS,
                "tiers": [[0, 1], [3, 2], [6, 4]],
            },
        ),  # fmt: skip
        "system": add(
            actor=district_user,
            period=period,
            data={
                "name": "工作制度健全",
                "kind": Indicator.Kind.SCORED,
                "weight": D(40),
                "scored_by": Indicator.ScoredBy.STREET,
            },
        ),  # fmt: skip
        "innovation": add(
            actor=district_user,
            period=period,
            data={
                "name": "创新加分",
                "kind": Indicator.Kind.BONUS,
                "weight": D(5),
                "scored_by": Indicator.ScoredBy.DISTRICT,
            },
        ),  # fmt: skip
        "deduction": add(
            actor=district_user,
            period=period,
            data={
                "name": "信息报送不及时",
                "kind": Indicator.Kind.DEDUCTION,
                "weight": D(5),
                "scored_by": Indicator.ScoredBy.DISTRICT,
            },
        ),  # fmt: skip
    }
