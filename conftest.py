"""Shared fixtures: a small area tree and the fixed cast of users every scope test uses.

The cast (after healthchecks' alice/bob/charlie): a community worker in 桥东一社区, one in the
neighbouring 五一二社区, the street officer of 柳巷街道 above both, a district officer of
迎泽区, and an administrator; plus a street officer of another street and a district officer
of another district, who must see nothing of the first.
"""

import pytest

from members.tests.factories import MemberFactory
from tongzhan.models import Area, User
from tongzhan.services import user_create

PASSWORD = "Zx-9-test-password"

AREAS = [
    ("140106", "迎泽区", None, "district"),
    ("140106001", "柳巷街道", "140106", "street"),
    ("140106001001", "桥东一社区", "140106001", "community"),
    ("140106001001001", "桥东一社区第一网格", "140106001001", "grid"),
    ("140106001002", "五一二社区", "140106001", "community"),
    ("140106002", "文庙街道", "140106", "street"),
    ("140106002001", "府东一社区", "140106002", "community"),
    ("140105", "小店区", None, "district"),
    ("140105001", "坞城街道", "140105", "street"),
    ("140105001001", "坞城社区", "140105001", "community"),
]


@pytest.fixture
def areas(db):
    created = {}
    for code, name, parent, level in AREAS:
        created[code] = Area.objects.create(
            code=code, name=name, level=level, parent=created.get(parent)
        )
    return created


def _user(username, role, area, **fields):
    return user_create(
        actor=None, username=username, password=PASSWORD, role=role, area=area, **fields
    )


@pytest.fixture
def community_user(areas):
    return _user(
        "alice", User.Role.COMMUNITY, areas["140106001001"], last_name="王", first_name="丽"
    )


@pytest.fixture
def neighbour_user(areas):
    return _user("bob", User.Role.COMMUNITY, areas["140106001002"])


@pytest.fixture
def street_user(areas):
    return _user("charlie", User.Role.STREET, areas["140106001"])


@pytest.fixture
def other_street_user(areas):
    return _user("dora", User.Role.STREET, areas["140106002"])


@pytest.fixture
def district_user(areas):
    return _user("erin", User.Role.DISTRICT, areas["140106"])


@pytest.fixture
def other_district_user(areas):
    return _user("frank", User.Role.DISTRICT, areas["140105"])


@pytest.fixture
def admin_user(areas):
    return _user("grace", User.Role.ADMIN, None, is_superuser=True)


@pytest.fixture
def member(areas):
    """A member of 桥东一社区, the community worker's own community."""
    return MemberFactory(name="张三", community=areas["140106001001"])


@pytest.fixture
def neighbour_member(areas):
    """A member of 五一二社区: same street, another community."""
    return MemberFactory(name="李四", community=areas["140106001002"])


@pytest.fixture
def far_member(areas):
    """A member of 坞城社区 in another district."""
    return MemberFactory(name="赵六", community=areas["140105001001"])
