"""Faults: a worker killed in the middle of an import leaves nothing half written, and the
import is taken up again to the end; PostgreSQL restarted under a running worker, which
stays up and finishes the import; PostgreSQL restarted under the running application."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from members import jobs
from members.models import ImportJob, Member
from members.tests.test_imports import person, roster

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(django_settings.BASE_DIR)
ROWS = 12_000  # six chunks of 2,000: time to see the first one pass, then kill
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


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
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }


def db_worker(*arguments: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "manage.py"),
        "db_worker",
        "--no-startup-delay",
        "--interval=0.2",
        *arguments,
    ]


def wait_until_importing(job: ImportJob, worker: subprocess.Popen) -> None:
    """Until the worker is half-way through the import: a chunk passed, not the last."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == ImportJob.State.IMPORTING and job.done_rows and job.done_rows < ROWS:
            return
        assert worker.poll() is None, "the worker finished before it could be stopped"
        time.sleep(0.02)
    pytest.fail("the import never started")


def wait_until_run_lock_released(job: ImportJob) -> None:
    """Until PostgreSQL has seen the killed worker's connection close (at once, in practice),
    which releases the job's run lock."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND classid = %s AND objid = %s",
                [jobs._LOCK_CLASS, job.pk],
            )
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.1)
    pytest.fail("the killed worker's session still holds the job")


def checked_job(district_user, env) -> ImportJob:
    """A large upload, checked by a worker and confirmed, its import queued."""
    data = roster(*[person(f"陈{index}") for index in range(ROWS)])
    job = jobs.job_create(actor=district_user, data=data, filename="大花名册.xlsx")
    subprocess.run(db_worker("--batch"), env=env, check=True, timeout=300, capture_output=True)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED, job.state
    jobs.job_confirm(actor=district_user, job=job)
    return job


def test_a_worker_killed_half_way_writes_nothing_and_the_import_is_taken_up_again(
    areas, district_user, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("workers run against PostgreSQL")
    settings.TASKS = DATABASE_TASKS
    env = worker_environment()
    job = checked_job(district_user, env)

    worker = subprocess.Popen(
        db_worker(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_until_importing(job, worker)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    wait_until_run_lock_released(job)

    # Rows of the passed chunks were written inside the import's transaction: all gone.
    assert Member.objects.count() == 0
    job.refresh_from_db()
    assert job.state == ImportJob.State.IMPORTING  # abandoned, as its task
    assert DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count() == 1

    # The next worker to start sees that no live run holds the job, queues it again, once,
    # and runs it to the end.
    subprocess.run(db_worker("--batch"), env=env, check=True, timeout=300, capture_output=True)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE
    assert Member.objects.count() == ROWS
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()
    assert DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count() == 1  # the dead


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


def test_a_worker_outlives_a_postgresql_restart_and_finishes_the_import(
    areas, district_user, settings, tmp_path
):
    """PostgreSQL restarts in the middle of an import: the import's transaction is lost with
    the server, the worker waits for the database instead of stopping, and once it is back
    queues the job again and imports it to the end."""
    if connection.vendor != "postgresql":
        pytest.skip("workers run against PostgreSQL")
    if not os.path.isdir("/etc/postgresql") or os.geteuid() != 0:
        pytest.skip("needs the local Debian cluster and root to restart it")
    settings.TASKS = DATABASE_TASKS
    env = worker_environment()
    job = checked_job(district_user, env)

    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        db_worker(), env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )
    try:
        wait_until_importing(job, worker)
        _cluster("stop")
        try:
            time.sleep(2)
            assert worker.poll() is None, "the worker stopped with the database"
        finally:
            _cluster("start")
            connection.close()  # the test's own connection died with the server
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.state == ImportJob.State.DONE:
                break
            assert worker.poll() is None, log.read_text()[-2000:]
            time.sleep(0.5)
        else:
            pytest.fail(f"the import did not finish after the restart: {job.state}")
        assert Member.objects.count() == ROWS
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


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
