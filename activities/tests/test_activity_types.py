"""Activity types on their own page: one audit line a write, never deleted, a type out of use
is not offered for new activities and old ones keep it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityType
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_type_is_added_and_changed_with_one_audit_line_each(admin_user):
    kind = services.activity_type_create(
        actor=admin_user, data={"code": "tea", "name": "茶话会", "serves_people": True}
    )
    services.activity_type_update(actor=admin_user, activity_type=kind, data={"sort_order": 3})
    lines = AuditEvent.objects.filter(object_type="activities.activitytype").order_by("id")
    assert [line.action for line in lines] == ["create", "update"]
    assert lines[1].detail == {"changed": {"sort_order": 3}}


def test_only_administrators_write_types_and_a_name_is_unique(community_user, admin_user):
    with pytest.raises(PermissionDenied):
        services.activity_type_create(actor=community_user, data={"code": "x", "name": "某"})
    with pytest.raises(ValidationError):
        services.activity_type_create(
            actor=admin_user, data={"code": "again", "name": "座谈会/协商议事"}
        )


def test_a_type_out_of_use_is_not_offered_but_old_activities_keep_it(
    client, community_user, admin_user, areas
):
    kind = ActivityType.objects.get(code="training")
    activity = services.activity_create(
        actor=community_user,
        data={"type": kind, "title": "学习会", "starts_at": timezone.now(),
              "area": areas["140106001001"]},
    )  # fmt: skip
    client.force_login(admin_user)
    client.post(reverse("activities:type_toggle", args=[kind.pk]))
    kind.refresh_from_db()
    assert not kind.is_active
    client.force_login(community_user)
    page = client.get(reverse("activities:create")).content.decode()
    assert f'value="{kind.pk}"' not in page
    page = client.get(reverse("activities:update", args=[activity.pk])).content.decode()
    assert f'value="{kind.pk}" selected' in page
    # The edit form saves with the old type; a new activity may not take it.
    services.activity_update(actor=community_user, activity=activity, data={"title": "读书会"})
    with pytest.raises(ValidationError) as caught:
        services.activity_create(
            actor=community_user,
            data={"type": kind, "title": "新会", "starts_at": timezone.now(),
                  "area": areas["140106001001"]},
        )  # fmt: skip
    assert "已停用" in caught.value.messages[0]
    assert Activity.objects.get(pk=activity.pk).type == kind


def test_the_pages_add_and_edit_a_type(client, admin_user, community_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("activities:type_create"),
        {"name": "健步走", "code": "walk", "sort_order": "9", "is_active": "on"},
    )
    assert response.url == reverse("activities:type_list")
    kind = ActivityType.objects.get(code="walk")
    response = client.post(
        reverse("activities:type_update", args=[kind.pk]),
        {"name": "健步行", "code": "walk", "sort_order": "1", "serves_people": "on",
         "is_active": "on"},
    )  # fmt: skip
    kind.refresh_from_db()
    assert (kind.name, kind.sort_order, kind.serves_people) == ("健步行", 1, True)
    page = client.get(reverse("activities:type_list")).content.decode()
    assert "健步行" in page and "停用" in page
    client.force_login(community_user)
    assert client.get(reverse("activities:type_list")).status_code == 403
    assert client.post(reverse("activities:type_toggle", args=[kind.pk])).status_code == 403


def test_the_admin_saves_types_through_the_services_and_never_deletes_one(client, admin_user):
    client.force_login(admin_user)
    kind = ActivityType.objects.get(code="training")
    assert (
        client.get(reverse("admin:activities_activitytype_delete", args=[kind.pk])).status_code
        == 403
    )  # noqa: E501
