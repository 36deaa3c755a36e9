"""Every number of every dashboard is the count of the list it links to, within scope."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from dashboards.stats import Dashboard
from dashboards.tests.conftest import register
from members import services as member_services
from members.models import Member

pytestmark = pytest.mark.django_db


def numbers_and_lists(dashboard: Dashboard):
    """(what, number, address of its list) for every linked number of a dashboard."""
    tables = (
        dashboard.summary,
        dashboard.categories,
        dashboard.political_statuses,
        dashboard.ethnicities,
        dashboard.sexes,
        dashboard.age_bands,
        dashboard.joined_and_left,
        dashboard.activities_by_month,
        dashboard.activities_by_type,
        dashboard.need_rows,
        dashboard.matches_by_month,
        dashboard.by_area,
        dashboard.completeness,
    )
    for rows in tables:
        for row in rows:
            yield row.label, row.count, row.url
            for key, value in row.extra.items():
                if f"{key}_url" in row.extra:
                    yield f"{row.label} {key}", value, row.extra[f"{key}_url"]


USERS = [
    "community_user",
    "neighbour_user",
    "street_user",
    "other_street_user",
    "district_user",
    "other_district_user",
    "admin_user",
]


@pytest.mark.parametrize("who", USERS)
def test_every_number_is_the_count_of_its_list(client, world, who, request, settings):
    # The lists count their rows here: with tallied counts they would agree by construction.
    settings.MEMBER_LIST_TALLIED_COUNTS = False
    user = request.getfixturevalue(who)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    checked = 0
    for what, number, url in numbers_and_lists(dashboard):
        assert f'href="{url}"'.replace("&", "&amp;") in response.content.decode(), what
        listed = client.get(url)
        assert listed.status_code == 200, (what, url)
        assert listed.context["paginator"].count == number, (what, url)
        checked += 1
    assert checked > 60


def test_the_numbers_are_those_of_the_users_area(
    world, community_user, street_user, district_user, admin_user
):
    mine = Dashboard(community_user)
    assert mine.tally("total") == 3  # 桥东一社区: the one who moved out is not counted
    assert {row.label: row.count for row in mine.categories}["少数民族人士"] == 1
    assert mine.needs == {"open": 0, "overdue": 0, "resolved": 0}
    assert mine.by_area == []
    street = Dashboard(street_user)
    assert street.tally("total") == 5  # and 五一二社区, whose member moved to 府东一社区
    by_area = [(row.label, row.count) for row in street.by_area]
    assert by_area == [("桥东一社区", 3), ("五一二社区", 2)]
    assert street.needs == {"open": 1, "overdue": 1, "resolved": 1}
    assert {row.label: row.count for row in street.summary}["信息不完整"] == 2
    # The street's own joint activity is the street's; the district's is seen but not theirs.
    assert sum(row.count for row in street.activities_by_month) == 3
    assert sum(row.extra["activities"] for row in street.by_area) == 1
    assert street.completeness == []  # its table of areas is already by community
    district = Dashboard(district_user)
    assert [
        (row.label, row.count, row.extra["complete_share"]) for row in district.completeness
    ] == [
        ("柳巷街道 五一二社区", 1, 50.0),
        ("柳巷街道 桥东一社区", 1, 66.7),
        ("文庙街道 府东一社区", 0, 100.0),
    ]
    # An administrator of two districts compares the districts.
    everything = Dashboard(admin_user)
    assert [(row.label, row.count) for row in everything.by_area] == [("小店区", 1), ("迎泽区", 7)]


def test_work_elsewhere_changes_none_of_my_numbers(
    client, world, community_user, neighbour_user, other_district_user, areas
):
    def everything(user):
        client.force_login(user)
        dashboard = client.get(reverse("home")).context["dashboard"]
        return [(what, number) for what, number, _url in numbers_and_lists(dashboard)]

    before = everything(community_user)
    neighbour = register(areas["140106001002"], born=1999, is_representative=True)
    activity_services.visit_create(
        actor=neighbour_user,
        data={"community": areas["140106001002"], "date": timezone.localdate(),
              "staff": "赵", "way": "phone"},
        members=[neighbour],
        need={"kind": "other", "description": "咨询"},
    )  # fmt: skip
    register(areas["140105001001"], born=1940)
    assert everything(community_user) == before


def test_a_saved_change_shows_at_once(client, world, community_user, areas):
    client.force_login(community_user)
    total = Dashboard(community_user).tally("total")
    newcomer = register(areas["140106001001"], born=1995)
    assert Dashboard(community_user).tally("total") == total + 1
    member_services.member_set_status(
        actor=community_user,
        member=newcomer,
        status=Member.Status.DECEASED,
        date=timezone.localdate(),
        reason="病故",
    )
    assert Dashboard(community_user).tally("total") == total


def test_the_dashboard_keeps_a_fixed_number_of_queries(
    client, world, district_user, areas, django_assert_max_num_queries
):
    client.force_login(district_user)
    # 18 for the dashboard (with the visits of the last 12 months by area), 2 for resource
    # matching (resources by kind; matches per month with the needs they met, one grouped
    # query), 4 for the 待办 card (incoming transfers, needs, open periods, open rounds) and 1
    # for the rectifications waiting on the area (followup).
    with django_assert_max_num_queries(27) as few:  # with 我的待办's counts (card and header)
        client.get(reverse("home"))
    for born in range(1950, 1990, 2):
        register(areas["140106002001"], born=born, is_representative=True)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("home"))


def test_age_bands_count_by_year_of_birth_at_their_edges(areas, community_user):
    for born in (1991, 1990, 1981, 1980, 1961, 1960):
        register(areas["140106001001"], born=born)
    dashboard = Dashboard(community_user, today=datetime.date(2026, 1, 5))
    assert [(row.label, row.count) for row in dashboard.age_bands] == [
        ("35岁及以下", 1),  # 1991
        ("36–45", 2),  # 1990, 1981
        ("46–55", 1),  # 1980
        ("56–65", 1),  # 1961
        ("66岁及以上", 1),  # 1960
    ]
    assert dashboard.age_bands[1].url == "/members/?born_from=1981&born_to=1990"


def test_not_contacted_counts_whole_months(areas, community_user, street_user):
    from members.models import contact_cutoff

    assert contact_cutoff(12, datetime.date(2026, 11, 22)) == datetime.date(2025, 12, 1)
    assert contact_cutoff(1, datetime.date(2026, 1, 31)) == datetime.date(2026, 1, 1)
    assert contact_cutoff(13, datetime.date(2026, 1, 31)) == datetime.date(2025, 1, 1)
    never, lately, long_ago = (register(areas["140106001001"], born=b) for b in (1960, 1961, 1962))
    visits = ((lately, datetime.date(2025, 12, 1)), (long_ago, datetime.date(2025, 11, 30)))
    for member, day in visits:
        activity_services.visit_create(
            actor=street_user,
            data={"community": areas["140106001001"], "date": day, "staff": "王", "way": "home"},
            members=[member],
        )  # fmt: skip
    dashboard = Dashboard(community_user, today=datetime.date(2026, 11, 22))
    assert dashboard.summary[2].count == 2  # never, and 30 November 2025
    lately.refresh_from_db()
    assert lately.last_contact_on == datetime.date(2025, 12, 1)


@pytest.mark.parametrize("who", ["neighbour_user", "street_user", "district_user"])
def test_a_need_referred_up_is_counted_where_it_is_held_as_the_lists_do(
    client, world, who, request, neighbour_user, areas
):
    """五一二社区's overdue need referred to the district: the district's numbers count it,
    the street's and the community's lists (and so their numbers) no longer do."""
    need = world["members"][3].needs.get()
    activity_services.need_refer(
        actor=neighbour_user, need=need, to_area=areas["140106"], note="涉及多个部门"
    )
    user = request.getfixturevalue(who)
    client.force_login(user)
    dashboard = client.get(reverse("home")).context["dashboard"]
    expected = 1 if who == "district_user" else 0
    assert dashboard.needs["open"] == dashboard.needs["overdue"] == expected
    for _what, number, url in numbers_and_lists(dashboard):
        if "need" in url:
            assert client.get(url).context["paginator"].count == number, url
