"""A place's and an organisation's activities on their pages: only those the viewer may see,
latest first, a page at a time, with this year's numbers counted from the same rows."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from organisations.views import ACTIVITIES_PER_PAGE

from .factories import organisation_make, place_make

pytestmark = pytest.mark.django_db

DISTRICT, LIUXIANG, QIAODONG, WENMIAO = "140106", "140106001", "140106001001", "140106002"


def record(actor, area, title, *, days_ago=1, served=0, venue=None, partners=()):
    data = {
        "type": ActivityType.objects.get(code="free_clinic"),
        "title": title,
        "starts_at": timezone.now() - datetime.timedelta(days=days_ago),
        "area": area,
        "people_served": served,
        "venue": venue,
    }
    return activity_services.activity_create(actor=actor, data=data, partners=partners)


@pytest.fixture
def held(areas, street_user, district_user):
    """柳巷街道's liaison station and service group, used by 桥东一社区 this year and last
    year, by the district, and by 文庙街道 (which 柳巷's officer may not see)."""
    station = place_make(street_user, areas[LIUXIANG], name="柳巷统战联络站")
    group = organisation_make(street_user, areas[LIUXIANG], name="柳巷同心服务团")
    year_start = timezone.localdate().replace(month=1, day=1)
    last_year = (timezone.localdate() - year_start).days + 30
    at = {"venue": station, "partners": [group]}
    record(street_user, areas[QIAODONG], "桥东义诊", served=80, days_ago=0, **at)
    record(street_user, areas[QIAODONG], "去年的座谈", served=15, days_ago=last_year, **at)
    record(district_user, areas[DISTRICT], "全区联谊", served=20, days_ago=0, **at)
    record(district_user, areas[WENMIAO], "文庙普法", served=500, days_ago=0, **at)
    return station, group


@pytest.mark.parametrize("which", ["place", "organisation"])
def test_the_page_lists_the_activities_and_counts_only_those_in_scope(
    client, street_user, district_user, held, which
):
    station, group = held
    url = (
        reverse("organisations:place_detail", args=[station.pk])
        if which == "place"
        else reverse("organisations:detail", args=[group.pk])
    )
    client.force_login(street_user)
    response = client.get(url)
    page = response.content.decode()
    assert "桥东义诊" in page and "全区联谊" in page and "去年的座谈" in page
    assert "文庙普法" not in page
    # This year: 桥东义诊 and 全区联谊 (80 + 20 served); in all, last year's too.
    assert response.context["activity_numbers"] == {"total": 3, "this_year": 2, "served": 100}
    assert page.index("桥东义诊") < page.index("去年的座谈")  # latest first
    client.force_login(district_user)
    numbers = client.get(url).context["activity_numbers"]
    assert numbers == {"total": 4, "this_year": 3, "served": 600}


def test_a_place_without_activities_says_so(client, community_user, areas):
    room = place_make(community_user, areas[QIAODONG], name="桥东活动室")
    client.force_login(community_user)
    response = client.get(reverse("organisations:place_detail", args=[room.pk]))
    assert response.context["activity_numbers"] == {"total": 0, "this_year": 0, "served": 0}
    assert "尚未记录活动" in response.content.decode()


def test_the_activities_come_a_page_at_a_time_in_few_queries(
    client, street_user, areas, django_assert_max_num_queries
):
    station = place_make(street_user, areas[LIUXIANG], name="柳巷统战联络站")
    for number in range(ACTIVITIES_PER_PAGE + 3):
        record(street_user, areas[QIAODONG], f"活动{number:02}", days_ago=number, venue=station)
    url = reverse("organisations:place_detail", args=[station.pk])
    client.force_login(street_user)
    with django_assert_max_num_queries(12):
        first = client.get(url)
    assert len(first.context["activities"]) == ACTIVITIES_PER_PAGE
    assert "活动00" in first.content.decode() and "活动12" not in first.content.decode()
    second = client.get(url, {"page": "2"}).content.decode()
    assert "活动12" in second and "活动00" not in second
    # A page out of range or not a number shows a page, never an error.
    assert client.get(url, {"page": "999"}).status_code == 200
    assert client.get(url, {"page": "x"}).status_code == 200
