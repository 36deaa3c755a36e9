"""A community merged into another, or split, during an open period: the community taking it over is
measured against both communities' members at the opening; the merged one leaves the
standings and its recorded targets stay. A finalized period stays as recorded."""

import pytest

from assessment import services
from assessment.models import Target
from assessment.standings import standings
from members.models import Member
from tongzhan.services import area_merge, area_split

from .conftest import populate

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER = "140106001001", "140106001002"


def test_an_open_periods_targets_follow_the_merge(
    areas, period, indicators, district_user, admin_user
):
    populate(areas[QIAODONG], 3)  # tier from 3: 2
    populate(areas[WUYIER], 3)
    services.period_open(actor=district_user, period=period)
    activities = indicators["activities"]
    before = Target.objects.get(indicator=activities, community=areas[WUYIER])
    assert (before.members, before.value) == (3, 2)

    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])

    after = Target.objects.get(indicator=activities, community=areas[WUYIER])
    assert (after.members, after.value) == (6, services.target_for(activities, 6))
    # The merged community's targets stay as recorded; it is no longer ranked.
    assert Target.objects.filter(community=areas[QIAODONG]).exists()
    ranked = [row.community.code for row in standings(period)]
    assert QIAODONG not in ranked and WUYIER in ranked


def test_an_open_periods_targets_are_divided_by_a_split(
    areas, period, indicators, district_user, admin_user
):
    """The community split off is measured against the members it took, the one it left
    against its members at the opening less them; both are ranked."""
    populate(areas[QIAODONG], 6)  # tier from 6: 4
    services.period_open(actor=district_user, period=period)
    activities = indicators["activities"]
    members = list(Member.objects.filter(community=areas[QIAODONG]).order_by("pk"))
    Member.objects.filter(pk__in=[m.pk for m in members[:3]]).update(address="康宁小区1号楼")

    new = area_split(
        actor=admin_user, source=areas[QIAODONG], code="140106001009", name="桥东三社区",
        words=["康宁小区"],
    )  # fmt: skip

    kept = Target.objects.get(indicator=activities, community=areas[QIAODONG])
    took = Target.objects.get(indicator=activities, community=new)
    assert (kept.members, kept.value) == (3, 2)
    assert (took.members, took.value) == (3, 2)
    ranked = [row.community.code for row in standings(period)]
    assert QIAODONG in ranked and "140106001009" in ranked
