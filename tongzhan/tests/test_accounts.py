"""Accounts: a role is a group, its area must fit the role, logins are audited."""

import pytest
from django.urls import reverse

from tongzhan.models import AuditEvent, User

pytestmark = pytest.mark.django_db


def test_the_role_group_carries_the_permissions(community_user, street_user):
    assert [g.name for g in community_user.groups.all()] == ["社区统战委员"]
    assert community_user.has_perm("members.change_member")
    assert not street_user.has_perm("members.change_member")
    assert street_user.has_perm("members.view_member")


def test_adjusting_a_group_changes_what_the_role_may_do(street_user):
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name="街道统战干部").permissions.add(
        Permission.objects.get(codename="change_member")
    )
    street_user = User.objects.get(pk=street_user.pk)
    assert street_user.has_perm("members.change_member")


def test_admin_creates_an_account_with_role_and_area(client, admin_user, areas):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tongzhan_user_add"),
        {
            "username": "newworker",
            "last_name": "陈",
            "first_name": "静",
            "role": "community",
            "area": areas["140106001002"].pk,
            "password1": "Qw-7-new-password",
            "password2": "Qw-7-new-password",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="newworker")
    assert [g.name for g in user.groups.all()] == ["社区统战委员"]
    assert user.has_perm("members.add_member")


def test_an_area_that_does_not_fit_the_role_is_refused(client, admin_user, areas):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:tongzhan_user_add"),
        {
            "username": "wrongarea",
            "role": "community",
            "area": areas["140106001"].pk,
            "password1": "Qw-7-new-password",
            "password2": "Qw-7-new-password",
        },
    )
    assert response.status_code == 200
    assert "area" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="wrongarea").exists()


def test_logins_failures_and_logouts_are_audited(client, community_user):
    client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice", "password": "Zx-9-test-password"})
    client.post(reverse("logout"))
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "username"))
    assert actions == [("login_failed", "alice"), ("login", "alice"), ("logout", "alice")]
