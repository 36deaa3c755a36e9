"""The account pages of 系统管理 (/manage/accounts/): an administrator creates, edits, resets
and disables the accounts of their own area, in the application's look; the Django admin is
for superusers only."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD, _user
from tongzhan.models import AuditEvent, User
from tongzhan.services import user_set_active, user_update

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Initial-Pass-2026"  # noqa: S105


@pytest.fixture
def street_admin(areas):
    """An administrator whose account is limited to 柳巷街道."""
    return _user("kate", User.Role.ADMIN, areas["140106001"], last_name="柯", first_name="特")


@pytest.fixture
def cast(community_user, neighbour_user, street_user, other_street_user, district_user,
         other_district_user, admin_user):  # fmt: skip
    return _user("ivan", User.Role.AUDITOR, None)


def _lines(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="tongzhan.user", object_id=str(user.pk)))


def _usernames(page) -> set[str]:
    return {account.username for account in page.context["accounts"]}


# -- The hub and the menu ----------------------------------------------------------------------


def test_the_hub_and_its_menu_link_are_for_administrators(
    client, street_admin, community_user, district_user
):
    client.force_login(street_admin)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("manage")}"' in home and "系统管理" in home
    assert reverse("admin:index") not in home  # 后台 is a superuser's
    hub = client.get(reverse("manage")).content.decode()
    assert "<h1>系统管理</h1>" in hub and "暂时没有" not in hub
    for section in ("account_list", "area_list", "activities:type_list"):
        assert f'href="{reverse(section)}"' in hub
    # The district's staff read the evaluation templates: the hub opens with that section only.
    client.force_login(district_user)
    hub = client.get(reverse("manage")).content.decode()
    assert f'href="{reverse("assessment:template_list")}"' in hub
    assert reverse("account_list") not in hub and reverse("area_list") not in hub
    assert "暂时没有" not in hub
    client.force_login(community_user)
    assert "系统管理" not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("manage")).status_code == 403


def test_a_superuser_also_finds_the_django_admin(client, admin_user):
    client.force_login(admin_user)
    home = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("admin:index")}"' in home and f'href="{reverse("manage")}"' in home


# -- The list ----------------------------------------------------------------------------------


def test_the_list_holds_the_accounts_within_the_administrators_area(
    client, street_admin, cast, areas
):
    client.force_login(street_admin)
    page = client.get(reverse("account_list"))
    # 柳巷街道 and its communities; not the other street, the district above, nor anyone
    # without an area.
    assert _usernames(page) == {"alice", "bob", "charlie", "kate"}
    # An unrestricted administrator sees every account but a superuser's and an auditor's.
    boss = _user("boss", User.Role.ADMIN, None)
    client.force_login(boss)
    assert _usernames(client.get(reverse("account_list"))) == {
        "alice", "bob", "charlie", "dora", "erin", "frank", "kate", "boss",
    }  # fmt: skip


def test_the_list_shows_what_an_administrator_needs_to_know(
    client, street_admin, community_user, neighbour_user
):
    TOTPDevice.objects.create(user=community_user, name="手机", confirmed=True)
    user_set_active(actor=None, user=neighbour_user, active=False)
    client.force_login(street_admin)
    html = client.get(reverse("account_list")).content.decode()
    for header in (
        "用户名",
        "姓名",
        "角色",
        "所属区域",
        "状态",
        "最近登录",
        "二次验证",
        "须修改密码",
    ):
        assert f"<th>{header}</th>" in html
    assert "王丽" in html and "社区统战委员" in html and "桥东一社区" in html
    assert "已设置" in html and "未设置" in html and "已停用" in html and "从未登录" in html


def test_search_and_filters_narrow_the_list(client, street_admin, cast, areas):
    client.force_login(street_admin)
    for query, expected in (
        ({"q": "王丽"}, {"alice"}),  # the name as written, family name first
        ({"q": "ALI"}, {"alice"}),
        ({"q": "丽"}, {"alice"}),
        ({"role": "street"}, {"charlie"}),
        ({"area": "140106001002"}, {"bob"}),
        ({"area": "140106001"}, {"alice", "bob", "charlie", "kate"}),
    ):
        assert _usernames(client.get(reverse("account_list"), query)) == expected, query
    user_set_active(actor=None, user=User.objects.get(username="bob"), active=False)
    assert _usernames(client.get(reverse("account_list"), {"active": "false"})) == {"bob"}
    assert "bob" not in _usernames(client.get(reverse("account_list"), {"active": "true"}))
    # An area outside the administrator's is not a choice: the filter says so, nothing leaks.
    page = client.get(reverse("account_list"), {"area": "140106002"})
    assert "area" in page.context["filter"].form.errors and not _usernames(page)


def test_the_list_costs_the_same_few_queries_however_many_accounts(
    client, admin_user, areas, django_assert_max_num_queries
):
    for number in range(30):
        account = _user(f"worker{number}", User.Role.COMMUNITY, areas["140106001001"])
        TOTPDevice.objects.create(user=account, name="手机", confirmed=True)
    client.force_login(admin_user)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("account_list"))
    assert len(page.context["accounts"]) == 31


# -- Creating an account -----------------------------------------------------------------------


def _new(client, **fields):
    data = {"username": "newbie", "last_name": "新", "first_name": "人", "role": "community",
            "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, **fields}  # fmt: skip
    return client.post(reverse("account_create"), data)


def test_an_administrator_creates_a_community_workers_account(client, street_admin, areas):
    client.force_login(street_admin)
    page = client.get(reverse("account_create")).content.decode()
    assert "初始密码" in page and "社区统战委员" in page and "审计员" not in page
    response = _new(client, area=areas["140106001001"].pk)
    newbie = User.objects.get(username="newbie")
    assert response.status_code == 302 and response.url == reverse(
        "account_detail", args=[newbie.pk]
    )
    assert newbie.must_change_password and newbie.check_password(NEW_PASSWORD)
    assert newbie.area == areas["140106001001"] and newbie.has_perm("members.add_member")
    assert not newbie.is_staff and not newbie.is_superuser
    [line] = _lines(newbie)
    assert line.action == "create" and line.username == "kate"
    assert line.detail == {"role": "community", "area": "140106001001"}


def test_the_area_offered_is_the_administrators_and_must_suit_the_role(client, street_admin, areas):
    client.force_login(street_admin)
    offered = client.get(reverse("account_create")).context["form"].fields["area"].queryset
    assert set(offered.values_list("code", flat=True)) == {
        "140106001", "140106001001", "140106001002",
    }  # fmt: skip
    refused = _new(client, area=areas["140106001"].pk)  # a community worker in a street
    assert "社区统战委员的所属区域应为社区" in str(refused.context["form"].errors["area"])
    for area in ("", areas["140106"].pk, areas["140106002001"].pk):  # none, above, beside
        refused = _new(client, area=area, role="admin", is_superuser="on", is_staff="on")
        assert refused.status_code == 200 and "area" in refused.context["form"].errors
    refused = _new(client, area=areas["140106001001"].pk, role="auditor")
    assert "role" in refused.context["form"].errors
    refused = _new(client, area=areas["140106001001"].pk, password2="Other-Pass-2026")
    assert "password2" in refused.context["form"].errors
    refused = _new(client, area=areas["140106001001"].pk, password1="short", password2="short")
    assert "太短" in refused.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    # An administrator of its own street, never a superuser (the flag is not the form's).
    _new(client, area=areas["140106001"].pk, role="admin", is_superuser="on")
    helper = User.objects.get(username="newbie")
    assert not helper.is_superuser and helper.area == areas["140106001"]
    assert not helper.sees_everything


# -- Editing an account ------------------------------------------------------------------------


def _edit(client, account, **fields):
    data = {"last_name": account.last_name, "first_name": account.first_name,
            "email": account.email, "role": account.role,
            "area": account.area.pk if account.area else "", **fields}  # fmt: skip
    return client.post(reverse("account_update", args=[account.pk]), data)


def test_an_administrator_edits_name_role_and_area_within_its_area(
    client, street_admin, community_user, areas
):
    client.force_login(street_admin)
    response = _edit(client, community_user, last_name="汪", area=areas["140106001002"].pk)
    assert response.status_code == 302
    alice = User.objects.get(pk=community_user.pk)
    assert alice.last_name == "汪" and alice.area == areas["140106001002"]
    line = _lines(alice)[0]
    assert line.detail["changed"] == {"last_name": True, "role": "community",
                                      "area": "140106001002"}  # fmt: skip
    # Not into another street.
    refused = _edit(client, alice, area=areas["140106002001"].pk)
    assert refused.status_code == 200 and "area" in refused.context["form"].errors
    assert User.objects.get(pk=alice.pk).area == areas["140106001002"]


def test_nobody_changes_their_own_role_or_area(client, street_admin, areas, far_member):
    client.force_login(street_admin)
    form = client.get(reverse("account_update", args=[street_admin.pk])).context["form"]
    assert form.fields["role"].disabled and form.fields["area"].disabled
    _edit(client, street_admin, role="admin", area="", last_name="柯")
    _edit(client, street_admin, area=areas["140106"].pk)
    kate = User.objects.get(pk=street_admin.pk)
    assert kate.area == areas["140106001"] and not kate.sees_everything
    assert client.get(reverse("members:detail", args=[far_member.pk])).status_code == 404
    # The service says so too, whatever page calls it.
    with pytest.raises(ValidationError):
        user_update(actor=kate, user=kate, role="admin", area=None)


def test_the_pages_give_no_rights_beyond_the_role(client, street_admin, community_user):
    auditors = Group.objects.get(name="审计员")
    client.force_login(street_admin)
    _edit(client, community_user, groups=[auditors.pk], is_superuser="on", is_staff="on")
    alice = User.objects.get(pk=community_user.pk)
    assert not alice.is_superuser and not alice.is_staff and not alice.is_auditor
    assert auditors not in alice.groups.all()
    # Nor does the service for an administrator limited to an area, or for oneself.
    for account in (community_user, street_admin):
        with pytest.raises(ValidationError):
            user_update(actor=street_admin, user=account, role=account.role,
                        area=account.area, groups=[auditors])  # fmt: skip
    assert not User.objects.get(pk=street_admin.pk).is_auditor


# -- Passwords, disabling, authenticators, lockouts ---------------------------------------------


def test_a_reset_password_is_temporary(client, street_admin, community_user):
    client.force_login(street_admin)
    url = reverse("account_password", args=[community_user.pk])
    assert "临时密码" in client.get(url).content.decode()
    refused = client.post(url, {"new_password1": "Reset-Pass-2027", "new_password2": "x"})
    assert refused.status_code == 200 and "new_password2" in refused.context["form"].errors
    refused = client.post(url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert "新密码不能与当前密码相同" in refused.content.decode()
    response = client.post(
        url, {"new_password1": "Reset-Pass-2027", "new_password2": "Reset-Pass-2027"}
    )
    assert response.status_code == 302
    alice = User.objects.get(pk=community_user.pk)
    assert alice.must_change_password and alice.check_password("Reset-Pass-2027")
    assert [line.detail["changed"] for line in _lines(alice)] == [{"password": True}]
    # One's own password is changed on the password page, with the old one.
    own = client.get(reverse("account_password", args=[street_admin.pk]))
    assert own.status_code == 302 and own.url == reverse("password_change")


def test_an_account_holding_rights_beyond_the_administrators_is_not_theirs_to_reset(
    client, street_admin, admin_user, areas
):
    """A superuser gave a worker of the street a group beyond her role: resetting her password
    would hand its rights to an administrator who lacks them, so the street's administrator
    neither resets, disables, unlocks nor edits her account; a superuser does."""
    worker = _user("wendy", User.Role.COMMUNITY, areas["140106001002"])
    exporters = Group.objects.create(name="日志查阅")
    exporters.permissions.add(Permission.objects.get(codename="view_auditevent"))
    worker.groups.add(exporters)
    assert not street_admin.has_perm("tongzhan.view_auditevent")
    client.force_login(street_admin)
    reset = {"new_password1": "Reset-Pass-2027", "new_password2": "Reset-Pass-2027"}
    page = client.post(reverse("account_password", args=[worker.pk]), reset)
    assert "该账号拥有您没有的权限（tongzhan.view_auditevent）" in page.content.decode()
    response = client.post(reverse("account_active", args=[worker.pk]), {"active": "0"})
    assert "该账号拥有您没有的权限" in response.content.decode()
    client.post(reverse("account_unlock", args=[worker.pk]))
    worker.refresh_from_db()
    assert not worker.check_password("Reset-Pass-2027") and worker.is_active
    assert _lines(worker) == []
    client.force_login(admin_user)
    assert client.post(reverse("account_password", args=[worker.pk]), reset).status_code == 302


def test_a_disabled_account_is_logged_out_and_told_so_at_login(
    client, street_admin, community_user
):
    from django.test import Client

    owner = Client()
    owner.force_login(community_user)
    assert owner.get(reverse("members:list")).status_code == 200
    client.force_login(street_admin)
    url = reverse("account_active", args=[community_user.pk])
    page = client.get(url).content.decode()
    assert "停用账号" in page and 'name="active" value="0"' in page  # asked first
    assert User.objects.get(pk=community_user.pk).is_active
    assert client.post(url, {"active": "0"}).status_code == 302
    assert not User.objects.get(pk=community_user.pk).is_active
    [line] = _lines(community_user)
    assert line.detail["changed"] == {"is_active": False}
    # Its session ends, and its owner is told why at the next login.
    assert owner.get(reverse("members:list")).status_code == 302
    login = owner.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert "此账号已停用" in login.content.decode()
    # The same button pressed twice changes nothing more; enabling gives it back.
    client.post(url, {"active": "0"})
    assert len(_lines(community_user)) == 1
    detail = client.get(reverse("account_detail", args=[community_user.pk])).content.decode()
    assert "已停用" in detail and 'id="account-enable"' in detail
    client.post(url, {"active": "1"})
    assert User.objects.get(pk=community_user.pk).is_active


def test_nobody_disables_their_own_account(client, street_admin):
    client.force_login(street_admin)
    detail = client.get(reverse("account_detail", args=[street_admin.pk])).content.decode()
    assert 'id="account-disable"' not in detail
    refused = client.post(reverse("account_active", args=[street_admin.pk]), {"active": "0"})
    assert refused.status_code == 200 and "不能停用自己的账号" in refused.content.decode()
    assert User.objects.get(pk=street_admin.pk).is_active


def test_resetting_the_authenticator_removes_it_after_asking(client, street_admin, community_user):
    device = TOTPDevice.objects.create(user=community_user, name="手机", confirmed=True)
    client.force_login(street_admin)
    detail = client.get(reverse("account_detail", args=[community_user.pk])).content.decode()
    assert 'id="account-reset-authenticator"' in detail and "已设置" in detail
    url = reverse("account_authenticator", args=[community_user.pk])
    assert "移除身份验证器" in client.get(url).content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()  # a GET asks, nothing more
    assert client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=community_user).exists()
    [line] = _lines(community_user)
    assert line.detail["changed"] == {"second_factor": "removed"}
    assert device.key not in detail


def test_an_account_locked_after_failed_logins_is_unlocked_and_audited(
    client, street_admin, community_user
):
    from django.test import Client

    owner = Client()
    for number in range(5):
        owner.post(reverse("login"), {"username": "alice", "password": "wrong-1"},
                   REMOTE_ADDR=f"10.0.2.{number}")  # fmt: skip
    locked = owner.post(reverse("login"), {"username": "alice", "password": PASSWORD},
                        REMOTE_ADDR="10.9.9.9")  # fmt: skip
    assert locked.status_code == 429
    client.force_login(street_admin)
    detail = client.get(reverse("account_detail", args=[community_user.pk])).content.decode()
    assert "登录失败次数过多，已锁定" in detail and 'id="account-unlock"' in detail
    assert client.get(reverse("account_unlock", args=[community_user.pk])).status_code == 405
    assert client.post(reverse("account_unlock", args=[community_user.pk])).status_code == 302
    assert not AccessAttempt.objects.filter(username="alice").exists()
    [line] = _lines(community_user)
    assert line.detail["changed"]["unlocked"] >= 1
    again = owner.post(reverse("login"), {"username": "alice", "password": PASSWORD},
                       REMOTE_ADDR="10.9.9.9")  # fmt: skip
    assert again.status_code == 302
    detail = client.get(reverse("account_detail", args=[community_user.pk])).content.decode()
    assert 'id="account-unlock"' not in detail


# -- Who may: 403 for a role that may not, 404 outside the area ----------------------------------

PAGES = [
    ("account_detail", "get"),
    ("account_update", "get"),
    ("account_update", "post"),
    ("account_password", "get"),
    ("account_password", "post"),
    ("account_active", "get"),
    ("account_active", "post"),
    ("account_authenticator", "get"),
    ("account_authenticator", "post"),
    ("account_unlock", "post"),
]


def test_an_account_outside_the_administrators_area_is_not_found(
    client, street_admin, other_street_user, district_user, admin_user, areas
):
    auditor = _user("ivan", User.Role.AUDITOR, None)
    boss = _user("boss", User.Role.ADMIN, None)
    client.force_login(street_admin)
    for account in (other_street_user, district_user, admin_user, auditor, boss):
        for name, method in PAGES:
            response = getattr(client, method)(reverse(name, args=[account.pk]))
            assert response.status_code == 404, (account, name, method)
    # An unrestricted administrator who is not a superuser: no superuser's or auditor's account.
    client.force_login(boss)
    for account in (admin_user, auditor):
        assert client.get(reverse("account_detail", args=[account.pk])).status_code == 404
    assert User.objects.get(pk=other_street_user.pk).is_active


def test_roles_without_the_account_rights_are_refused(
    client, community_user, street_user, district_user, street_admin, areas
):
    auditor = _user("ivan", User.Role.AUDITOR, None)
    for user in (community_user, street_user, district_user, auditor):
        client.force_login(user)
        for name in ("account_list", "account_create"):
            assert client.get(reverse(name)).status_code == 403, (user, name)
        for name, method in PAGES:
            response = getattr(client, method)(reverse(name, args=[community_user.pk]))
            assert response.status_code == 403, (user, name, method)
    # Reading accounts is not changing them.
    reader = _user("rita", User.Role.COMMUNITY, areas["140106001001"])
    reader.user_permissions.add(*_permissions("view_user"))
    client.force_login(reader)
    assert client.get(reverse("account_detail", args=[community_user.pk])).status_code == 200
    detail = client.get(reverse("account_detail", args=[community_user.pk])).content.decode()
    assert 'id="account-edit"' not in detail
    for name, method in PAGES[1:]:
        response = getattr(client, method)(reverse(name, args=[community_user.pk]))
        assert response.status_code == 403, (name, method)
    assert client.get(reverse("account_create")).status_code == 403
    assert User.objects.get(pk=community_user.pk).is_active


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="tongzhan", codename__in=codenames)
