"""Recording activities: scope of organising areas and participants, history, audit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityType
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db


def data(area, **fields):
    start = timezone.make_aware(datetime.datetime(2026, 9, 10, 9, 30))
    return {
        "type": ActivityType.objects.get(code="free_clinic"),
        "title": "重阳节义诊",
        "starts_at": start,
        "ends_at": start + datetime.timedelta(hours=3),
        "place": "桥东一社区活动室",
        "area": area,
        "people_served": 120,
        **fields,
    }


def test_the_activity_types_are_loaded():
    names = list(ActivityType.objects.values_list("name", flat=True))
    assert names[:2] == ["座谈会/协商议事", "走访慰问"] and "义诊" in names
    assert ActivityType.objects.get(code="free_clinic").serves_people


def test_a_community_worker_records_an_activity_with_members(community_user, member, areas):
    activity = services.activity_create(
        actor=community_user, data=data(areas["140106001001"]), participants=[member]
    )
    assert list(activity.participants.all()) == [member]
    assert list(member.activities.all()) == [activity]
    change = activity.changes.get()
    assert change.action == "create" and change.actor == community_user
    fields = {row["field"]: row["new"] for row in change.changes}
    assert fields["title"] == "重阳节义诊" and fields["participants"] == [member.pk]
    assert fields["starts_at"] == "2026-09-10 09:30"
    assert AuditEvent.objects.filter(action="create", object_id=str(activity.pk)).exists()


def test_participants_outside_the_scope_are_refused(community_user, neighbour_member, areas):
    with pytest.raises(ValidationError) as error:
        services.activity_create(
            actor=community_user, data=data(areas["140106001001"]), participants=[neighbour_member]
        )
    assert "participants" in error.value.message_dict
    assert not Activity.objects.exists()


def test_an_activity_cannot_be_organised_by_an_area_outside_the_scope(community_user, areas):
    with pytest.raises(ValidationError) as error:
        services.activity_create(actor=community_user, data=data(areas["140106001002"]))
    assert "area" in error.value.message_dict


def test_the_end_cannot_precede_the_start(community_user, areas):
    start = timezone.make_aware(datetime.datetime(2026, 9, 10, 9, 30))
    with pytest.raises(ValidationError) as error:
        services.activity_create(
            actor=community_user,
            data=data(areas["140106001001"], ends_at=start - datetime.timedelta(hours=1)),
        )
    assert "ends_at" in error.value.message_dict


def test_an_update_records_only_what_changed(community_user, member, areas):
    activity = services.activity_create(actor=community_user, data=data(areas["140106001001"]))
    services.activity_update(
        actor=community_user, activity=activity, data={"people_served": 150}, participants=[member]
    )
    change = activity.changes.get(action="update")
    assert {row["field"]: (row["old"], row["new"]) for row in change.changes} == {
        "people_served": ("120", "150"),
        "participants": ([], [member.pk]),
    }


def test_a_joint_street_activity_is_seen_below_but_edited_only_by_the_street(
    street_user, community_user, other_street_user, areas
):
    activity = services.activity_create(actor=street_user, data=data(areas["140106001"]))
    assert Activity.objects.visible_to(community_user).filter(pk=activity.pk).exists()
    assert not Activity.objects.visible_to(other_street_user).filter(pk=activity.pk).exists()
    assert not Activity.objects.editable_by(community_user).filter(pk=activity.pk).exists()
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=community_user, activity=activity, data={"title": "改"})


def test_a_community_activity_is_not_seen_by_the_neighbouring_community(
    community_user, neighbour_user, district_user, other_district_user, areas
):
    activity = services.activity_create(actor=community_user, data=data(areas["140106001001"]))
    assert not Activity.objects.visible_to(neighbour_user).filter(pk=activity.pk).exists()
    assert Activity.objects.editable_by(district_user).filter(pk=activity.pk).exists()
    assert not Activity.objects.visible_to(other_district_user).filter(pk=activity.pk).exists()
