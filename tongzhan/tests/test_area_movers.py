"""The kernel's helper for an app's `AreaMover`: records of a merged area pointed at the one
that took it over, names kept one per area, one audit line. Shown on organisations, which
are named once per area; each app's own merge tests cover its movers."""

import pytest

from organisations.models import Organisation
from organisations.tests.factories import organisation_make
from tongzhan.models import AuditEvent
from tongzhan.services import area_records_repoint

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER = "140106001001", "140106001002"


def test_a_name_the_target_has_gets_the_old_areas_name_cut_to_fit(
    areas, community_user, neighbour_user, admin_user
):
    long_name = "老" * 100
    clashing = organisation_make(community_user, areas[QIAODONG], name=long_name)
    organisation_make(neighbour_user, areas[WUYIER], name=long_name)
    own = organisation_make(community_user, areas[QIAODONG], name="书画社")
    moved = area_records_repoint(
        actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER],
        records={"organisations": Organisation}, distinct_names=True,
    )  # fmt: skip
    assert moved == {"organisations": 2}
    clashing.refresh_from_db()
    own.refresh_from_db()
    assert clashing.name == "老" * 93 + "（桥东一社区）" and len(clashing.name) == 100
    assert own.name == "书画社"
    [line] = AuditEvent.objects.filter(
        object_type="tongzhan.area", object_id=str(areas[QIAODONG].pk)
    )
    assert line.detail == {
        "change": "merge", "organisations": 2, "renamed": [clashing.pk], "to": WUYIER,
    }  # fmt: skip


def test_nothing_to_move_writes_no_audit_line(areas, admin_user):
    moved = area_records_repoint(
        actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER],
        records={"organisations": Organisation}, distinct_names=True,
    )  # fmt: skip
    assert moved == {"organisations": 0}
    assert not AuditEvent.objects.filter(
        object_type="tongzhan.area", object_id=str(areas[QIAODONG].pk)
    ).exists()
