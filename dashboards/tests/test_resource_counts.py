"""Resources by kind, matches per month and needs met through matches on each dashboard,
within the user's area, each equal to what was logged (issue 17)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from dashboards.stats import Dashboard
from members.tests.factories import MemberFactory
from organisations.tests.factories import organisation_make
from resources import services
from resources.models import Match
from resources.tests.factories import community_need_make, resource_make

pytestmark = pytest.mark.django_db

DISTRICT, QIAODONG, WUYIER, FAR = "140106", "140106001001", "140106001002", "140105001001"


def legal_need(actor, member, description="劳动纠纷"):
    return activity_services.need_create(
        actor=actor, member=member, data={"kind": "legal", "description": description}
    )


@pytest.fixture
def logged(areas, community_user, neighbour_user, district_user, other_district_user, member,
           neighbour_member, far_member):  # fmt: skip
    """In 桥东一社区 a lawyer's service (a need met through it this month, another a year and
    more ago) and one run out; in 五一二社区 jobs (a community need matched, not fulfilled);
    the district's law firm; a service in 小店区 with a need met through it."""
    today = timezone.localdate()
    lawyer = resource_make(community_user, member=MemberFactory(community=areas[QIAODONG]))
    resource_make(
        community_user, member=MemberFactory(community=areas[QIAODONG]),
        valid_until=today - datetime.timedelta(days=1),
    )  # fmt: skip
    jobs = resource_make(neighbour_user, member=neighbour_member, kind="jobs", service="")
    firm = organisation_make(district_user, areas[DISTRICT], name="迎泽律师事务所")
    resource_make(district_user, organisation=firm, served=[areas[DISTRICT]])
    far = resource_make(other_district_user, member=far_member)

    met = services.match_create(actor=community_user, resource=lawyer, need=legal_need(
        community_user, member))  # fmt: skip
    services.match_settle(actor=community_user, match=met, state=Match.State.FULFILLED)
    old = services.match_create(actor=community_user, resource=lawyer, need=legal_need(
        community_user, member, "合同审查"))  # fmt: skip
    services.match_settle(actor=community_user, match=old, state=Match.State.FULFILLED)
    long_ago = today - datetime.timedelta(days=400)
    Match.objects.filter(pk=old.pk).update(matched_on=long_ago, settled_on=long_ago)
    wanted = community_need_make(
        neighbour_user, areas[WUYIER], kind="jobs", service="", description="5个就业岗位"
    )
    missed = services.match_create(actor=neighbour_user, resource=jobs, community_need=wanted)
    services.match_settle(actor=neighbour_user, match=missed, state=Match.State.UNFULFILLED)
    services.match_settle(
        actor=other_district_user, state=Match.State.FULFILLED,
        match=services.match_create(actor=other_district_user, resource=far,
                                    need=legal_need(other_district_user, far_member)),
    )  # fmt: skip


def kinds(dashboard):
    return {row.label: row.count for row in dashboard.resources_by_kind if row.count}


@pytest.mark.parametrize(
    ("who", "resources", "this_month", "met"),
    [
        # Its lawyer; the one run out, the street's jobs and the district's firm are not its.
        ("community_user", {"专业服务": 1}, 1, 1),
        ("neighbour_user", {"就业岗位": 1}, 1, 0),  # matched, not fulfilled: no need met
        ("street_user", {"专业服务": 1, "就业岗位": 1}, 2, 1),
        ("district_user", {"专业服务": 2, "就业岗位": 1}, 2, 1),
        ("other_district_user", {"专业服务": 1}, 1, 1),
        ("admin_user", {"专业服务": 3, "就业岗位": 1}, 3, 2),
    ],
)
def test_the_counts_are_those_logged_in_the_users_area(
    client, logged, request, who, resources, this_month, met
):
    user = request.getfixturevalue(who)
    dashboard = Dashboard(user)
    assert kinds(dashboard) == resources
    months = {row.label: row for row in dashboard.matches_by_month}
    assert months[dashboard.months[-1]].count == this_month
    # The match a year and more ago is outside the last 12 months, and not counted.
    assert sum(row.count for row in dashboard.matches_by_month) == this_month
    assert dashboard.needs_met_by_matches == met
    # Each month's number is the count of the ledger it links to.
    client.force_login(user)
    for row in dashboard.matches_by_month:
        assert client.get(row.url).context["paginator"].count == row.count, row.label


def test_the_dashboard_shows_them(client, logged, community_user):
    client.force_login(community_user)
    html = client.get(reverse("home")).content.decode()
    assert 'id="needs-met-by-matches">1<' in html
    assert "资源对接" in html and "今日有效资源" in html
