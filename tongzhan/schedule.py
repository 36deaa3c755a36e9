"""Periodic work: what runs on its own every so often, and the runner that enqueues it.

django-tasks runs tasks but schedules none. Each app registers its periodic jobs here in its
`AppConfig.ready` (`periodic_register`), so the kernel names no app. A runner,
`schedule_run_due()`, enqueues the jobs that are due as django-tasks tasks; `manage.py
run_schedule` calls it, from a systemd timer in production and beside the embedded server in
`make run`.

Once across machines: each job has a `ScheduledJob` row whose `due_at` the runner moves on
in one conditional UPDATE (`… WHERE due_at <= now`) before it enqueues; a second runner at
the same moment finds the row moved and enqueues nothing. With the database backend the
claim and the queued task commit together, so a runner killed between them leaves neither.
"""

import dataclasses
import datetime
import logging
from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from .models import ScheduledJob

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Periodic:
    """A job that runs every `every`, or daily at `at` (local time)."""

    name: str
    job: Callable[[], object] | Task
    every: datetime.timedelta | None = None
    at: datetime.time | None = None

    def next_due(self, now: datetime.datetime) -> datetime.datetime:
        """When it is due next after a run at `now`; runs missed meanwhile are not made up."""
        if self.every is not None:
            return now + self.every
        today = timezone.localdate(now)
        due = timezone.make_aware(datetime.datetime.combine(today, self.at))
        if due <= now:
            due = timezone.make_aware(
                datetime.datetime.combine(today + datetime.timedelta(days=1), self.at)
            )
        return due

    def first_due(self, now: datetime.datetime) -> datetime.datetime:
        """A new interval job runs at once; a daily one at its next time."""
        return now if self.every is not None else self.next_due(now)


_periodic: dict[str, Periodic] = {}


def periodic_register(
    name: str,
    job: Callable[[], object] | Task,
    *,
    every: datetime.timedelta | None = None,
    at: datetime.time | None = None,
) -> None:
    """Run `job` (a function taking no argument, or a django-tasks task) every `every` or
    daily at `at`. Called from an app's `AppConfig.ready`."""
    if (every is None) == (at is None):
        raise ImproperlyConfigured(f"Periodic job {name}: give either every or at.")
    periodic = Periodic(name=name, job=job, every=every, at=at)
    if _periodic.get(name, periodic) != periodic:
        raise ImproperlyConfigured(f"Periodic job {name} is registered twice.")
    _periodic[name] = periodic


def periodic_jobs() -> list[Periodic]:
    """The registered jobs, by name."""
    return [_periodic[name] for name in sorted(_periodic)]


@task()
def periodic_run(name: str) -> None:
    """The task a periodic function runs in: looked up by name in the worker's registry."""
    periodic = _periodic.get(name)
    if periodic is None:  # enqueued by a release that had it, run by one that has not
        logger.warning("Periodic job %s is not registered here; not run", name)
        return
    periodic.job()


def schedule_run_due(*, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every registered job that is due, each once however many runners call this at
    the same moment; return the names enqueued."""
    now = now or timezone.now()
    jobs = periodic_jobs()
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    ScheduledJob.objects.bulk_create(
        [ScheduledJob(name=p.name, due_at=p.first_due(now)) for p in jobs if p.name not in known],
        ignore_conflicts=True,  # another runner created it first
    )
    enqueued = []
    for periodic in jobs:
        if isinstance(periodic.job, Task):
            work, args = periodic.job, ()
        else:
            work, args = periodic_run, (periodic.name,)
        # A queue in this database takes the task in the claim's transaction; another queue
        # (or the immediate backend) after it commits, so a failing job cannot undo the claim.
        together = isinstance(work.get_backend(), DatabaseBackend)
        with transaction.atomic():
            claimed = ScheduledJob.objects.filter(name=periodic.name, due_at__lte=now).update(
                due_at=periodic.next_due(now), last_run_at=now
            )
            result = work.enqueue(*args) if claimed and together else None
        if claimed and not together:
            result = work.enqueue(*args)
        if claimed:
            ScheduledJob.objects.filter(name=periodic.name).update(last_task_id=str(result.id)[:64])
            logger.info("Periodic job %s enqueued as task %s", periodic.name, result.id)
            enqueued.append(periodic.name)
    return enqueued


def sessions_clear() -> None:
    """Delete the expired sessions (as `manage.py clearsessions`): a row outlives its session,
    which ends after SESSION_IDLE_SECONDS idle or SESSION_ABSOLUTE_SECONDS."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()


def login_records_prune() -> int:
    """Delete the login records and failures older than LOGIN_RECORDS_KEEP_DAYS (their user
    names, addresses and browsers); the lockouts themselves end with AXES_COOLOFF_TIME."""
    from axes.models import AccessFailureLog, AccessLog

    cutoff = timezone.now() - datetime.timedelta(days=settings.LOGIN_RECORDS_KEEP_DAYS)
    deleted = AccessLog.objects.filter(attempt_time__lte=cutoff).delete()[0]
    deleted += AccessFailureLog.objects.filter(attempt_time__lte=cutoff).delete()[0]
    return deleted


def task_results_prune() -> int:
    """Delete the results of background tasks finished `TASK_RESULTS_KEEP_DAYS` ago or
    more (as django-tasks-db's `prune_db_task_results`, for every queue); return how many."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    deleted, _by_model = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    if deleted:
        logger.info("Deleted %s task results finished before %s", deleted, cutoff)
    return deleted
