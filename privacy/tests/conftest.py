"""Members who left the registry at chosen days, for the retention tests."""

import datetime

import pytest
from django.utils import timezone

from members import services as member_services
from members.tests.factories import MemberFactory


def years_ago(years: int, days: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - datetime.timedelta(days=days)


def leaver(community, *, status="moved_out", left=None, actor=None, **fields):
    """A member of `community` who left on `left` (default: four years ago)."""
    member = MemberFactory(community=community, **fields)
    return member_services.member_set_status(
        actor=actor,
        member=member,
        status=status,
        date=left or years_ago(4),
        reason="迁往外地",
    )


@pytest.fixture
def leavers(areas):
    """Who is due today and who is not, in 迎泽区 and in 小店区."""
    qiaodong, wuyi = areas["140106001001"], areas["140106001002"]
    return {
        # Past their periods: 3 years for moving out and withdrawing, 1 for dying.
        "moved_out": leaver(qiaodong, left=years_ago(3, days=1)),
        "deceased": leaver(wuyi, status="deceased", left=years_ago(1, days=1)),
        "withdrawn": leaver(qiaodong, status="withdrawn", left=years_ago(5)),
        # Not yet.
        "recent": leaver(qiaodong, left=years_ago(2)),
        "recently_deceased": leaver(wuyi, status="deceased", left=years_ago(0, days=200)),
        "active": MemberFactory(community=qiaodong),
        # Another district's.
        "far": leaver(areas["140105001001"], left=years_ago(6)),
    }
