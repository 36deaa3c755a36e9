"""The admin records activities through the same service, so history and scope hold."""

import pytest
from django.urls import reverse

from activities.models import Activity, ActivityType

pytestmark = pytest.mark.django_db


def test_admin_records_an_activity_with_participants_through_the_service(
    client, admin_user, member, areas
):
    client.force_login(admin_user)
    assert client.get(reverse("admin:activities_activity_add")).status_code == 200
    response = client.post(
        reverse("admin:activities_activity_add"),
        {
            "type": ActivityType.objects.get(code="consultation").pk,
            "title": "民主党派座谈会",
            "starts_at_0": "2026-10-12",
            "starts_at_1": "14:00",
            "area": areas["140106001"].pk,
            "participants": [member.pk],
            "other_attendees": "5",
            "people_served": "0",
            "funds": "300",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get()
    assert list(activity.participants.all()) == [member]
    assert activity.created_by == admin_user
    assert activity.changes.get().action == "create"
    # Deleting would bypass the service and its history: the admin does not offer it.
    delete = reverse("admin:activities_activity_delete", args=[activity.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_admin_lists_only_activities_in_scope(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:activities_activity_changelist")).status_code == 200
    assert client.get(reverse("admin:activities_activitytype_changelist")).status_code == 200


def test_visits_and_needs_are_shown_read_only_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    for name in ("visit", "need"):
        assert client.get(reverse(f"admin:activities_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:activities_{name}_add")).status_code == 403
