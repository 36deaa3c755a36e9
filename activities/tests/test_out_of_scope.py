"""What lies outside a viewer's scope stays outside: names in histories and filters (hole 4),
and a member's visits and needs after a transfer (hole 5)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import ActivityType

pytestmark = pytest.mark.django_db


def joint_activity(actor, area, participants):
    return services.activity_create(
        actor=actor,
        data={
            "type": ActivityType.objects.get(code="consultation"),
            "title": "街道联谊会",
            "starts_at": timezone.make_aware(datetime.datetime(2026, 9, 10, 9, 30)),
            "area": area,
        },
        participants=participants,
    )


# -- Hole 4: names of people outside scope ------------------------------------------------------


def test_a_joint_activitys_history_names_only_the_viewers_members(
    client, street_user, community_user, member, neighbour_member, areas
):
    joint = joint_activity(street_user, areas["140106001"], [member])
    services.activity_update(
        actor=street_user, activity=joint, data={}, participants=[member, neighbour_member]
    )
    client.force_login(community_user)
    response = client.get(reverse("activities:detail", args=[joint.pk]))
    page = response.content.decode()
    assert member.name in page
    assert neighbour_member.name not in page
    (row,) = [
        row
        for entry in response.context["history"]
        if entry["change"].action == "update"
        for row in entry["rows"]
    ]
    assert row["old"] == member.name
    assert row["new"] == f"{member.name}、其他区域的 1 名统战对象"


def test_the_street_reads_every_name_in_the_history_of_its_activity(
    client, street_user, member, neighbour_member, areas
):
    joint = joint_activity(street_user, areas["140106001"], [member])
    services.activity_update(
        actor=street_user, activity=joint, data={}, participants=[member, neighbour_member]
    )
    client.force_login(street_user)
    response = client.get(reverse("activities:detail", args=[joint.pk]))
    (row,) = [
        row
        for entry in response.context["history"]
        if entry["change"].action == "update"
        for row in entry["rows"]
    ]
    assert row["new"] == "、".join(sorted([member.name, neighbour_member.name]))


def test_the_member_filter_takes_only_members_the_viewer_may_see(
    client, street_user, community_user, member, neighbour_member, areas
):
    joint_activity(street_user, areas["140106001"], [neighbour_member])
    client.force_login(community_user)
    response = client.get(reverse("activities:list"), {"member": neighbour_member.pk})
    assert response.status_code == 200
    assert list(response.context["activities"]) == []
    assert neighbour_member.name not in response.content.decode()
    # The viewer's own member still filters as before.
    own = joint_activity(street_user, areas["140106001"], [member])
    response = client.get(reverse("activities:list"), {"member": member.pk})
    assert list(response.context["activities"]) == [own]
