"""The dashboard's count of people not yet told what is kept about them and why (告知, PIPL
arts. 17 and 35), per community, from the stored tallies, linking to the filtered list."""

import pytest
from django.urls import reverse

from dashboards.tallies import tallies_check
from members import services
from members.models import MemberTally
from members.tests.test_services import new_member_data

pytestmark = pytest.mark.django_db


def not_told(**fields) -> dict:
    return {"informed_how": "", "informed_on": None, **fields}


def test_the_dashboard_counts_people_not_yet_told_per_community(
    client, areas, street_user, member, neighbour_member
):
    for name, community in (("甲", "140106001001"), ("乙", "140106001002"), ("丙", "140106001002")):
        services.member_create(
            actor=None,
            data=new_member_data(
                areas[community], name=name, **not_told(not_informed_reason="外出")
            ),
        )
    client.force_login(street_user)
    response = client.get(reverse("home"))
    summary = {row.label: row for row in response.context["dashboard"].summary}
    card = summary["尚未告知的人员"]
    assert card.count == 3
    assert card.url == reverse("members:list") + "?not_informed=true"
    by_area = {row.label: row.extra for row in response.context["dashboard"].by_area}
    assert by_area["桥东一社区"]["not_informed"] == 1
    assert by_area["五一二社区"]["not_informed"] == 2
    listed = client.get(by_area["五一二社区"]["not_informed_url"])
    assert [m.name for m in listed.context["page_obj"]] == ["丙", "乙"]
    page = response.content.decode()
    assert by_area["五一二社区"]["not_informed_url"].replace("&", "&amp;") in page


def test_the_nightly_check_counts_people_not_yet_told_as_the_writes_do(areas, member):
    community = areas["140106001001"]
    services.member_create(
        actor=None, data=new_member_data(community, **not_told(not_informed_reason="外出"))
    )
    assert tallies_check() == []
    key = (community.pk, MemberTally.Dimension.NOT_INFORMED, "")
    MemberTally.objects.filter(community=community, dimension=key[1]).delete()
    assert [(d.key, d.stored, d.counted) for d in tallies_check()] == [(key, 0, 1)]
    assert MemberTally.objects.get(community=community, dimension=key[1]).count == 1
