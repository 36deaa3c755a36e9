"""A community merged into another during an open period: the community taking it over is
measured against both communities' members at the opening; the merged one leaves the
standings and its recorded targets stay. A finalized period stays as recorded."""

import pytest

from assessment import services
from assessment.models import Target
from assessment.standings import standings
from tongzhan.services import area_merge

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
