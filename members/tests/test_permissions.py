"""The permission matrix: every role × every member page and action × a member inside and
outside the user's area. Out of scope is 404, in scope but not allowed is 403."""

import pytest
from django.urls import reverse

from members.models import Member

from .helpers import member_form_data

pytestmark = pytest.mark.django_db

ROLES = ["community_user", "street_user", "district_user", "admin_user"]

# (action, method) → expected status per role, for the member inside the area.
INSIDE = {
    ("detail", "get"): {
        "community_user": 200,
        "street_user": 200,
        "district_user": 200,
        "admin_user": 200,
    },
    ("reveal", "post"): {
        "community_user": 200,
        "street_user": 403,
        "district_user": 200,
        "admin_user": 200,
    },
    ("update", "get"): {
        "community_user": 200,
        "street_user": 403,
        "district_user": 200,
        "admin_user": 200,
    },
    ("update", "post"): {
        "community_user": 302,
        "street_user": 403,
        "district_user": 302,
        "admin_user": 302,
    },
    ("status", "get"): {
        "community_user": 200,
        "street_user": 403,
        "district_user": 200,
        "admin_user": 200,
    },
    ("status", "post"): {
        "community_user": 302,
        "street_user": 403,
        "district_user": 302,
        "admin_user": 302,
    },
    ("transfer", "get"): {
        "community_user": 200,
        "street_user": 403,
        "district_user": 200,
        "admin_user": 200,
    },
    ("transfer", "post"): {
        "community_user": 302,
        "street_user": 403,
        "district_user": 302,
        "admin_user": 302,
    },
}
# The member outside: the neighbouring community for a community worker, another district
# for the officers. Administrators have no outside.
OUTSIDE = {
    "community_user": "neighbour_member",
    "street_user": "far_member",
    "district_user": "far_member",
}

URL_NAMES = {"detail": "members:detail", "reveal": "members:detail", "update": "members:update",
             "status": "members:status", "transfer": "members:transfer"}  # fmt: skip


def _post_data(action, member, areas):
    if action == "update":
        return member_form_data(member, workplace="新单位")
    if action == "status":
        return {"status": "moved_out", "date": "2026-01-05", "reason": "随子女迁居外地"}
    if action == "transfer":
        return {"to_community": areas["140106001002"].pk if member.community.code != "140106001002"
                else areas["140106001001"].pk, "reason": "搬家"}  # fmt: skip
    return {}


def _request(client, action, method, member, areas):
    url = reverse(URL_NAMES[action], args=[member.pk])
    if method == "get":
        return client.get(url)
    return client.post(url, _post_data(action, member, areas))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "method"), list(INSIDE))
def test_member_inside_the_area(request, client, areas, member, role, action, method):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = _request(client, action, method, member, areas)
    assert response.status_code == INSIDE[(action, method)][role], response.content[:300]


@pytest.mark.parametrize("role", list(OUTSIDE))
@pytest.mark.parametrize(("action", "method"), list(INSIDE))
def test_member_outside_the_area_is_not_found(request, client, areas, role, action, method):
    user = request.getfixturevalue(role)
    outsider = request.getfixturevalue(OUTSIDE[role])
    client.force_login(user)
    before = Member.objects.get(pk=outsider.pk)
    response = _request(client, action, method, outsider, areas)
    assert response.status_code == 404
    after = Member.objects.get(pk=outsider.pk)
    assert (after.status, after.community_id, after.workplace) == (
        before.status,
        before.community_id,
        before.workplace,
    )


@pytest.mark.parametrize("role", ["neighbour_user", "other_street_user", "other_district_user"])
def test_officers_of_other_areas_cannot_reach_the_member(request, client, member, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    [("community_user", 200), ("street_user", 403), ("district_user", 200), ("admin_user", 200)],
)
def test_create_page(request, client, role, expected):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("members:create")).status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_list_page_is_open_to_every_role(request, client, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse("members:list")).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["members:list", "members:create", "home"],
)
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    response = client.get(reverse(url))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("action", ["detail", "update", "status", "transfer"])
def test_anonymous_users_never_reach_a_member(client, member, action):
    response = client.get(reverse(URL_NAMES[action], args=[member.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_community_worker_cannot_create_in_the_neighbouring_community(
    client, areas, community_user
):
    client.force_login(community_user)
    from .factories import id_number_for

    data = member_form_data(None, community=areas["140106001002"].pk, id_number=id_number_for())
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 200
    assert "community" in response.context["form"].errors
    assert not Member.objects.exists()
