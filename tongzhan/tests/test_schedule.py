"""Periodic jobs: registered by each app, enqueued when due, once across runners."""

import datetime
import io
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks.signals import task_finished
from django_tasks_db.models import DBTaskResult

from tongzhan import schedule
from tongzhan.models import ScheduledJob

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def registry(monkeypatch):
    """An empty registry in place of the project's, for the test's own jobs."""
    monkeypatch.setattr(schedule, "_periodic", {})
    return schedule._periodic


@pytest.fixture
def finished():
    """The periodic jobs run by a task, by name, as the task backend reports them."""
    names = []

    def receiver(sender, task_result, **kwargs):
        if task_result.task.func is schedule.periodic_run.func:
            names.append(task_result.args[0])

    task_finished.connect(receiver)
    yield names
    task_finished.disconnect(receiver)


def local(day, hour, minute=0):
    return timezone.make_aware(datetime.datetime(2026, 3, day, hour, minute))


def test_each_app_registers_its_periodic_jobs():
    jobs = {job.name: job for job in schedule.periodic_jobs()}
    assert set(jobs) >= {
        "members.jobs_expire",
        "dashboards.tallies_check",
        "tongzhan.task_results_prune",
    }
    assert jobs["members.jobs_expire"].every == HOUR
    assert jobs["dashboards.tallies_check"].at == datetime.time(2, 30)


def test_a_job_has_an_interval_or_a_daily_time_and_one_name(registry):
    with pytest.raises(ImproperlyConfigured):
        schedule.periodic_register("both", print, every=HOUR, at=datetime.time(1))
    with pytest.raises(ImproperlyConfigured):
        schedule.periodic_register("neither", print)
    schedule.periodic_register("one", print, every=HOUR)
    schedule.periodic_register("one", print, every=HOUR)  # AppConfig.ready run again
    with pytest.raises(ImproperlyConfigured):
        schedule.periodic_register("one", len, every=HOUR)


def test_an_interval_job_runs_at_once_then_when_its_interval_has_passed(registry, finished):
    calls = []
    schedule.periodic_register("test.count", lambda: calls.append(1), every=HOUR)
    start = local(2, 10)
    assert "test.count" in schedule.schedule_run_due(now=start)
    assert schedule.schedule_run_due(now=start) == []  # triggered twice: ran once
    assert schedule.schedule_run_due(now=start + datetime.timedelta(minutes=59)) == []
    assert schedule.schedule_run_due(now=start + datetime.timedelta(minutes=61)) == ["test.count"]
    assert len(calls) == 2 and finished.count("test.count") == 2
    row = ScheduledJob.objects.get(name="test.count")
    assert row.last_run_at == start + datetime.timedelta(minutes=61)
    assert row.due_at == start + datetime.timedelta(minutes=121)
    assert row.last_task_id


def test_a_daily_job_runs_at_its_local_time_and_missed_days_run_once(registry):
    calls = []
    schedule.periodic_register("test.daily", lambda: calls.append(1), at=datetime.time(3, 20))
    assert schedule.schedule_run_due(now=local(2, 2)) == []  # first due 03:20 that night
    assert ScheduledJob.objects.get(name="test.daily").due_at == local(2, 3, 20)
    assert schedule.schedule_run_due(now=local(2, 3, 19)) == []
    assert schedule.schedule_run_due(now=local(2, 3, 21)) == ["test.daily"]
    assert ScheduledJob.objects.get(name="test.daily").due_at == local(3, 3, 20)
    # Runners stopped for three days: one run when they are back, not three.
    assert schedule.schedule_run_due(now=local(6, 9)) == ["test.daily"]
    assert schedule.schedule_run_due(now=local(6, 9, 5)) == []
    assert len(calls) == 2
    assert ScheduledJob.objects.get(name="test.daily").due_at == local(7, 3, 20)


def test_a_failing_job_is_still_counted_as_run_and_the_others_run(registry, finished):
    def broken():
        raise RuntimeError("broken")

    schedule.periodic_register("test.broken", broken, every=HOUR)
    schedule.periodic_register("test.fine", lambda: None, every=HOUR)
    now = timezone.now()
    assert schedule.schedule_run_due(now=now) == ["test.broken", "test.fine"]
    assert finished == ["test.broken", "test.fine"]
    assert ScheduledJob.objects.get(name="test.broken").due_at == now + HOUR


def test_run_schedule_enqueues_what_is_due_and_lists_the_jobs(registry):
    calls = []
    schedule.periodic_register("test.command", lambda: calls.append(1), every=HOUR)
    out = io.StringIO()
    call_command("run_schedule", stdout=out)
    call_command("run_schedule", stdout=out)
    assert out.getvalue().count("enqueued test.command") == 1 and calls == [1]
    listed = io.StringIO()
    call_command("run_schedule", "--list", stdout=listed)
    assert listed.getvalue().startswith("test.command: every 1:00:00; last run 20")


def test_old_task_results_are_pruned(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    now = timezone.now()
    for days, status in ((15, "SUCCESSFUL"), (15, "FAILED"), (13, "SUCCESSFUL"), (15, "READY")):
        result = schedule.periodic_run.enqueue("nothing")
        DBTaskResult.objects.filter(id=result.id).update(
            status=status,
            finished_at=None if status == "READY" else now - datetime.timedelta(days=days),
        )
    assert schedule.task_results_prune() == 2
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == [
        "READY",
        "SUCCESSFUL",
    ]


def test_expired_sessions_and_old_login_records_are_deleted(settings, client, community_user):
    from axes.models import AccessFailureLog, AccessLog
    from django.contrib.sessions.models import Session

    jobs = {job.name: job for job in schedule.periodic_jobs()}
    assert jobs["tongzhan.sessions_clear"].at and jobs["tongzhan.login_records_prune"].at
    client.force_login(community_user)
    live = Session.objects.get()
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=timezone.now() - HOUR)
    now = timezone.now()
    for days in (181, 179):
        for model in (AccessLog, AccessFailureLog):
            row = model.objects.create(
                username="alice", ip_address="10.0.0.1", user_agent="手机浏览器",
                **({"locked_out": False} if model is AccessFailureLog else {}),
            )  # fmt: skip
            model.objects.filter(pk=row.pk).update(attempt_time=now - datetime.timedelta(days=days))
    schedule.sessions_clear()
    assert list(Session.objects.all()) == [live]
    assert schedule.login_records_prune() == 2
    # The 179 days old ones stay, and the login just made.
    assert AccessFailureLog.objects.count() == 1
    assert AccessLog.objects.filter(ip_address="10.0.0.1").count() == 1


# Committed for real: each runner has its own connection, as on two machines.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_runners_on_two_machines_at_once_enqueue_a_due_job_once(registry, settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write at a time anyway")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    schedule.periodic_register("test.once", print, every=HOUR)
    now = timezone.now()
    ScheduledJob.objects.create(name="test.once", due_at=now)
    start, enqueued, errors = threading.Barrier(4), [], []

    def runner():
        try:
            start.wait(10)
            enqueued.extend(schedule.schedule_run_due(now=now))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert enqueued == ["test.once"]
    assert DBTaskResult.objects.filter(args_kwargs__args=["test.once"]).count() == 1
    assert ScheduledJob.objects.get(name="test.once").last_task_id == str(
        DBTaskResult.objects.get().id
    )


def test_a_job_queued_by_an_older_release_and_gone_from_this_one_is_skipped(registry, caplog):
    result = schedule.periodic_run.enqueue("gone.job")
    assert result.status == "SUCCESSFUL"
    assert "Periodic job gone.job is not registered here" in caplog.text
