"""Areas written by `area_create` / `area_update` (the admin, a superuser's, saves through them):
where an administrator may put an area, and why an area with anything below it keeps its place."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import _user
from members.tests.factories import MemberFactory
from tests.admin_forms import admin_form_data
from tongzhan.models import Area, AuditEvent, User
from tongzhan.services import area_create, area_errors, area_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_admin(areas):
    """An administrator whose account is limited to 柳巷街道."""
    return _user("kate", User.Role.ADMIN, areas["140106001"])


def _post_change(client, area, **changes):
    url = reverse("admin:tongzhan_area_change", args=[area.pk])
    return client.post(url, admin_form_data(client.get(url), **changes))


def test_an_administrator_limited_to_a_street_cannot_move_its_community_into_another_district(
    client, areas, street_admin, neighbour_member, other_district_user
):
    """The area admin's parent field took any area: an administrator of 柳巷街道 moved
    五一二社区 under 小店区's 坞城街道 (and could create areas there), handing its members'
    records to another district. The rule is the service's, whichever page calls it."""
    community = areas["140106001002"]
    with pytest.raises(ValidationError) as refused:
        area_update(
            actor=street_admin,
            area=community,
            data={"parent": areas["140105001"], "code": "140105001002"},
        )
    assert "parent" in refused.value.error_dict
    with pytest.raises(ValidationError):
        area_create(
            actor=street_admin,
            data={"code": "140105001077", "name": "新社区", "level": "community",
                  "parent": areas["140105001"]},
        )  # fmt: skip
    community.refresh_from_db()
    assert community.parent == areas["140106001"] and community.code == "140106001002"
    assert not Area.objects.filter(code="140105001077").exists()
    client.force_login(other_district_user)
    assert client.get(reverse("members:detail", args=[neighbour_member.pk])).status_code == 404


def test_a_street_administrator_cannot_recode_its_street_away_from_its_officers_view(
    client, areas, street_admin, street_user, member
):
    """The admin changed an area's code without its children's: after 柳巷街道 was recoded,
    its communities no longer extended its code and its street officer (and its
    administrator) saw none of their members. A limited administrator could do this to its
    own area."""
    street = areas["140106001"]
    with pytest.raises(ValidationError, match="所在区域"):
        area_update(actor=street_admin, area=street, data={"code": "140106009"})
    client.force_login(street_user)
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 200


def test_the_parents_a_street_administrator_may_choose_are_the_areas_it_manages(
    areas, street_admin
):
    """Any picker of a parent area starts from `Area.objects.visible_to`; the service refuses
    a parent outside it whatever a form offers."""
    offered = set(Area.objects.visible_to(street_admin).values_list("code", flat=True))
    assert "140106001" in offered and "140106001002" in offered
    assert not offered & {"140106", "140106002", "140105001"}
    for code in ("140106", "140106002", "140105001"):
        parent = areas[code]
        level = "street" if parent.level == "district" else "community"
        errors = area_errors(
            actor=street_admin, area=None, code=parent.code + "077", level=level, parent=parent
        )
        assert "parent" in errors, code


def test_a_street_administrator_adds_and_renames_communities_of_its_street(areas, street_admin):
    new = area_create(
        actor=street_admin,
        data={"code": "140106001003", "name": "新建社区", "level": "community",
              "parent": areas["140106001"]},
    )  # fmt: skip
    line = AuditEvent.objects.get(object_type="tongzhan.area", object_id=str(new.pk))
    assert line.action == "create" and line.detail["parent"] == "140106001"
    # Its own street: the name may change, its place may not.
    area_update(actor=street_admin, area=areas["140106001"], data={"name": "柳巷街道办"})
    assert Area.objects.get(code="140106001").name == "柳巷街道办"
    with pytest.raises(ValidationError):
        area_update(actor=street_admin, area=areas["140106001"], data={"level": "community"})


def test_an_area_with_anything_below_it_keeps_its_code_and_parent_with_a_reason(
    client, areas, admin_user
):
    client.force_login(admin_user)
    refused = _post_change(client, areas["140106001"], code="140106009")
    assert refused.status_code == 200
    message = " ".join(refused.context["adminform"].form.errors["code"])
    assert "柳巷街道" in message and "下级区域" in message
    assert Area.objects.filter(code="140106001").exists()
    MemberFactory(community=areas["140106002001"])
    refused = _post_change(
        client, areas["140106002001"], parent=areas["140106001"].pk, code="140106001009"
    )
    assert refused.status_code == 200
    assert "统战对象" in str(refused.context["adminform"].form.errors)
    assert Area.objects.get(pk=areas["140106002001"].pk).code == "140106002001"


def test_an_area_nothing_points_at_moves_and_is_recoded_in_one_audit_line(areas, admin_user):
    community = area_create(
        actor=admin_user,
        data={"code": "140106002007", "name": "错建社区", "level": "community",
              "parent": areas["140106002"]},
    )  # fmt: skip
    area_update(
        actor=admin_user,
        area=community,
        data={"code": "140106001007", "parent": areas["140106001"]},
    )
    community.refresh_from_db()
    assert community.code == "140106001007" and community.parent == areas["140106001"]
    line = AuditEvent.objects.filter(object_id=str(community.pk)).latest("pk")
    assert line.detail["changed"] == {"code": "140106001007", "parent": "140106001"}


def test_the_services_hold_the_rules_without_the_admin(areas, street_admin):
    street = areas["140106001"]
    with pytest.raises(ValidationError, match="所在区域"):  # its own street's place
        area_update(actor=street_admin, area=street, data={"code": "140106009"})
    with pytest.raises(ValidationError):  # a parent outside its street
        area_create(
            actor=street_admin,
            data={"code": "140105001077", "name": "新社区", "level": "community",
                  "parent": areas["140105001"]},
        )  # fmt: skip
    with pytest.raises(ValidationError):  # an area outside its street
        area_update(actor=street_admin, area=areas["140106002001"], data={"name": "改名"})
    with pytest.raises(ValidationError):  # a code not extending its parent's
        area_create(
            actor=street_admin,
            data={"code": "140106002077", "name": "新社区", "level": "community",
                  "parent": street},
        )  # fmt: skip
    assert not Area.objects.filter(name__in=["新社区", "改名"]).exists()
