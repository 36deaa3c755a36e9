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


# -- Password rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab-1", "太短"),
        ("abcdefghijk", "至少"),  # one kind of character
        ("abcdefgh12", "至少"),  # two kinds
        ("Alice-2026-x", "用户名"),
        ("Password123!", None),  # four kinds, not in the common list
    ],
)
def test_password_rules(community_user, password, message):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("zh-hans"):
        if message is None:
            validate_password(password, community_user)
            return
        with pytest.raises(ValidationError) as refused:
            validate_password(password, community_user)
    assert message in " ".join(refused.value.messages)


def test_an_account_the_administrator_created_changes_its_password_first(client, admin_user, areas):
    from tongzhan.models import User

    client.force_login(admin_user)
    client.post(
        reverse("account_create"),
        {"username": "newbie", "last_name": "新", "first_name": "人", "role": "community",
         "area": areas["140106001001"].pk, "password1": "Initial-Pass-2026",
         "password2": "Initial-Pass-2026"},
    )  # fmt: skip
    newbie = User.objects.get(username="newbie")
    assert newbie.must_change_password
    client.logout()
    assert attempt(client, "newbie", "Initial-Pass-2026").status_code == 302
    response = client.get(reverse("members:list"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "请先把收到的" in page
    refused = client.post(
        reverse("password_change"),
        {"old_password": "Initial-Pass-2026", "new_password1": "short", "new_password2": "short"},
    )
    assert refused.status_code == 200 and "太短" in refused.content.decode()
    client.post(
        reverse("password_change"),
        {"old_password": "Initial-Pass-2026", "new_password1": "Qw-84-ruyi-xz",
         "new_password2": "Qw-84-ruyi-xz"},
    )  # fmt: skip
    newbie.refresh_from_db()
    assert not newbie.must_change_password and newbie.password_changed_at
    assert client.get(reverse("members:list")).status_code == 200  # still logged in

    # A password reset by the administrator is the administrator's: changed again.
    client.force_login(admin_user)
    client.post(
        reverse("account_password", args=[newbie.pk]),
        {"new_password1": "Reset-Pass-2027", "new_password2": "Reset-Pass-2027"},
    )
    newbie.refresh_from_db()
    assert newbie.must_change_password and newbie.check_password("Reset-Pass-2027")


def test_passwords_expire_when_the_setting_says(client, community_user, settings):
    from django.utils import timezone

    settings.PASSWORD_MAX_AGE_DAYS = 90
    community_user.password_changed_at = timezone.now() - datetime.timedelta(days=91)
    community_user.save()
    client.force_login(community_user)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    settings.PASSWORD_MAX_AGE_DAYS = 0
    assert client.get(reverse("home")).status_code == 200


# -- Second factor ---------------------------------------------------------------------------


def _current_code(device, ahead: int = 0) -> str:
    """The code the app shows now (or `ahead` steps later: a code is accepted only once)."""
    from django_otp.oath import totp

    drift = device.drift + ahead
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def test_administrators_set_up_and_then_use_an_authenticator_when_required(
    client, admin_user, settings
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.ADMIN_TOTP_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code delays the next one; not here
    assert attempt(client, "grace", PASSWORD).status_code == 302
    response = client.get(reverse("members:list"))
    assert response.url == reverse("two_factor_setup")  # nothing else before it is set up
    page = client.get(reverse("two_factor_setup"))
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    wrong = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert "不对" in wrong.content.decode()
    client.post(reverse("two_factor_setup"), {"code": _current_code(device)})
    assert client.get(reverse("members:list")).status_code == 200

    # The next login asks for the code, and a wrong one is refused and audited.
    client.logout()
    attempt(client, "grace", PASSWORD)
    assert client.get(reverse("home")).url == reverse("two_factor_verify")
    assert "不对" in client.post(reverse("two_factor_verify"), {"code": "123456"}).content.decode()
    assert AuditEvent.objects.filter(
        action="login_failed", username="grace", detail__second_factor="wrong code"
    ).exists()
    device.refresh_from_db()
    response = client.post(reverse("two_factor_verify"), {"code": _current_code(device, 1)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_without_the_setting_the_second_factor_is_optional_but_used_once_set(
    client, community_user, settings
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.ADMIN_TOTP_REQUIRED = False
    attempt(client, "alice", PASSWORD)
    assert client.get(reverse("home")).status_code == 200  # no authenticator, none asked
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=community_user)
    client.post(reverse("two_factor_setup"), {"code": _current_code(device)})
    client.logout()
    attempt(client, "alice", PASSWORD)
    assert client.get(reverse("home")).url == reverse("two_factor_verify")


def test_a_password_change_refuses_the_current_password(client, community_user, admin_user):
    from tongzhan.models import User

    client.force_login(community_user)
    refused = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert refused.status_code == 200
    assert "新密码不能与当前密码相同" in refused.content.decode()
    assert not AuditEvent.objects.filter(detail__fields=["password"]).exists()

    # The forced change after an administrator's reset is the same page, the same rule ...
    community_user.must_change_password = True
    community_user.save()
    refused = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert "新密码不能与当前密码相同" in refused.content.decode()
    # ... and an administrator setting the password the account has already is refused too.
    client.force_login(admin_user)
    refused = client.post(
        reverse("account_password", args=[community_user.pk]),
        {"new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert refused.status_code == 200
    assert "新密码不能与当前密码相同" in refused.content.decode()
    assert User.objects.get(pk=community_user.pk).check_password(PASSWORD)


# -- Nobody widening their own rights; the Django admin for superusers only ------------------
#
# An administrator limited to an area works on the account pages, where its rules are tested
# (tongzhan/tests/test_account_pages.py: no unrestricted administrator, no area above or
# beside its own, not its own role or area, no rights beyond the role, no account outside its
# area). The admin is a superuser's; the services hold the rules whoever calls them.


@pytest.fixture
def street_admin(areas):
    """An administrator whose account is limited to 柳巷街道."""
    from conftest import _user
    from tongzhan.models import User

    return _user("kate", User.Role.ADMIN, areas["140106001"])


def _change_page(client, user):
    from tests.admin_forms import admin_form_data

    page = client.get(reverse("admin:tongzhan_user_change", args=[user.pk]))
    assert page.status_code == 200
    return lambda **changes: client.post(
        reverse("admin:tongzhan_user_change", args=[user.pk]), admin_form_data(page, **changes)
    )


NEW_ACCOUNT = {"last_name": "新", "first_name": "人", "password1": "Initial-Pass-2026",
               "password2": "Initial-Pass-2026"}  # fmt: skip


def test_the_django_admin_lets_in_superusers_only(
    client, community_user, neighbour_user, street_user, district_user, street_admin, admin_user
):
    """Everyone else, an administrator limited to an area and an unrestricted one who is not
    a superuser included, is sent to the admin's login page (302), which says they may not
    enter; the application's pages are theirs."""
    from conftest import _user
    from tongzhan.models import User

    boss = _user("boss", User.Role.ADMIN, None)
    auditor = _user("ivan", User.Role.AUDITOR, None)
    others = [community_user, street_user, district_user, street_admin, boss, auditor]
    assert {user.role for user in others} == set(User.Role.values)
    pages = [reverse("admin:index"), reverse("admin:tongzhan_user_changelist"),
             reverse("admin:tongzhan_user_change", args=[neighbour_user.pk]),
             reverse("admin:tongzhan_area_add"), reverse("admin:members_member_changelist"),
             reverse("admin:auth_group_changelist"),
             reverse("admin:tongzhan_auditevent_changelist")]  # fmt: skip
    for user in others:
        client.force_login(user)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 302, (user, page)
            assert response.url.startswith(reverse("admin:login")), (user, page)
        assert reverse("admin:index") not in client.get(reverse("home")).content.decode()
    login = client.get(reverse("admin:login")).content.decode()
    assert "但是没有这个页面的访问权限" in login  # logged in as boss, not let in
    # A post is refused the same way: nothing is written.
    client.force_login(street_admin)
    refused = client.post(
        reverse("admin:tongzhan_user_add"),
        {**NEW_ACCOUNT, "username": "boss2", "role": "admin", "area": "", "is_superuser": "on"},
    )
    assert refused.status_code == 302 and not User.objects.filter(username="boss2").exists()
    client.force_login(admin_user)
    for page in pages[:-1]:
        assert client.get(page).status_code == 200, page
    assert reverse("admin:index") in client.get(reverse("home")).content.decode()


def test_nobody_adds_themselves_to_the_auditors_or_gives_rights_beyond_the_role(
    client, admin_user, community_user
):
    from django.contrib.auth.models import Group

    from tongzhan.models import User

    auditors = Group.objects.get(name="审计员")
    # A superuser in the admin cannot either: the auditor role is given on the command line.
    client.force_login(admin_user)
    refused = _change_page(client, community_user)(groups=[auditors.pk])
    assert refused.status_code == 200
    _change_page(client, admin_user)(groups=[auditors.pk], role="community")  # read-only
    refused = client.post(
        reverse("admin:tongzhan_user_add"), {**NEW_ACCOUNT, "username": "eve", "role": "auditor"}
    )
    assert refused.status_code == 200 and "role" in refused.context["adminform"].form.errors
    assert not User.objects.filter(username="eve").exists()
    grace = User.objects.get(pk=admin_user.pk)
    assert grace.role == "admin" and not grace.is_auditor
    assert not User.objects.get(pk=community_user.pk).is_auditor


def test_a_scoped_administrator_does_not_change_the_roles_permissions(street_admin):
    from django.contrib.auth.models import Group, Permission
    from django.core.exceptions import ValidationError

    from tongzhan.services import group_save

    group = Group.objects.get(name="系统管理员")
    with pytest.raises(ValidationError, match="不能修改用户组"):
        group_save(
            actor=street_admin,
            group=group,
            permissions=[*group.permissions.all(), Permission.objects.get(codename="delete_user")],
        )
    assert not group.permissions.filter(codename="delete_user").exists()


def test_the_admin_never_shows_an_authenticators_secret(client, admin_user, community_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=community_user, name="手机", confirmed=True)
    client.force_login(admin_user)
    pages = [
        client.get(reverse("admin:otp_totp_totpdevice_changelist")),
        client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert device.key not in html and "qrcode" not in html
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code != 200
    assert client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
    # Removing a lost authenticator is what the admin is for: the owner sets up a new one.
    client.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert (
        AuditEvent.objects.filter(action="delete", object_type="otp_totp.totpdevice").count() == 1
    )
