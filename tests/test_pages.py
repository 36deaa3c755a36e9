"""The login page is Chinese, each demo account logs in to its home page, and a disabled
account is told so once its password is right."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from conftest import PASSWORD
from tongzhan.models import AuditEvent
from tongzhan.services import user_update

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "Tz-demo-2026"


def test_login_page_is_chinese_even_for_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "登录" in html and "统战信息库" in html
    assert "Log in" not in html


def test_english_is_available_when_chosen(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_each_demo_account_logs_in(client):
    call_command("seed_demo", members=40, stdout=open("/dev/null", "w"))  # noqa: SIM115
    for username in ("shequ", "jiedao", "quwei", "admin"):
        response = client.post(
            reverse("login"), {"username": username, "password": DEMO_PASSWORD}, follow=True
        )
        assert response.status_code == 200, username
        assert response.context["user"].username == username
        assert "统战对象" in response.content.decode()
        client.post(reverse("logout"))


def test_a_wrong_password_is_refused_in_chinese(client, community_user):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong-password"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


DISABLED = "此账号已停用，请联系系统管理员。"


@pytest.fixture
def disabled_user(community_user, admin_user):
    return user_update(
        actor=admin_user,
        user=community_user,
        role=community_user.role,
        area=community_user.area,
        fields={"is_active": False},
    )


def log_in(client, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": "alice", "password": password}, REMOTE_ADDR=address
    )


def test_a_disabled_account_is_told_so_after_the_right_password(client, disabled_user):
    response = log_in(client, PASSWORD)
    html = response.content.decode()
    assert response.status_code == 200
    assert DISABLED in html
    assert "请输入一个正确的" not in html
    assert "_auth_user_id" not in client.session
    refused = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, username="alice")
    assert refused.get().outcome == AuditEvent.Outcome.REFUSED
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN).exists()


def test_a_disabled_account_with_a_wrong_password_is_told_only_that_the_login_failed(
    client, disabled_user
):
    html = log_in(client, "wrong-password-1").content.decode()
    assert "请输入一个正确的" in html
    assert "停用" not in html
    unknown = client.post(
        reverse("login"), {"username": "nobody-here", "password": PASSWORD}
    ).content.decode()
    assert "请输入一个正确的" in unknown and "停用" not in unknown


def test_a_locked_out_disabled_account_is_not_told_it_is_disabled(client, disabled_user):
    for number in range(5):
        log_in(client, "wrong-password-1", address=f"10.0.1.{number}")
    response = log_in(client, PASSWORD, address="10.9.9.9")
    assert response.status_code == 429
    assert "停用" not in response.content.decode()


@pytest.mark.parametrize(
    ("address", "current"),
    [
        ("/members/", "统战对象"),
        ("/activities/", "活动"),
        ("/activities/month/", "活动"),
        ("/activities/visits/", "走访"),
        ("/activities/members/not-contacted/", "走访"),
        ("/activities/needs/", "诉求"),
        ("/", "首页"),
        ("/reports/", "报表"),
    ],
)
def test_the_menu_marks_the_section_of_the_page(client, community_user, address, current):
    client.force_login(community_user)
    html = client.get(address).content.decode()
    marked = re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', html)
    assert marked == [current]


def filters_of(html):
    """The search box shown on its own (or None), and the folded filters' opening tag and
    the field names inside them."""
    search = re.search(r'<div class="search-bar" role="search">(.*?)</div>', html, re.S)
    details = re.search(r'(<details class="filters card"[^>]*>)(.*?)</details>', html, re.S)
    inside = set(re.findall(r'<(?:input|select)[^>]*name="([^"]+)"', details.group(2)))
    return (search.group(1) if search else None), details.group(1), inside


def test_the_member_search_box_stands_above_the_folded_filters(client, community_user, member):
    client.force_login(community_user)
    search, opening, inside = filters_of(client.get("/members/").content.decode())
    assert 'name="q"' in search and "搜索" in search
    assert opening == '<details class="filters card">' and "q" not in inside
    assert {"category", "sex", "status"} <= inside

    # A search alone leaves the filters folded; a filter opens them, and keeps the search.
    search, opening, _inside = filters_of(client.get("/members/?q=张三").content.decode())
    assert 'value="张三"' in search and opening == '<details class="filters card">'
    html = client.get("/members/?q=张三&sex=F").content.decode()
    search, opening, _inside = filters_of(html)
    assert 'value="张三"' in search and opening == '<details class="filters card" open>'


@pytest.mark.parametrize(
    ("address", "fields"),
    [
        ("/activities/", {"q", "type"}),
        ("/activities/needs/", {"since"}),
        ("/activities/members/not-contacted/", {"months"}),
    ],
)
def test_the_other_lists_keep_every_filter_in_their_folded_form(
    client, district_user, address, fields
):
    client.force_login(district_user)
    response = client.get(address)
    assert response.status_code == 200
    search, opening, inside = filters_of(response.content.decode())
    assert search is None and opening == '<details class="filters card">'
    assert fields <= inside
