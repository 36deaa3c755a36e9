"""Faults: a worker killed in the middle of an import leaves nothing half written, and the
import runs again to the end."""

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
    areas, street_user, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("workers run against PostgreSQL")
    settings.IMPORT_JOBS_RUN = "worker"
    data = roster(*[person(f"陈{index}") for index in range(ROWS)])
    job = jobs.job_create(actor=street_user, data=data, filename="大花名册.xlsx")
    env = worker_environment()
    command = [sys.executable, str(ROOT / "manage.py"), "import_worker", "--once"]
    subprocess.run(command, env=env, check=True, timeout=300, capture_output=True)
    job.refresh_from_db()
    assert job.state == ImportJob.State.CHECKED, job.state
    jobs.job_confirm(actor=street_user, job=job)

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
