"""A member's timeline: the member page's registration and changes, with activities, visits
and needs from this app's view, in scope only."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import ActivityType
from members.services import member_update

pytestmark = pytest.mark.django_db


def add_records(actor, member, index: int) -> None:
    """A change, an activity, and a visit that raised a need."""
    member_update(actor=actor, member=member, data={"workplace": f"单位{index}"})
    services.activity_create(
        actor=actor,
        data={
            "type": ActivityType.objects.get(code="training"),
            "title": f"学习会{index}",
            "starts_at": timezone.now() - datetime.timedelta(days=index),
            "area": member.community,
        },
        participants=[member],
    )
    services.visit_create(
        actor=actor,
        data={"community": member.community, "date": datetime.date(2026, 11, 1), "staff": "王丽"},
        members=[member],
        need={"kind": "other", "description": f"诉求{index}"},
    )


def test_the_member_page_lists_changes_and_fetches_the_timeline(client, community_user, member):
    add_records(community_user, member, 0)
    client.force_login(community_user)
    page = client.get(reverse("members:detail", args=[member.pk]))
    kinds = [entry["kind"] for entry in page.context["timeline"]]
    assert kinds == ["change", "change"]  # registration and the workplace changed
    html = page.content.decode()
    url = reverse("activities:member_timeline", args=[member.pk])
    assert f'data-timeline="{url}"' in html and "js/member_timeline.js" in html
    timeline = client.get(url).content.decode()
    assert "学习会0" in timeline and "待办" in timeline and "单位0" in timeline


def test_timeline_queries_do_not_grow_with_the_timeline(client, community_user, member):
    client.force_login(community_user)
    urls = [
        reverse("members:detail", args=[member.pk]),
        reverse("activities:member_timeline", args=[member.pk]),
    ]
    few = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        few.append(len(queries))
    for index in range(5):
        add_records(community_user, member, index)
    many = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        many.append(len(queries))
    kinds = [entry["kind"] for entry in response.context["timeline"]]
    assert (kinds.count("change"), kinds.count("activity")) == (6, 5)
    assert (kinds.count("visit"), kinds.count("need")) == (5, 5)
    # Newest first.
    moments = [entry["at"] for entry in response.context["timeline"]]
    assert moments == sorted(moments, reverse=True)
    assert many == few


def test_the_timeline_of_a_member_out_of_scope_is_not_found(
    client, community_user, neighbour_member
):
    client.force_login(community_user)
    url = reverse("activities:member_timeline", args=[neighbour_member.pk])
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
