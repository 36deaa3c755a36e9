"""The web surface: security headers, no inline script, error pages, health, sessions."""

import logging
import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path, reverse

from tongzhan import views
from tongzhan.urls import urlpatterns as project_urls

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def template_files():
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]:
        yield from folder.rglob("*.html")


def test_no_template_has_inline_script_style_or_handlers():
    offences = []
    for template in template_files():
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offences.append((template.name, tag))
        offences += [(template.name, m) for m in re.findall(r'\sstyle="[^"]*"', text)]
        offences += [(template.name, m) for m in re.findall(r"\son[a-z]+=\"", text)]
    assert offences == []
    assert len(list(template_files())) > 30  # the scan found the templates


def test_every_page_sends_the_security_headers(client, community_user):
    client.force_login(community_user)
    response = client.get(reverse("home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{16}", response["X-Request-ID"])
    # json_script data blocks are not scripts: the dashboard's charts read one.
    assert '<script id="dashboard-charts" type="application/json">' in response.content.decode()


def test_the_health_check(client, monkeypatch):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "migrations": "ok"}
    monkeypatch.setattr(views, "_migrations_applied", False)
    monkeypatch.setattr(
        "django.db.migrations.executor.MigrationExecutor.migration_plan",
        lambda self, targets: ["pending"],
    )
    response = client.get("/health/")
    assert response.status_code == 503 and response.json()["migrations"] == "pending"

    def unreachable(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", unreachable)
    response = client.get("/health/")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_a_missing_page_says_so_in_chinese(client, community_user):
    client.force_login(community_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "这里什么也没有" in response.content.decode()


def crash(request):
    raise RuntimeError("secret detail of the failure")


urlpatterns = [*project_urls, path("crash/", crash)]
handler500 = "tongzhan.views.server_error"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_server_error_leaks_nothing_and_gives_an_id_that_is_logged(client, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/crash/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in page and "secret detail" not in page and "Traceback" not in page
    request_id = response["X-Request-ID"]
    assert f'<strong id="request-id">{request_id}</strong>' in page
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.request_id == request_id


def test_an_idle_session_ends_and_the_login_page_says_why(client, community_user, settings):
    client.force_login(community_user)
    assert client.get(reverse("home")).status_code == 200
    session = client.session
    session["seen_at"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 1
    session.save()
    response = client.get(reverse("members:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    page = client.get(response.url).content.decode()
    assert "长时间未操作" in page
    assert client.get(reverse("home")).status_code == 302  # still logged out


def test_a_session_ends_at_its_absolute_lifetime(client, community_user, settings):
    client.force_login(community_user)
    client.get(reverse("home"))
    session = client.session
    session["started_at"] = int(time.time()) - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert "最长时间" in client.get(response.url).content.decode()


def test_disabling_an_account_ends_its_sessions(client, community_user):
    client.force_login(community_user)
    assert client.get(reverse("home")).status_code == 200
    community_user.is_active = False
    community_user.save()
    assert client.get(reverse("home")).status_code == 302


# -- Redirects after logging in stay on this site -------------------------------------------

EVIL = ["https://evil.example/", "//evil.example", "https:evil.example", "/\\evil.example"]


def _with_authenticator(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def _code(device, ahead=0):
    from django_otp.oath import totp

    drift = device.drift + ahead
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def _internal(location: str) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    return url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"})


@pytest.mark.parametrize("evil", EVIL)
def test_next_after_the_password_and_the_authenticator_code_stays_on_this_site(
    client, community_user, settings, evil
):
    from urllib.parse import quote

    from conftest import PASSWORD

    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = _with_authenticator(community_user)
    chained = reverse("two_factor_verify") + "?next=" + quote(evil, safe="")
    login = client.post(
        reverse("login") + "?next=" + quote(chained, safe=""),
        {"username": "alice", "password": PASSWORD, "next": chained},
    )
    assert login.status_code == 302 and _internal(login.url)
    assert login.url.startswith(reverse("two_factor_verify"))  # the internal hop is kept
    verified = client.post(login.url, {"code": _code(device)})
    assert verified.status_code == 302
    assert _internal(verified.url), verified.url
    assert verified.url == reverse("home")
    assert client.get(verified.url).status_code == 200


@pytest.mark.parametrize("evil", EVIL)
def test_other_pages_that_follow_next_stay_on_this_site(client, community_user, evil):
    from conftest import PASSWORD

    login = client.post(reverse("login"), {"username": "alice", "password": PASSWORD, "next": evil})
    assert _internal(login.url)
    language = client.post(reverse("set_language"), {"language": "en", "next": evil})
    assert _internal(language.url)
    logout = client.post(reverse("logout"), {"next": evil})
    assert _internal(logout.url)


def test_an_internal_next_is_followed_after_the_authenticator_code(client, community_user):
    device = _with_authenticator(community_user)
    client.force_login(community_user)
    response = client.post(
        reverse("two_factor_verify") + "?next=" + reverse("members:list"), {"code": _code(device)}
    )
    assert response.url == reverse("members:list")
