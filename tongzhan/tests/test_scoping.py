"""One vocabulary for "this area and below" (`tongzhan.scoping`), and no other spelling of it."""

import pathlib
import re

import pytest

from members.models import Member
from members.tests.factories import MemberFactory
from tongzhan.models import Area
from tongzhan.scoping import code_within, enclosing_areas, within_area

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = [
    "assessment",
    "activities",
    "commendations",
    "dashboards",
    "followup",
    "liaison",
    "members",
    "organisations",
    "privacy",
    "resources",
    "tongzhan",
]
# An area code compared by prefix anywhere but in the kernel's one definition.
INLINE = re.compile(r"code__startswith|code\.startswith\(|code\[:\d+\]\.startswith")


def test_an_area_is_within_itself_and_its_ancestors_only(areas):
    community = areas["140106001001"]
    assert community.is_within(community)
    assert community.is_within(areas["140106001"])
    assert community.is_within(areas["140106"])
    assert not community.is_within(areas["140106002"])
    assert not areas["140106001"].is_within(community)
    assert not community.is_within(areas["140105"])


def test_querysets_and_records_use_the_same_rule(areas):
    street = areas["140106001"]
    assert set(Area.objects.within(street).values_list("code", flat=True)) == {
        area.code for area in Area.objects.all() if area.is_within(street)
    }
    inside = MemberFactory(community=areas["140106001002"])
    MemberFactory(community=areas["140106002001"])
    assert list(Member.objects.filter(within_area(street, "community"))) == [inside]
    assert list(Member.objects.filter(within_area(street.code, "community"))) == [inside]


def test_the_areas_above_are_its_parents_nearest_first(areas, django_assert_num_queries):
    grid = areas["140106001001001"]
    assert [area.code for area in enclosing_areas(grid)] == ["140106001001", "140106001", "140106"]
    assert enclosing_areas(areas["140106"]) == []
    # Loaded with its parents, the community asks the database nothing more.
    community = Area.objects.select_related("parent__parent").get(code="140106001001")
    with django_assert_num_queries(0):
        assert [area.level for area in enclosing_areas(community)] == ["street", "district"]


@pytest.mark.parametrize("app", APPS)
def test_no_app_spells_the_prefix_check_itself(app):
    """Every "this area and below" goes through `tongzhan.scoping`: a second spelling is how
    one rule drifts into two."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and path.name != "scoping.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INLINE.search(line)
    ]
    assert found == []
    assert code_within("140106001", "140106")
