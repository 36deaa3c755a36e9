"""Settings shared by every environment; the environment varies them through variables.

Anchor: cookiecutter-django ``config/settings``. Values that differ between a laptop and the
intranet server are read from the environment here, never edited in the other modules.
"""

import datetime
import json
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def key_file(path: str) -> dict:
    """The keys kept in a JSON file (KEYS_FILE, readable by the service's user only): an
    object whose names are the settings below, each a string or a list of strings."""
    if not path:
        return {}
    return json.loads(Path(path).read_text())


KEYS = key_file(os.environ.get("KEYS_FILE", ""))


def key_setting(name: str, default: str = "") -> str:
    """A key from the environment, else from KEYS_FILE."""
    value = os.environ.get(name, "").strip() or KEYS.get(name, default)
    return ",".join(value) if isinstance(value, list) else value


def key_list(name: str) -> list[str]:
    return [item.strip() for item in key_setting(name).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "tongzhan.apps.AdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "django_filters",
    "tongzhan.apps.LoginRecordsConfig",  # django-axes, named in Chinese
    "django_otp",
    "tongzhan.apps.AuthenticatorsConfig",  # django_otp.plugins.otp_totp, named in Chinese
    "tongzhan",
    "members",
    "organisations",
    "commendations",
    "activities",
    "liaison",
    "resources",
    "dashboards",
    "followup",
    "privacy",
    "assessment",
    "demo",
    # After tongzhan, whose `db_worker` (this one's, outliving database restarts and running
    # the apps' sweeps: tongzhan/workers.py) takes the command's name.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "tongzhan.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tongzhan.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongzhan.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tongzhan.middleware.SessionLifetimeMiddleware",
    "tongzhan.middleware.SecondFactorMiddleware",
    "tongzhan.middleware.PasswordPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the Chinese lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tongzhan.urls"
WSGI_APPLICATION = "tongzhan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "liaison.context_processors.waiting",
            ],
        },
    },
]

# An embedded SQLite database unless DATABASE_URL names another (PostgreSQL in production).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The covering index's included columns are a PostgreSQL speed-up; SQLite ignores them.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    # The embedded server's worker thread writes while the web threads do (tongzhan/workers):
    # SQLite has one writer at a time. WAL lets pages read while an import writes; a write
    # takes the lock when its transaction begins and waits its turn, up to a minute (a roster
    # of some thousands of rows), instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 60,
        **DATABASES["default"].get("OPTIONS", {}),
    }

AUTH_USER_MODEL = "tongzhan.User"
LOGIN_URL = "login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]

# Failed logins (django-axes): LOGIN_FAILURE_LIMIT failures lock the username, and the same
# number from one address lock that address, for LOGIN_LOCKOUT_MINUTES. Counting per address
# too means one address can lock at most one account before it is itself locked out.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tongzhan.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "tongzhan.audit.client_ip"
AXES_VERBOSE = False
# Behind the documented nginx the client's address comes in X-Real-IP; elsewhere the header
# is the client's own word and is ignored.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# How passwords are kept: PBKDF2 with HMAC-SM3 (the national hash, for the 密评); the others
# only read passwords kept before, each rehashed with the first at its next login.
PASSWORD_HASHERS = [
    "tongzhan.passwords.PBKDF2SM3PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Password rules (configurable): PASSWORD_MIN_LENGTH characters (10), PASSWORD_MIN_CLASSES of
# the four kinds of character (3), not a common password, not containing the username, not
# the account's current password.
# An account created or reset by an administrator must change its password at first login;
# PASSWORD_MAX_AGE_DAYS (0: never) makes passwords expire.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "tongzhan.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))},
    },
    {
        "NAME": "tongzhan.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": int(os.environ.get("PASSWORD_MIN_CLASSES", "3"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "tongzhan.passwords.NoUsernameValidator"},
    {"NAME": "tongzhan.passwords.NotCurrentPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_MAX_AGE_DAYS = int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "0"))

# A second factor (TOTP, an authenticator app): anyone may set one up; with
# ADMIN_TOTP_REQUIRED administrators must, before they can do anything else.
ADMIN_TOTP_REQUIRED = env_bool("ADMIN_TOTP_REQUIRED", False)
OTP_TOTP_ISSUER = "统战信息库"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# A session ends after SESSION_IDLE_SECONDS without a request (default 30 minutes) and
# SESSION_ABSOLUTE_SECONDS after logging in (default 8 hours), whichever comes first.
SESSION_IDLE_SECONDS = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_ABSOLUTE_SECONDS = int(
    os.environ.get("SESSION_ABSOLUTE_SECONDS", os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Everything from this site, nothing inline: no inline script or style in any template
# (tests/test_security.py checks). Charts set styles through the DOM, which CSP allows.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Keys for personal data at rest (ID numbers, phones; tongzhan.crypto), each from the
# environment or from KEYS_FILE, never the database.
# - FIELD_ENCRYPTION_ALGORITHM: "sm4" (SM4-GCM values, HMAC-SM3 lookup hashes) or "aes"
#   (Fernet values, HMAC-SHA256 hashes) for deployments not evaluated for their cryptography.
# - FIELD_SM4_KEYS: "<id>:<base64 of 16 bytes>", comma separated, newest first: the newest
#   encrypts, all decrypt. FIELD_ENCRYPTION_KEYS: the Fernet keys, likewise. While the
#   other algorithm's keys are configured its values are read and its hashes looked for;
#   `manage.py rotate_keys` rewrites everything in the chosen form, then they can go.
# - FIELD_HASH_KEY keys the lookup hashes; FIELD_HASH_PREVIOUS_KEYS are looked for until the
#   rotation has re-indexed every value.
# - AUDIT_CHAIN_KEY keys the audit log's chain of HMAC-SM3 (tongzhan.auditchain).
# Outside production missing keys fall back to keys derived from SECRET_KEY, so a laptop
# needs no extra setup.
FIELD_ENCRYPTION_ALGORITHM = key_setting("FIELD_ENCRYPTION_ALGORITHM", "sm4").lower()
FIELD_SM4_KEYS = key_list("FIELD_SM4_KEYS")
FIELD_ENCRYPTION_KEYS = key_list("FIELD_ENCRYPTION_KEYS")
FIELD_HASH_KEY = key_setting("FIELD_HASH_KEY")
FIELD_HASH_PREVIOUS_KEYS = key_list("FIELD_HASH_PREVIOUS_KEYS")
AUDIT_CHAIN_KEY = key_setting("AUDIT_CHAIN_KEY")

# Widgets render through the project's template settings, so a widget's template can live
# in templates/ beside the pages (Django's own widget templates come from django.forms).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

MEMBER_LIST_PAGE_SIZES = (25, 50, 100)
# The member list counts from the dashboards' tallies where its filters allow
# (members.filters.tallied_count) instead of counting up to a million rows.
MEMBER_LIST_TALLIED_COUNTS = True
# The talent search (人才库) ranks up to this many matches, those matching most first; a
# search finding more lists them in name order and says "more than" this many, so a word
# that a tenth of a million members hold reads a page, not all of them (issue 17). Counting
# up to it is most of a street's or a district's search (benchmarks/README.md).
TALENT_RANKED_AT_MOST = 500
# "Registered outside your area" answers whether somebody the user may not see is in the
# registry: each answer is audited, and a user gets this many an hour (members.services).
MEMBER_PROBE_LIMIT_PER_HOUR = int(os.environ.get("MEMBER_PROBE_LIMIT_PER_HOUR", "10"))
# How long a merge of two records of one person can be undone from the kept record's history.
MEMBER_MERGE_UNDO_DAYS = int(os.environ.get("MEMBER_MERGE_UNDO_DAYS", "30"))

# How long the record of a member who left the registry is kept, in years from the day she
# left, before the district approves its anonymisation (PIPL art. 19 and 47: kept no longer
# than the purpose needs, then deleted or anonymised; privacy/anonymise.py says what goes).
RETENTION_YEARS = {
    "moved_out": int(os.environ.get("RETENTION_YEARS_MOVED_OUT", "3")),
    "deceased": int(os.environ.get("RETENTION_YEARS_DECEASED", "1")),
    "withdrawn": int(os.environ.get("RETENTION_YEARS_WITHDRAWN", "3")),
}
# A person's request to see, copy or correct her record is answered within this many working
# days of its receipt (PIPL arts. 44-46 say "in time"; 15 working days is common practice).
PERSON_REQUEST_WORKING_DAYS = int(os.environ.get("PERSON_REQUEST_WORKING_DAYS", "15"))

# Whom a person asks to see, copy or correct what is kept about her (PIPL arts. 44-46), as the
# printed notice (告知书) names it: an office, an address, a telephone. Empty: the letter names
# the office of the community that keeps her record.
PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT", "")

# A confirmed evaluation round may be reopened by the district this many days after its
# confirmation, restoring the representatives it removed (assessment.services.round_reopen).
EVALUATION_REOPEN_DAYS = int(os.environ.get("EVALUATION_REOPEN_DAYS", "30"))

# A need left without a due date is due this many days after it was raised (activities.services).
NEED_DUE_DAYS = int(os.environ.get("NEED_DUE_DAYS", "30"))

# Photos and PDF documents of activities: the largest file accepted.
ACTIVITY_FILE_MAX_BYTES = 10 * 1024 * 1024
# A member's ID photo (证件照): a JPEG or PNG of at most this size.
MEMBER_PHOTO_MAX_BYTES = 2 * 1024 * 1024
# ... and of at most this many pixels: each printed form decodes it (an ID photo is about
# 358 × 441; 200 forms of 2 million pixels add some 25 seconds to a community's PDF).
MEMBER_PHOTO_MAX_PIXELS = 2_000_000
# A community's registration forms (one page each): WeasyPrint draws about 5 to 10 forms a
# second on one core, so up to MEMBER_PRINT_INLINE_MAX are drawn in the request and more are
# made in the background (tongzhan.downloads), at most MEMBER_PRINT_MAX in one PDF.
MEMBER_PRINT_INLINE_MAX = int(os.environ.get("MEMBER_PRINT_INLINE_MAX", "30"))
MEMBER_PRINT_MAX = int(os.environ.get("MEMBER_PRINT_MAX", "5000"))
# A member export of more rows than this is made in the background and offered on its own page
# when done (about 2,000 rows a second: 5,000 answer within a few seconds).
MEMBER_EXPORT_INLINE_MAX = int(os.environ.get("MEMBER_EXPORT_INLINE_MAX", "5000"))
# Files made in the background are kept this many days for their owner, then deleted
# (tongzhan.services.downloads_expire).
DOWNLOAD_KEEP_DAYS = int(os.environ.get("DOWNLOAD_KEEP_DAYS", "7"))
# How many files one user may have waiting or being made at once: the workers are everyone's.
DOWNLOAD_BUSY_MAX = int(os.environ.get("DOWNLOAD_BUSY_MAX", "3"))
# Roster uploads: the largest file accepted and the most its .xlsx may unpack to.
ROSTER_MAX_BYTES = 20 * 1024 * 1024
ROSTER_MAX_UNCOMPRESSED = 200 * 1024 * 1024
# What reading the first sheet may hold, worked out before it is read: its cells from A1 to the
# last one used, empty ones included (100,000 people in 30 columns pass), and their text, a
# shared string counted in every cell that shows it. Either one far above what a roster needs
# takes the server's memory (members/roster_reader.py).
ROSTER_MAX_CELLS = 3_200_000
ROSTER_MAX_TEXT = 100 * 1024 * 1024
# Background work (django-tasks): roster checks and imports (members/jobs.py), ... Queued in
# the database and run by `manage.py db_worker` processes (tongzhan/workers.py); a site with
# another queue (Redis, RabbitMQ) names its backend here. The embedded server sets
# TASKS_IN_PROCESS (the Makefile's run and dev): a thread of the web process is the worker.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
TASKS_IN_PROCESS = env_bool("TASKS_IN_PROCESS", False)

# Results of finished background tasks are deleted after this many days (a periodic job,
# tongzhan.schedule.task_results_prune).
TASK_RESULTS_KEEP_DAYS = int(os.environ.get("TASK_RESULTS_KEEP_DAYS", "14"))
# The login records (django-axes: who logged in or failed, from where, with which browser) are
# deleted after this many days; the Cybersecurity Law (art. 21) asks for six months at least.
LOGIN_RECORDS_KEEP_DAYS = int(os.environ.get("LOGIN_RECORDS_KEEP_DAYS", "180"))

# Every line carries the request id the error page shows (tongzhan.middleware).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tongzhan.requestid.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Failed logins are in the audit log already; django-axes need only report problems.
    "loggers": {"axes": {"level": "WARNING"}},
}

ADMIN_SITE_HEADER = _("United Front Information Base")

# E-mail, where the intranet has a mail server (off by default: nothing is sent). Daily
# reminders of what is due within REMINDER_DAYS or overdue go to each account with an address
# (liaison.reminders: the periodic job `liaison.reminders_send`, or `manage.py send_reminders`).
REMINDER_MAIL = env_bool("REMINDER_MAIL", False)
REMINDER_DAYS = int(os.environ.get("REMINDER_DAYS", "3"))
# The address people open the application at, for the links in e-mails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tongzhan@localhost")
