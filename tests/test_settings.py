"""Production settings refuse to start without their secrets, database and host names, and
pass `check --deploy`; `make run` serves as production does, `make dev` with DEBUG on."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "SECRET_KEY": "x" * 20 + "a-long-and-random-enough-production-secret-key-value",
    "FIELD_SM4_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZg==",
    "FIELD_HASH_KEY": "hash-key-for-the-test-32-characters-or-more",
    "AUDIT_CHAIN_KEY": "audit-key-for-the-test-32-characters-or-more",
    "ALLOWED_HOSTS": "tongzhan.example",
    "DATABASE_URL": "postgres://tongzhan:secret@db.example:5432/tongzhan",
}


def manage(*args, env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in SECRETS and k not in ("DJANGO_SETTINGS_MODULE", "KEYS_FILE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--settings=tongzhan.settings.production"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", list(SECRETS))
def test_production_refuses_to_start_without_a_secret_its_database_or_its_hosts(missing):
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set in production" in result.stderr


def test_production_takes_its_keys_from_a_key_file(tmp_path):
    keys = {name: SECRETS[name] for name in ("FIELD_SM4_KEYS", "FIELD_HASH_KEY", "AUDIT_CHAIN_KEY")}
    # A list is taken as the comma separated setting.
    listed = {**keys, "FIELD_SM4_KEYS": [keys["FIELD_SM4_KEYS"]]}
    (tmp_path / "keys.json").write_text(json.dumps(listed))
    env = {k: v for k, v in SECRETS.items() if k not in keys}
    assert manage("check", env=env).returncode != 0
    # Readable by others, the keys are theirs too: the start is refused.
    (tmp_path / "keys.json").chmod(0o644)
    result = manage("check", env={**env, "KEYS_FILE": str(tmp_path / "keys.json")})
    assert result.returncode != 0
    assert "KEYS_FILE must be readable by the service's user only" in result.stderr
    (tmp_path / "keys.json").chmod(0o600)
    result = manage("check", env={**env, "KEYS_FILE": str(tmp_path / "keys.json")})
    assert result.returncode == 0, result.stderr[-2000:]


def test_production_with_aes_needs_its_fernet_keys():
    env = {**SECRETS, "FIELD_ENCRYPTION_ALGORITHM": "aes"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set in production" in result.stderr
    result = manage("check", env={**env, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    assert result.returncode == 0, result.stderr[-2000:]


def example_environment() -> dict[str, str]:
    lines = (ROOT / "deploy" / "tongzhan.env.example").read_text().splitlines()
    pairs = (line.partition("=") for line in lines if line and not line.startswith("#"))
    return {name: value for name, _sep, value in pairs}


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "FIELD_SM4_KEYS", "FIELD_HASH_KEY", "AUDIT_CHAIN_KEY"]
)
def test_production_refuses_a_key_left_as_the_examples_placeholder(name):
    placeholder = example_environment()[name]
    result = manage("check", env={**SECRETS, name: placeholder})
    assert result.returncode != 0
    assert f"{name} is still the example's placeholder" in result.stderr
    assert placeholder not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        # Commas alone passed for a key, and SECRET_KEY's derived key encrypted.
        ("FIELD_SM4_KEYS", ",", "FIELD_SM4_KEYS holds no key"),
        # Found only by the first page that read a number.
        ("FIELD_SM4_KEYS", "k1:c2hvcnQ=", "key 'k1' must be 16 bytes"),
        ("FIELD_HASH_KEY", "a-short-hash-key", "FIELD_HASH_KEY must be at least 32 characters"),
        ("AUDIT_CHAIN_KEY", "x", "AUDIT_CHAIN_KEY must be at least 32 characters"),
    ],
)
def test_production_refuses_to_start_with_a_key_that_is_no_key_or_too_short(name, value, reason):
    result = manage("check", env={**SECRETS, name: value})
    assert result.returncode != 0
    assert reason in result.stderr


def test_production_refuses_an_embedded_sqlite_database():
    result = manage("check", env={**SECRETS, "DATABASE_URL": "sqlite:///tmp/tongzhan.sqlite3"})
    assert result.returncode != 0
    assert "production needs PostgreSQL" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=SECRETS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# `make run` and `make dev`: the embedded server on one's own machine (tongzhan/settings/local.py).

# Run with the settings `make run` uses, on a database and a static folder of its own: an
# out-of-scope member and an unknown address, then a stylesheet, as a browser would ask.
AS_MAKE_RUN_SERVES = """
import json

import django

django.setup()
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

from members.tests.factories import MemberFactory
from tongzhan.models import Area, User
from tongzhan.services import user_create

call_command("migrate", "--noinput", verbosity=0)
call_command("collectstatic", "--noinput", verbosity=0)
street = Area.objects.create(code="140106001", name="柳巷街道", level="street")
own, other = (
    Area.objects.create(code=code, name=name, level="community", parent=street)
    for code, name in [("140106001001", "桥东一社区"), ("140106001002", "五一二社区")]
)
user = user_create(actor=None, username="alice", password="Zx-9-test-password",
                   role=User.Role.COMMUNITY, area=own)
far = MemberFactory(name="李四", community=other)
client = Client(SERVER_NAME="127.0.0.1")
client.force_login(user)
answers = {}
for name, url in [("member", f"/members/{far.pk}/"), ("unknown", "/no-such-page/"),
                  ("css", static("css/app.css"))]:
    response = client.get(url)
    body = b"".join(response) if response.streaming else response.content
    answers[name] = {"status": response.status_code, "type": response.get("Content-Type", ""),
                     "body": body.decode("utf-8", "replace"), "url": url}
print(json.dumps(answers))
"""


def as_make_run(tmp_path, script, env=None):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in SECRETS and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "tongzhan.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "STATIC_ROOT": str(tmp_path / "static"),
            "LOCAL_KEYS_FILE": str(tmp_path / "keys.json"),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def make_dry_run(target):
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_serves_with_debug_off_and_make_dev_with_debug_on():
    run = make_dry_run("run")
    assert "DEBUG=1" not in run
    assert "DJANGO_DEBUG=0" in run
    assert "collectstatic" in run
    assert "runserver 127.0.0.1:8000" in run
    assert "DJANGO_DEBUG=1" in make_dry_run("dev")
    assert (
        "runserver 127.0.0.1:8001"
        in subprocess.run(
            ["make", "-n", "run", "PORT=8001"], cwd=ROOT, capture_output=True, text=True
        ).stdout
    )


def test_the_settings_make_run_uses_show_the_chinese_error_pages_and_serve_static_files(
    tmp_path,
):
    result = as_make_run(tmp_path, AS_MAKE_RUN_SERVES)
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for name in ("member", "unknown"):
        answer = answers[name]
        assert answer["status"] == 404
        assert "该页面不存在，或者不在您负责的区域内。" in answer["body"], answer["body"][:500]
        assert "Page not found" not in answer["body"]
        assert "URLconf" not in answer["body"]
        assert "DEBUG = True" not in answer["body"]
    css = answers["css"]
    # Collected under a name with its hash, as in production, and served by WhiteNoise.
    assert css["url"] != "/static/css/app.css"
    assert css["status"] == 200
    assert css["type"].startswith("text/css")
    assert ".topbar" in css["body"]


PRINT_KEYS = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps([settings.DEBUG, settings.SECRET_KEY, settings.FIELD_ENCRYPTION_KEYS,
                  settings.FIELD_HASH_KEY, settings.FIELD_SM4_KEYS, settings.AUDIT_CHAIN_KEY]))
"""


def test_make_run_keys_are_made_once_kept_private_and_the_environment_wins(tmp_path):
    def keys(env=None):
        result = as_make_run(tmp_path, PRINT_KEYS, env)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    debug, secret, encryption, hash_key, sm4, audit_key = first = keys()
    assert debug is False
    assert len(secret) >= 50 and "insecure" not in secret
    assert len(encryption) == 1 and encryption[0] and hash_key and audit_key
    assert len(sm4) == 1 and sm4[0].startswith("local1:")
    assert keys() == first  # a restart reads the same keys: the stored data stays readable
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600
    assert keys({"SECRET_KEY": "from-the-environment", "DJANGO_DEBUG": "1"})[:2] == [
        True,
        "from-the-environment",
    ]


def test_a_key_file_from_before_sm4_keeps_its_keys_and_gains_the_new_ones(tmp_path):
    older = {"SECRET_KEY": "s" * 50, "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
             "FIELD_HASH_KEY": "the-old-hash-key"}  # fmt: skip
    (tmp_path / "keys.json").write_text(json.dumps(older))
    result = as_make_run(tmp_path, PRINT_KEYS, None)
    assert result.returncode == 0, result.stderr[-3000:]
    _debug, secret, encryption, hash_key, sm4, audit_key = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert (secret, encryption, hash_key) == (
        older["SECRET_KEY"], [older["FIELD_ENCRYPTION_KEYS"]], older["FIELD_HASH_KEY"]
    )  # fmt: skip
    assert sm4[0].startswith("local1:") and audit_key
    kept = json.loads((tmp_path / "keys.json").read_text())
    assert kept["FIELD_SM4_KEYS"] == sm4[0]
