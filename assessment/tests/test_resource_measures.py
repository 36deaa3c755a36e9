"""Needs met through matched resources (需求对接落实数, issue 17): per community, the matches
settled 已落实 in the period for its needs, equal to what was logged."""

import datetime
import decimal
from decimal import Decimal as D

import pytest
from django.urls import reverse

from activities import services as activity_services
from assessment import services
from assessment.models import Target
from assessment.standings import measure, standings
from members.tests.factories import MemberFactory
from resources import services as resource_services
from resources.models import Match
from resources.tests.factories import community_need_make, resource_make

from .conftest import populate

pytestmark = pytest.mark.django_db

LIUXIANG, QIAODONG, WUYIER, FUDONG = "140106001", "140106001001", "140106001002", "140106002001"
DAY = datetime.timedelta(days=1)


def measured(period, actor, **fields):
    return services.indicator_add(
        actor=actor,
        period=period,
        data={"name": "需求对接落实", "kind": "measured", "metric": "needs_matched",
              "weight": D(10), "rule": "fixed", "base": D(1), **fields},
    )  # fmt: skip


@pytest.fixture
def lawyer(areas, community_user):
    """A lawyer of 桥东一社区 serving the whole of 柳巷街道."""
    return resource_make(
        community_user, member=MemberFactory(community=areas[QIAODONG]), title="律师义务咨询",
        served=[areas[LIUXIANG]],
    )  # fmt: skip


def matched(actor, resource, *, member=None, community_need=None, state=None, on=None):
    """A match of the member's new legal need (or of the community need), settled in `state`
    on the day `on` (set afterwards: the service refuses a day before the match)."""
    need = None
    if member is not None:
        need = activity_services.need_create(
            actor=actor, member=member, data={"kind": "legal", "description": "劳动纠纷"}
        )
    match = resource_services.match_create(
        actor=actor, resource=resource, need=need, community_need=community_need
    )
    if state is not None:
        resource_services.match_settle(actor=actor, match=match, state=state)
        if on is not None:
            Match.objects.filter(pk=match.pk).update(settled_on=on)
    return match


def test_needs_met_are_the_matches_fulfilled_in_the_period_for_the_communitys_needs(
    areas, period, district_user, community_user, neighbour_user, member, neighbour_member,
    lawyer,
):  # fmt: skip
    indicator = measured(period, district_user)
    fulfilled, unfulfilled = Match.State.FULFILLED, Match.State.UNFULFILLED
    for day in (period.starts_on, period.ends_on):  # the first and the last day count
        matched(community_user, lawyer, member=member, state=fulfilled, on=day)
    for day in (period.starts_on - DAY, period.ends_on + DAY):  # a day outside does not
        matched(community_user, lawyer, member=member, state=fulfilled, on=day)
    matched(community_user, lawyer, member=member, state=unfulfilled)  # 未落实
    matched(community_user, lawyer, member=member)  # 已对接, not settled yet
    volunteers = community_need_make(community_user, areas[QIAODONG])
    matched(community_user, lawyer, community_need=volunteers, state=fulfilled)
    # Another community's need met through the same lawyer counts for that community.
    matched(neighbour_user, lawyer, member=neighbour_member, state=fulfilled)

    ids = [areas[code].pk for code in (QIAODONG, WUYIER, FUDONG)]
    actual = measure(period, [indicator], ids)
    assert [actual[indicator.pk, pk] for pk in ids] == [3, 1, 0]
    # What the ledger logged: the fulfilled matches of each community settled in the period.
    assert [actual[indicator.pk, pk] for pk in ids] == [
        Match.objects.filter(
            area_id=pk, state=fulfilled,
            settled_on__gte=period.starts_on, settled_on__lte=period.ends_on,
        ).count()
        for pk in ids
    ]  # fmt: skip


def test_a_member_moved_away_leaves_the_need_met_with_the_community_that_worked_it(
    areas, period, district_user, community_user, member, lawyer
):
    indicator = measured(period, district_user)
    matched(community_user, lawyer, member=member, state=Match.State.FULFILLED)
    # Moved to 五一二社区 afterwards (a transfer, done directly here): the need's community
    # stays 桥东一社区.
    type(member).objects.filter(pk=member.pk).update(community=areas[WUYIER])
    ids = [areas[QIAODONG].pk, areas[WUYIER].pk]
    actual = measure(period, [indicator], ids)
    assert [actual[indicator.pk, pk] for pk in ids] == [1, 0]


def test_the_targets_scale_with_members_and_the_score_follows(
    client, areas, period, district_user, community_user, member, lawyer
):
    populate(areas[QIAODONG], 3)
    populate(areas[WUYIER], 1)
    indicator = measured(
        period, district_user, rule="linear", base=D(1), rate=D("0.5"), weight=D(100)
    )
    services.period_open(actor=district_user, period=period)
    targets = {t.community.code: t for t in Target.objects.filter(indicator=indicator)}
    for target in targets.values():  # 1 + 0.5 × members, rounded half up
        expected = (1 + D("0.5") * target.members).quantize(D(1), decimal.ROUND_HALF_UP)
        assert target.value == expected
    assert targets[QIAODONG].value > targets[FUDONG].value == 1
    for _index in range(2):
        matched(community_user, lawyer, member=member, state=Match.State.FULFILLED)

    line = next(
        standing.lines[0] for standing in standings(period) if standing.community.code == QIAODONG
    )
    target = targets[QIAODONG].value
    assert (line.target, line.actual) == (target, 2)
    assert line.score == (D(100) * min(D(2) / target, 1)).quantize(D("0.01"))

    client.force_login(district_user)
    html = client.get(reverse("assessment:detail", args=[period.pk])).content.decode()
    assert "需求对接落实数" in html
