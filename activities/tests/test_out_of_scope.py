"""What lies outside a viewer's scope stays outside: names in histories and filters (hole 4),
and a member's visits and needs after a transfer (hole 5)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import ActivityType, Need
from members.services import transfer_request
from members.tests.factories import MemberFactory

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


# -- Hole 5: records left behind after a transfer -------------------------------------------------

DAY = datetime.date(2026, 11, 2)


def visit_with_need(actor, member):
    visited = services.visit_create(
        actor=actor,
        data={"community": member.community, "date": DAY, "staff": "王丽", "way": "home"},
        members=[member],
        need={"kind": Need.Kind.SCHOOLING, "description": "子女入学咨询"},
    )
    return visited, visited.needs.get()


def transfer(actor, member, community):
    transfer_request(actor=actor, member=member, to_community=community, reason="搬家")


def test_after_a_transfer_the_old_community_no_longer_opens_her_visits_and_needs(
    client, community_user, district_user, member, areas
):
    visited, need = visit_with_need(community_user, member)
    transfer(district_user, member, areas["140106001002"])
    client.force_login(community_user)
    for name, pk in [
        ("activities:visit_detail", visited.pk),
        ("activities:visit_update", visited.pk),
        ("activities:need_detail", need.pk),
        ("activities:need_update", need.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    assert client.post(reverse("activities:need_detail", args=[need.pk])).status_code == 404
    assert list(client.get(reverse("activities:visit_list")).context["visits"]) == []
    assert list(client.get(reverse("activities:need_list")).context["needs"]) == []
    with pytest.raises(PermissionDenied):
        services.need_update(actor=community_user, need=need, data={"handler": "王丽"})


def test_after_a_transfer_the_new_community_reads_her_visits_and_follows_up_her_needs(
    client, community_user, neighbour_user, district_user, member, areas
):
    visited, need = visit_with_need(community_user, member)
    transfer(district_user, member, areas["140106001002"])
    client.force_login(neighbour_user)
    page = client.get(reverse("activities:visit_detail", args=[visited.pk]))
    assert page.status_code == 200 and member.name in page.content.decode()
    # The visit is the old community's work: read, not rewritten, by the new one.
    assert client.get(reverse("activities:visit_update", args=[visited.pk])).status_code == 403
    assert client.get(reverse("activities:need_detail", args=[need.pk])).status_code == 200
    assert list(client.get(reverse("activities:need_list")).context["needs"]) == [need]
    services.need_set_status(
        actor=neighbour_user,
        need=need,
        status=Need.Status.RESOLVED,
        resolution="已协调入学",
        closed_on=DAY,
    )
    need.refresh_from_db()
    # Resolved by the new community: the resolution counts as its work.
    assert need.status == Need.Status.RESOLVED and need.community == areas["140106001002"]


def test_a_visit_to_two_names_only_the_member_still_in_scope(
    client, community_user, district_user, member, areas
):
    other = MemberFactory(name="王五", community=member.community)
    visited = services.visit_create(
        actor=community_user,
        data={"community": member.community, "date": DAY, "staff": "王丽", "way": "home"},
        members=[member, other],
    )
    transfer(district_user, other, areas["140106002001"])
    client.force_login(community_user)
    page = client.get(reverse("activities:visit_detail", args=[visited.pk]))
    assert page.status_code == 200
    assert member.name in page.content.decode() and "王五" not in page.content.decode()
    assert page.context["members_elsewhere"] == 1
    listed = client.get(reverse("activities:visit_list")).content.decode()
    assert member.name in listed and "王五" not in listed
    # Someone on it is no longer theirs: the visit cannot be rewritten from here.
    assert client.get(reverse("activities:visit_update", args=[visited.pk])).status_code == 403


def test_editing_a_joint_activity_keeps_the_participants_who_moved_away(
    client, areas, street_user, district_user, member, neighbour_member
):
    """After a participant moves to another street, the street's officer still saves its
    activity (it answered a server error: "Tallies out of step"), and the form, which shows
    only the participants the officer may see, does not take away the one who moved."""
    joint = joint_activity(street_user, areas["140106001"], [member, neighbour_member])
    transfer(district_user, neighbour_member, areas["140106002001"])
    client.force_login(street_user)
    url = reverse("activities:update", args=[joint.pk])
    page = client.get(url)
    assert neighbour_member.name not in page.content.decode()
    form = page.context["form"]
    data = {
        name: form[name].value()
        for name in form.fields
        if form[name].value() is not None and name != "participants"
    }
    data.update(title="街道联谊会（补记）", participants=[str(member.pk)])  # the options shown
    assert client.post(url, data).status_code == 302
    assert set(joint.participants.all()) == {member, neighbour_member}
    page = client.get(reverse("activities:detail", args=[joint.pk])).content.decode()
    assert "另有 1 名其他区域的统战对象" in page
