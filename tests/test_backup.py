"""Backup and restore as deploy/README.md documents it: pg_dump, then pg_restore into an
empty database, and every member, activity and history row is there."""

import datetime
import os
import shutil
import subprocess

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from members import services as member_services
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TABLES = [
    "members_member",
    "members_membercategory",
    "members_memberchange",
    "members_membertally",
    "activities_activity",
    "activities_participation",
    "activities_visit",
    "activities_need",
    "activities_activitychange",
    "tongzhan_auditevent",
]


def _counts(**conninfo) -> dict:
    with psycopg.connect(**conninfo) as database, database.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (names above)
            counts[table] = cursor.fetchone()[0]
        cursor.execute("SELECT array_agg(id_number_hash ORDER BY id) FROM members_member")
        counts["people"] = cursor.fetchone()[0]
        return counts


def test_a_dump_restores_into_an_empty_database_with_every_row(areas, community_user, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("backups are of the production database, PostgreSQL")
    if not shutil.which("pg_dump"):
        pytest.fail("pg_dump is missing: install postgresql-client")
    members = [MemberFactory(community=areas["140106001001"]) for _ in range(5)]
    member_services.member_update(actor=None, member=members[0], data={"address": "迎泽大街1号"})
    activity_services.activity_create(
        actor=community_user,
        data={"type": ActivityType.objects.get(code="training"), "title": "学习会",
              "starts_at": timezone.now(), "area": areas["140106001001"]},
        participants=members[:3],
    )  # fmt: skip
    activity_services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": datetime.date.today(),
              "staff": "王丽", "way": "home"},
        members=[members[0]],
        need={"kind": "employment", "description": "找工作"},
    )  # fmt: skip

    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    common = ["-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432),
              "-U", settings["USER"]]  # fmt: skip
    dump = tmp_path / "tongzhan.dump"
    subprocess.run(
        ["pg_dump", *common, "--format=custom", f"--file={dump}", settings["NAME"]],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    restored = f"{settings['NAME']}_restored"
    subprocess.run(["dropdb", *common, "--if-exists", restored], check=True, env=env)
    subprocess.run(["createdb", *common, restored], check=True, env=env)
    try:
        subprocess.run(
            ["pg_restore", *common, "--no-owner", f"--dbname={restored}", str(dump)],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        conninfo = {"host": common[1], "port": common[3], "user": common[5]}
        if settings.get("PASSWORD"):
            conninfo["password"] = settings["PASSWORD"]
        original = _counts(**conninfo, dbname=settings["NAME"])
        copy = _counts(**conninfo, dbname=restored)
        assert copy == original
        assert original["members_member"] == 5 and original["activities_participation"] == 3
        assert original["members_memberchange"] == 6 and original["activities_need"] == 1
    finally:
        subprocess.run(["dropdb", *common, "--if-exists", restored], env=env)
