"""Faults: a worker killed in the middle of an import leaves nothing half written, and the
import runs again to the end; PostgreSQL restarted under the running application."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from members import jobs
from members.models import ImportJob, Member
from members.tests.test_imports import person, roster

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(django_settings.BASE_DIR)
ROWS = 12_000  # six chunks of 2,000: time to see the first one pass, then kill


def worker_environment() -> dict:
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
        f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tongzhan.settings.test",
        "IMPORT_JOBS_RUN": "worker",
    }


def test_a_worker_killed_half_way_writes_nothing_and_the_import_runs_again(
    areas, district_user, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("workers run against PostgreSQL")
    settings.IMPORT_JOBS_RUN = "worker"
    data = roster(*[person(f"陈{index}") for index in range(ROWS)])
    job = jobs.job_create(actor=district_user, data=data, filename="大花名册.xlsx")
    env = worker_environment()
    command = [sys.executable, str(ROOT / "manage.py"), "import_worker", "--once"]
    subprocess.run(command, env=env, check=True, timeout=300, capture_output=True)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED, job.state
    jobs.job_confirm(actor=district_user, job=job)

    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == ImportJob.State.IMPORTING and job.done_rows and job.done_rows < ROWS:
            break
        assert worker.poll() is None, "the worker finished before it could be stopped"
        time.sleep(0.02)
    else:
        pytest.fail("the import never started")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)

    # Rows of the passed chunks were written inside the import's transaction: all gone.
    assert Member.objects.count() == 0
    job.refresh_from_db()
    assert job.state == ImportJob.State.IMPORTING  # abandoned, its heartbeat stops

    # Once its heartbeat is older than STALE_AFTER, any worker takes it up again.
    stale = timezone.now() - datetime.timedelta(seconds=jobs.STALE_AFTER + 1)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat=stale)
    subprocess.run(command, env=env, check=True, timeout=300, capture_output=True)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert Member.objects.count() == ROWS


def _cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast"]
        if action == "stop"
        else ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        timeout=60,
        capture_output=True,
    )
    if action == "start":
        for _ in range(60):
            if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError("PostgreSQL did not come back")


def test_requests_fail_cleanly_while_postgresql_restarts_and_recover_without_a_restart(
    client, community_user, member
):
    """The application keeps running while the database goes away and comes back: requests
    meanwhile get the Chinese error page (the health check 503), and the next ones after the
    restart succeed on new connections."""
    if connection.vendor != "postgresql":
        pytest.skip("the production database is PostgreSQL")
    if not os.path.isdir("/etc/postgresql") or os.geteuid() != 0:
        pytest.skip("needs the local Debian cluster and root to restart it")
    from django.test import Client

    balancer = Client(raise_request_exception=False)  # the load balancer sends no cookie
    client.force_login(community_user)
    client.raise_request_exception = False
    assert client.get("/members/").status_code == 200
    _cluster("stop")
    try:
        down = client.get("/members/")
        assert down.status_code == 500 and "出错了" in down.content.decode()
        assert balancer.get("/health/").status_code == 503
    finally:
        _cluster("start")
        connection.close()  # the test's own connection died with the server, as the app's did
    assert balancer.get("/health/").status_code == 200
    page = client.get("/members/")
    assert page.status_code == 200 and member.name in page.content.decode()
