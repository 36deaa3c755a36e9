"""The project's middleware: the interface language, security headers, session lifetime.

The interface is Chinese unless the user picked another language: Django's LocaleMiddleware
would follow the browser's Accept-Language, and an intranet PC with an English browser would
then show English to a Chinese office. Here only the language cookie (set by the switcher in
the footer) overrides LANGUAGE_CODE.
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.utils import translation


class LanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# -- Request ids, security headers, session lifetime -------------------------------------------


class SecurityHeadersMiddleware:
    """Content-Security-Policy (and Permissions-Policy) on every response: scripts, styles,
    images and connections from this site only, no inline script, no framing."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(
            f"{directive} {' '.join(sources)}"
            for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class SessionLifetimeMiddleware:
    """Sessions end after SESSION_IDLE_SECONDS without a request and SESSION_ABSOLUTE_SECONDS
    after logging in, whichever comes first; the login page then says why."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.setdefault("started_at", now)
            seen = session.get("seen_at", now)
            idle = now - seen > settings.SESSION_IDLE_SECONDS
            if idle or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                request.session["ended"] = "idle" if idle else "absolute"
                return redirect_to_login(request.get_full_path())
            # Written at most once a minute: not a database write on every request.
            if now - seen >= 60 or "seen_at" not in session:
                session["seen_at"] = now
        return self.get_response(request)


class PasswordPolicyMiddleware:
    """An account that must change its password (first login with an initial password, or
    PASSWORD_MAX_AGE_DAYS passed) can do nothing else until it has."""

    ALLOWED = ("password_change", "password_change_done", "logout", "set_language", "health")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and (user.must_change_password or user.password_expired())
        ):
            match = request.resolver_match or _resolve(request.path_info)
            if match is None or match.url_name not in self.ALLOWED:
                return redirect("password_change")
        return self.get_response(request)


def _resolve(path):
    from django.urls import Resolver404, resolve

    try:
        return resolve(path)
    except Resolver404:
        return None


class SecondFactorMiddleware:
    """An account with an authenticator enters its code after the password; an administrator
    without one sets it up first when ADMIN_TOTP_REQUIRED says so.

    Whether the account has an authenticator is noted in the session at login
    (`tongzhan.signals`), so ordinary requests cost no query.
    """

    ALLOWED = ("two_factor_setup", "two_factor_verify", "logout", "set_language", "health")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            needed = request.session.get("second_factor")
            if needed == "verify" or (needed == "setup" and settings.ADMIN_TOTP_REQUIRED):
                match = request.resolver_match or _resolve(request.path_info)
                if match is None or match.url_name not in self.ALLOWED:
                    target = "two_factor_verify" if needed == "verify" else "two_factor_setup"
                    return redirect(target)
        return self.get_response(request)
