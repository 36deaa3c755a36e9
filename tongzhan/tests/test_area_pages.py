"""The area tree's own pages: within the administrator's area (else 404), adding an area
below one, renaming, and a place that stays where something hangs on the area."""

import pytest
from django.urls import reverse

from conftest import _user
from tongzhan.models import Area, AuditEvent, User
from tongzhan.services import area_place_fixed

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_admin(areas):
    """An administrator whose account is limited to 柳巷街道."""
    return _user("kate", User.Role.ADMIN, areas["140106001"])


def test_the_tree_lists_the_administrators_areas_in_order_with_their_accounts(
    client, street_admin, community_user, neighbour_user, django_assert_max_num_queries
):
    client.force_login(street_admin)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("area_list"))
    rows = [(area.code, area.depth, area.accounts) for area in page.context["areas"]]
    assert rows == [
        ("140106001", 0, 1),  # kate herself
        ("140106001001", 1, 1),
        ("140106001001001", 2, 0),
        ("140106001002", 1, 1),
    ]
    html = page.content.decode()
    assert "文庙街道" not in html and "小店区" not in html
    assert f"{reverse('area_create')}?parent=" in html


def test_the_tree_is_searched_by_name_or_code(client, admin_user):
    client.force_login(admin_user)
    found = client.get(reverse("area_list"), {"q": "五一二"}).context["areas"]
    assert [area.code for area in found] == ["140106001002"]
    found = client.get(reverse("area_list"), {"q": "140105"}).context["areas"]
    assert [area.code for area in found] == ["140105", "140105001", "140105001001"]


def test_adding_a_community_below_a_street_starts_from_the_street(client, street_admin, areas):
    client.force_login(street_admin)
    street = areas["140106001"]
    form = client.get(reverse("area_create"), {"parent": street.pk}).context["form"]
    assert form.initial == {"parent": street, "level": "community", "code": street.code}
    response = client.post(
        reverse("area_create"),
        {"name": "新建社区", "code": "140106001009", "level": "community", "parent": street.pk},
    )
    assert response.status_code == 302 and "140106001009" in response.url
    area = Area.objects.get(code="140106001009")
    assert area.parent == street
    assert AuditEvent.objects.get(object_type="tongzhan.area").action == "create"


def test_a_street_administrator_cannot_add_or_edit_in_another_street(client, street_admin, areas):
    client.force_login(street_admin)
    other = areas["140106002001"]
    assert client.get(reverse("area_update", args=[other.pk])).status_code == 404
    # Another street's area is not among the parents a post may choose.
    page = client.post(
        reverse("area_create"),
        {"name": "越界社区", "code": "140106002009", "level": "community",
         "parent": areas["140106002"].pk},
    )  # fmt: skip
    assert page.status_code == 200 and "parent" in page.context["form"].errors
    assert not Area.objects.filter(code="140106002009").exists()
    # The parent list offers its own areas only.
    assert (
        client.get(reverse("area_create"), {"parent": areas["140106002"].pk})
        .context["form"]
        .initial
        == {}
    )


def test_a_renamed_area_keeps_its_place_when_something_hangs_on_it(
    client, street_admin, community_user, areas
):
    client.force_login(street_admin)
    community = areas["140106001001"]
    page = client.get(reverse("area_update", args=[community.pk]))
    form = page.context["form"]
    assert form.fields["code"].disabled and "区域" in form.place_fixed
    response = client.post(
        reverse("area_update", args=[community.pk]),
        {"name": "桥东社区", "code": "140106001077", "level": "community",
         "parent": areas["140106001"].pk},
    )  # fmt: skip
    assert response.status_code == 302
    community.refresh_from_db()
    assert (community.name, community.code) == ("桥东社区", "140106001001")


def test_an_empty_area_may_change_its_code_and_its_own_area_may_not(street_admin, areas):
    empty = Area.objects.create(
        code="140106001005", name="空社区", level="community", parent=areas["140106001"]
    )
    assert area_place_fixed(actor=street_admin, area=empty) == ""
    assert "上级" in area_place_fixed(actor=street_admin, area=areas["140106001"])


def test_the_service_refusal_shows_beside_the_field(client, admin_user, areas):
    client.force_login(admin_user)
    page = client.post(
        reverse("area_create"),
        {"name": "错码社区", "code": "140105001009", "level": "community",
         "parent": areas["140106001"].pk},
    )  # fmt: skip
    assert "code" in page.context["form"].errors


def test_roles_without_the_area_permissions_get_403(client, district_user, areas):
    client.force_login(district_user)
    assert client.get(reverse("area_list")).status_code == 403
    assert client.get(reverse("area_update", args=[areas["140106"].pk])).status_code == 403
    assert client.get(reverse("area_create")).status_code == 403
