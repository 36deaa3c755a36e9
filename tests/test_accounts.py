"""Accounts: locking out failed logins per username and per address."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from conftest import PASSWORD
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db


WRONG = "wrong-password-1"  # noqa: S105


def attempt(client, username, password=WRONG, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_five_failures_lock_the_account_for_thirty_minutes_in_chinese(
    client, community_user, settings
):
    for number in range(5):
        response = attempt(client, "alice", address=f"10.0.1.{number}")
        assert response.status_code in (200, 429)
    locked = attempt(client, "alice", PASSWORD, address="10.9.9.9")  # the right password
    page = locked.content.decode()
    assert locked.status_code == 429
    assert "登录失败次数过多" in page and "30 分钟" in page
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login_failed", username="alice").count() >= 5
    # Once the cool-off has passed, the right password works again.
    for row in AccessAttempt.objects.all():
        row.attempt_time -= datetime.timedelta(minutes=31)
        row.save()
    response = attempt(client, "alice", PASSWORD, address="10.9.9.9")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(community_user.pk)


def test_one_address_cannot_lock_every_account(client, community_user, neighbour_user, areas):
    from conftest import _user
    from tongzhan.models import User

    others = [_user(f"user{n}", User.Role.COMMUNITY, areas["140106001001"]) for n in range(6)]
    for user in others[:5]:  # one failure each for five accounts, from one address
        attempt(client, user.username, address="10.6.6.6")
    # The address is locked now, whatever it tries ...
    assert attempt(client, others[5].username, PASSWORD, address="10.6.6.6").status_code == 429
    assert attempt(client, "alice", PASSWORD, address="10.6.6.6").status_code == 429
    # ... but none of those accounts is: their owners log in from their own computers.
    assert attempt(client, others[0].username, PASSWORD, address="10.1.2.3").status_code == 302


def test_a_failed_login_says_nothing_about_whether_the_account_exists(client, community_user):
    unknown = attempt(client, "nobody-here").content.decode()
    known = attempt(client, "alice").content.decode()
    assert "请输入一个正确的" in unknown and "请输入一个正确的" in known
