"""The admin shows resources, community needs, matches and projects read-only: the services
behind their pages hold the rules (capacity, a need met by its quantity, a project one stage
at a time) and write the audit line."""

import datetime

import pytest
from django.urls import reverse

from members.tests.factories import MemberFactory
from resources import services

from .factories import community_need_make, resource_make

pytestmark = pytest.mark.django_db

QIAODONG = "140106001001"


def test_the_admin_shows_them_read_only(client, areas, admin_user, community_user):
    member = MemberFactory(community=areas[QIAODONG], name="陈老板")
    resource = resource_make(community_user, member=member, title="收银员岗位", kind="jobs",
                             service="")  # fmt: skip
    need = community_need_make(community_user, areas[QIAODONG], kind="jobs", service="",
                               description="5个就业岗位", quantity=5)  # fmt: skip
    match = services.match_create(actor=community_user, community_need=need, resource=resource)
    project = services.project_create(
        actor=community_user, intent_on=datetime.date(2026, 3, 2),
        data={"name": "光伏项目", "member": member, "organisation": None,
              "area": areas[QIAODONG]},
    )  # fmt: skip
    client.force_login(admin_user)
    for name, obj, shown in (
        ("resource", resource, "桥东一社区"),  # the areas it serves
        ("communityneed", need, "5个就业岗位"),
        ("match", match, "收银员岗位"),
        ("project", project, "光伏项目"),
        ("projectstep", project.steps.get(), "光伏项目"),
    ):
        info = f"admin:resources_{name}"
        assert client.get(reverse(f"{info}_changelist")).status_code == 200
        assert client.get(reverse(f"{info}_add")).status_code == 403
        assert shown in client.get(reverse(f"{info}_change", args=[obj.pk])).content.decode()
        assert client.post(reverse(f"{info}_change", args=[obj.pk]), {}).status_code == 403
        delete = reverse(f"{info}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists()
