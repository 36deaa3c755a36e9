"""The admin shows organisations, memberships and places read-only: they are kept on their
pages through the services, which hold the rules and write the audit line."""

import datetime

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from organisations import services

from .factories import organisation_make, place_make

pytestmark = pytest.mark.django_db

QIAODONG = "140106001001"


def test_the_admin_shows_them_read_only_and_never_a_full_phone(client, areas, admin_user,
                                                                  community_user):  # fmt: skip
    organisation = organisation_make(
        community_user, areas[QIAODONG], name="桥东律师事务所", contact_phone="13912345678"
    )
    membership = services.membership_add(
        actor=community_user, organisation=organisation,
        member=MemberFactory(community=areas[QIAODONG], name="王律师"), role="律师",
        joined_on=datetime.date(2026, 1, 5),
    )  # fmt: skip
    place = place_make(community_user, areas[QIAODONG], manager_phone="13712345678")
    client.force_login(admin_user)
    for name, obj, shown in (
        ("organisation", organisation, "139****5678"),
        ("membership", membership, "王律师"),
        ("place", place, "137****5678"),
    ):
        info = f"admin:organisations_{name}"
        assert client.get(reverse(f"{info}_changelist")).status_code == 200
        assert client.get(reverse(f"{info}_add")).status_code == 403
        page = client.get(reverse(f"{info}_change", args=[obj.pk])).content.decode()
        assert shown in page and "13912345678" not in page and "13712345678" not in page
        # Saving or deleting here would write beside the services: refused.
        assert client.post(reverse(f"{info}_change", args=[obj.pk]), {}).status_code == 403
        delete = reverse(f"{info}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists()
