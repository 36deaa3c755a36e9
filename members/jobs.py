"""Roster imports in the background, as django-tasks tasks.

An upload becomes an `ImportJob`. The task `job_check` checks it (a dry run of
`roster_import`), the uploader reads the preview and confirms, the task `job_import`
imports it. The tasks run wherever the task backend runs them (settings.TASKS): in
`manage.py db_worker` processes on any number of machines (production), in a thread of the
embedded server (`make run`), or within the request that queued them (the test suite).

What users see is the job, never the task: its state, its progress bar, its report. A task
claims its job by moving it from queued to running, so a second task for the same job does
nothing; while it runs it holds the job's run lock (`_run_lock`), which goes when its process
or its connection dies. A running job whose run lock is free was abandoned: `jobs_recover`
(every worker when it starts and when the database comes back, and the job's progress page
as it polls) queues it again, once. The import itself runs in one transaction, so an
abandoned one wrote nothing.

The transaction keeps everything from other connections until it commits; its progress goes
out through a second connection (PostgreSQL) and, for the embedded server, through memory
shared with the web threads (SQLite allows one writer at a time).
"""

import contextlib
import datetime
import logging
import threading
import time
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tongzhan.audit import audit_record, client_ip
from tongzhan.bulk import insert_rows
from tongzhan.models import AuditEvent
from tongzhan.workers import worker_name

from .exports import refused_rows_bytes
from .imports import UnknownColumnsError, check_import_allowed, roster_import
from .models import ColumnMapping, ImportJob, ImportRow
from .roster import COLUMNS_BY_KEY
from .roster_reader import RosterFileError

logger = logging.getLogger(__name__)

State = ImportJob.State
PROGRESS_EVERY = 1.0
# Personal data is not kept longer than the work needs: a checked upload nobody confirms is
# dropped after UNCONFIRMED_DAYS, a file of refused rows after REFUSED_FILE_DAYS.
UNCONFIRMED_DAYS = 7
REFUSED_FILE_DAYS = 30

# job id → (done, total) while the job runs in this process.
_live_progress: dict[int, tuple[int, int]] = {}


# -- Writes on jobs ---------------------------------------------------------------------------


def job_create(
    *, actor, data: bytes, filename: str, community=None, strict=False, request=None
) -> ImportJob:
    """Queue an uploaded roster for checking."""
    check_import_allowed(actor, community)
    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=actor,
            area=actor.area if not actor.sees_everything else None,
            filename=filename[:200],
            data=data,
            community=community,
            strict=strict,
            uploaded_ip=client_ip(request),
            uploaded_request_id=getattr(request, "id", ""),
        )
        _audit(job, actor, "upload", request=request, size=len(data))
        _enqueue(job_check, job.pk)
    return job


def job_confirm(*, actor, job: ImportJob, request=None) -> None:
    """Queue a checked job for the import proper."""
    _check_owner(actor, job)
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, state=State.CHECKED).update(
            state=State.IMPORT_QUEUED,
            confirmed_at=timezone.now(),
            confirmed_ip=client_ip(request),
            confirmed_request_id=getattr(request, "id", ""),
        )
        if not updated:
            raise PermissionDenied
        _audit(job, actor, "confirm", request=request)
        _enqueue(job_import, job.pk)


def job_name_columns(*, actor, job: ImportJob, columns: dict[str, str], request=None) -> None:
    """Say what each unknown column of a job's file holds (a roster column key, or "" not to
    import it), and queue the job for checking with it.

    The answer is kept for the uploader, keyed by the file's set of headers, and offered for
    their next file with the same headers (`columns_offered`).
    """
    _check_owner(actor, job)
    unknown = list(job.unknown_columns)
    if job.state != State.MAPPING:
        raise PermissionDenied
    if sorted(columns) != sorted(unknown) or any(
        key and key not in COLUMNS_BY_KEY for key in columns.values()
    ):
        raise ValidationError(
            # 请为每一个无法识别的列选择它是信息库的哪一项，或选择不导入。
            _("Say for every unknown column which field it holds, or that it is not imported.")
        )
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, state=State.MAPPING).update(
            state=State.CHECK_QUEUED, columns={**job.columns, **columns}, unknown_columns=[]
        )
        if not updated:
            raise PermissionDenied
        saved, _created = ColumnMapping.objects.select_for_update().get_or_create(
            user_id=job.created_by_id, header_key=job.header_key
        )
        saved.columns = {**saved.columns, **columns}
        saved.save()
        _audit(job, actor, "columns", request=request, columns=columns)
        _enqueue(job_check, job.pk)


def columns_offered(job: ImportJob) -> dict[str, str]:
    """What the uploader said the same columns held last time, for the job's unknown ones."""
    saved = ColumnMapping.objects.filter(
        user_id=job.created_by_id, header_key=job.header_key
    ).first()
    if saved is None:
        return {}
    return {
        header: saved.columns[header] for header in job.unknown_columns if header in saved.columns
    }


def job_cancel(*, actor, job: ImportJob, request=None) -> None:
    """Drop a job that is not running; the uploaded file is deleted."""
    _check_owner(actor, job)
    updated = ImportJob.objects.filter(
        pk=job.pk,
        state__in=[State.MAPPING, State.CHECK_QUEUED, State.CHECKED, State.IMPORT_QUEUED],
    ).update(state=State.CANCELLED, data=None, finished_at=timezone.now())
    if not updated:
        raise PermissionDenied
    ImportRow.objects.filter(job=job).delete()
    _audit(job, actor, "cancel", request=request)


def _audit(job: ImportJob, actor, step: str, *, request=None, ip=None, request_id="", **detail):
    """One audit line per step of an import: upload, check, confirm, import, cancel."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.IMPORT,
        obj=job,
        request=request,
        ip=ip,
        request_id=request_id,
        detail={"step": step, "file": job.filename, **detail},
    )


def can_decide(user, job: ImportJob) -> bool:
    """Whether `user` may confirm or cancel `job`: its uploader, or an administrator."""
    return job.created_by_id == user.pk or user.sees_everything


def _check_owner(actor, job: ImportJob) -> None:
    if not can_decide(actor, job):
        raise PermissionDenied


def job_progress(job: ImportJob) -> tuple[int, int]:
    """(rows done, rows in all) of a job, from this process's memory while it runs here."""
    return _live_progress.get(job.pk, (job.done_rows, job.total_rows))


# -- Running jobs -----------------------------------------------------------------------------


@task()
def job_check(job_id: int) -> str:
    """Check a queued upload (a dry run of the import) for its preview."""
    return _run(job_id, State.CHECK_QUEUED, State.CHECKING)


@task()
def job_import(job_id: int) -> str:
    """Import a confirmed upload."""
    return _run(job_id, State.IMPORT_QUEUED, State.IMPORTING)


TASK_FOR = {State.CHECK_QUEUED: job_check, State.IMPORT_QUEUED: job_import}
QUEUED_AGAIN = {State.CHECKING: State.CHECK_QUEUED, State.IMPORTING: State.IMPORT_QUEUED}


def _enqueue(job_task, job_id: int) -> None:
    """Hand a queued job's task to the task backend.

    The database backend writes the task in the caller's transaction, so a worker sees the
    job and its task together or neither; the immediate one (the test suite) runs it here, as
    the request that queued it. Any other backend (a Redis queue) gets it once the
    transaction commits: its worker must not look for a job not yet there.
    """
    if isinstance(job_task.get_backend(), DatabaseBackend | ImmediateBackend):
        job_task.enqueue(job_id)
    else:
        transaction.on_commit(partial(job_task.enqueue, job_id))


def _run(job_id: int, queued: str, running: str) -> str:
    """Claim a job queued as `queued`, run it, and say what became of it."""
    with _run_lock(job_id) as held:
        if not held:
            return "running elsewhere"
        claimed = ImportJob.objects.filter(pk=job_id, state=queued).update(
            state=running,
            heartbeat=timezone.now(),
            worker=worker_name(),
            done_rows=0,
            total_rows=0,
        )
        if not claimed:
            return "not queued"  # cancelled meanwhile, or run by another task for it
        job = ImportJob.objects.get(pk=job_id)
        try:
            job_run(job)
            return job.state
        except DATABASE_LOST as error:
            lost = error
    # The database failed under the run (restarted, the connection cut): the import's
    # transaction went with it. Queued again at once if the database answers; if not, this
    # raises and the worker's sweep queues it once the database is back.
    if not connection.in_atomic_block:
        connection.close()
    jobs_recover([job_id])
    raise lost


# What the database raises when it goes away under a run, rather than for the file.
DATABASE_LOST = (OperationalError, InterfaceError)
# A job whose runs failed this many times with the database is not queued again.
MAX_FAILED_RUNS = 3

# A PostgreSQL advisory lock per job (the class number says "import job" among the locks).
_LOCK_CLASS = 15_001
# The jobs running in this process, for a database without advisory locks (SQLite, whose
# one worker is the embedded server's thread).
_running: set[int] = set()
_running_lock = threading.Lock()


@contextlib.contextmanager
def _run_lock(job_id: int):
    """Hold the run lock of a job while it runs; yields whether it was free.

    On PostgreSQL a session advisory lock, which the server releases when the session ends:
    a killed worker's lock goes with its connection. It is taken before the job is claimed,
    so a running job whose lock is free has no live run.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, _lock_key(job_id)])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                # A lost connection released it already.
                with contextlib.suppress(Exception), connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, _lock_key(job_id)]
                    )
        return
    with _running_lock:
        held = job_id not in _running
        _running.add(job_id)
    try:
        yield held
    finally:
        if held:
            with _running_lock:
                _running.discard(job_id)


def _lock_key(job_id: int) -> int:
    return job_id & 0x7FFFFFFF  # the lock's second key is a 32-bit integer


def _run_lock_free(job_id: int) -> bool:
    """Inside a transaction: whether no run holds the job's lock; if none does, the lock is
    kept until the transaction ends, so no run starts before the caller has committed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, _lock_key(job_id)]
            )
            return cursor.fetchone()[0]
    with _running_lock:
        return job_id not in _running


def jobs_recover(job_ids=None) -> int:
    """Queue again the jobs whose run was abandoned; return how many.

    A running job whose run lock is free lost its worker (killed, or cut off from the
    database): its transaction rolled back, so it goes back to the queue it came from and a
    new task is enqueued for it. With the database backend, a queued job whose task is gone
    (its worker died before claiming it, or it was queued before the tasks existed) gets a
    new one. Safe to call anywhere and at any time: each job is recovered once, by whichever
    caller holds its lock first. `job_ids` limits the look to those jobs.
    """
    jobs = ImportJob.objects.filter(state__in=ImportJob.RUNNING + ImportJob.QUEUED)
    if job_ids is not None:
        jobs = jobs.filter(pk__in=job_ids)
    return sum(_recover(job_id) for job_id in jobs.values_list("pk", flat=True))


def _recover(job_id: int) -> int:
    # A first look that writes nothing: on SQLite a transaction that may write waits for the
    # write lock, which a running import holds until it commits, and the page polling the
    # job's progress must not wait for it.
    state = ImportJob.objects.filter(pk=job_id).values_list("state", flat=True).first()
    if state in ImportJob.QUEUED and _task_waiting(job_id, state):
        return 0
    if state in ImportJob.RUNNING and connection.vendor != "postgresql" and job_id in _running:
        return 0
    with transaction.atomic():
        if not _run_lock_free(job_id):
            return 0  # running, or being recovered by someone else
        job = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, state__in=ImportJob.RUNNING + ImportJob.QUEUED)
            .only("state")
            .first()
        )
        if job is None:
            return 0
        if job.state in ImportJob.QUEUED:
            if _task_waiting(job_id, job.state):
                return 0
            queued = job.state
        else:
            _tasks_abandoned(job_id)
            if _failed_runs(job_id) >= MAX_FAILED_RUNS:
                # Not a worker's bad luck but something in the job or the database itself.
                logger.error(
                    "Roster import job %s failed %s times: given up", job_id, MAX_FAILED_RUNS
                )
                ImportJob.objects.filter(pk=job_id).update(
                    state=State.FAILED,
                    heartbeat=None,
                    data=None,
                    finished_at=timezone.now(),
                    error=_system_error(job_id),
                )
                return 1
            queued = QUEUED_AGAIN[job.state]
            ImportJob.objects.filter(pk=job_id).update(
                state=queued, heartbeat=None, done_rows=0, total_rows=0
            )
        logger.warning("Roster import job %s was abandoned by its worker: queued again", job_id)
        _enqueue(TASK_FOR[queued], job_id)
    return 1


def _failed_runs(job_id: int) -> int:
    """How many of a job's tasks failed (died, or lost the database); none is known for a
    backend whose results cannot be looked into."""
    if not isinstance(job_check.get_backend(), DatabaseBackend):
        return 0
    return DBTaskResult.objects.filter(
        task_path__in=_task_paths(), args_kwargs__args__0=job_id, status=TaskResultStatus.FAILED
    ).count()


def _system_error(job_id: int) -> str:
    return _(
        "The import stopped because of an error in the system; nothing was written. "
        "Try again later, or tell the administrator (import number %(id)s)."
    ) % {"id": job_id}


def _task_paths() -> list[str]:
    return [job_check.module_path, job_import.module_path]


def _task_waiting(job_id: int, state: str) -> bool:
    """Whether a job queued as `state` has a task ready to run it (always, for a backend
    whose queue cannot be looked into)."""
    if not isinstance(TASK_FOR[state].get_backend(), DatabaseBackend):
        return True
    return DBTaskResult.objects.filter(
        task_path__in=_task_paths(),
        args_kwargs__args__0=job_id,
        status=TaskResultStatus.READY,
    ).exists()


def _tasks_abandoned(job_id: int) -> None:
    """Mark the tasks of an abandoned run failed: they would show as running for ever."""
    if not isinstance(job_check.get_backend(), DatabaseBackend):
        return
    DBTaskResult.objects.filter(
        task_path__in=_task_paths(), args_kwargs__args__0=job_id, status=TaskResultStatus.RUNNING
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        return_value=None,
        exception_class_path="",
        traceback="Abandoned: its worker stopped before the job finished; queued again.",
    )


def job_run(job: ImportJob) -> None:
    """Check or import a claimed job and record the outcome on it."""
    checking = job.state == State.CHECKING
    progress = _Progress(job)
    data = bytes(job.data)
    # The lines written from here carry the address and request id of the upload (the check)
    # or of the confirmation (the import), which asked for this work.
    if checking:
        origin = {"ip": job.uploaded_ip, "request_id": job.uploaded_request_id}
    else:
        origin = {"ip": job.confirmed_ip, "request_id": job.confirmed_request_id}
    try:
        report = roster_import(
            actor=job.created_by,
            data=data,
            filename=job.filename,
            community=job.community,
            strict=job.strict,
            dry_run=checking,
            progress=progress,
            audit_object=job,
            audit_origin=origin,
            outcomes=_RowKeeper(job),
            columns=job.columns,
        )
    except UnknownColumnsError as error:
        # Before anything is checked: the uploader says what the columns hold, then it runs.
        job.unknown_columns = error.unknown
        job.header_key = error.key
        if checking:
            _finish(job, State.MAPPING)
        else:
            _finish(job, State.FAILED, error=error.message)
    except RosterFileError as error:
        _finish(job, State.FAILED, error=error.message)
    except PermissionDenied:
        _finish(
            job,
            State.FAILED,
            error=_("You may no longer import into this area; nothing was written."),
        )
    except DATABASE_LOST:
        raise  # not the file's fault: the run is tried again (_run)
    except Exception:
        logger.exception("Roster import job %s failed", job.pk)
        _finish(job, State.FAILED, error=_system_error(job.pk))
    else:
        outcome = _report_dict(report)
        job.refused_file = refused_rows_bytes(data, job.filename, report.refused) or None
        if checking:
            job.check_report = outcome
            with transaction.atomic():
                _finish(job, State.CHECKED)
                # What the preview shows its uploader, who learns from it which ID numbers
                # are registered (and whether outside their area).
                _audit(
                    job,
                    job.created_by,
                    "check",
                    **origin,
                    created=report.created,
                    updated=report.updated,
                    unchanged=report.unchanged,
                    refused=len(report.refused),
                )
        else:
            job.report = outcome
            _finish(job, State.DONE if report.written else State.NOTHING_WRITTEN)
    finally:
        progress.close()
        _live_progress.pop(job.pk, None)


def jobs_expire() -> None:
    """Delete uploaded files and refused rows that have been kept long enough."""
    now = timezone.now()
    unconfirmed = ImportJob.objects.filter(
        state__in=[State.CHECKED, State.MAPPING],
        created_at__lt=now - datetime.timedelta(days=UNCONFIRMED_DAYS),
    )
    ImportRow.objects.filter(job__in=unconfirmed).delete()
    unconfirmed.update(
        state=State.CANCELLED,
        data=None,
        finished_at=now,
        error=_("Not confirmed within %(days)s days: cancelled, and the file deleted.")
        % {"days": UNCONFIRMED_DAYS},
    )
    kept_long = now - datetime.timedelta(days=REFUSED_FILE_DAYS)
    ImportJob.objects.filter(refused_file__isnull=False, finished_at__lt=kept_long).update(
        refused_file=None
    )
    # Who was refused goes with the file; the members an import wrote stay linked to it.
    ImportRow.objects.filter(
        job__finished_at__lt=kept_long,
        kind__in=[ImportRow.Kind.REFUSED, ImportRow.Kind.UNCHANGED],
    ).delete()


def _report_dict(report) -> dict:
    """Counts only: the rows themselves are `ImportRow`s, so the report stays the same few
    bytes however large the file."""
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "nominated": report.nominated,
        "not_informed": report.not_informed,
        "refused_count": len(report.refused),
        "refused_rows": len({error.row for error in report.refused}),
        "written": report.written,
    }


class _RowKeeper:
    """Keeps what a check or import does with each row as the job's `ImportRow`s.

    It writes in the run's transaction: the import's rows replace the check's when it
    commits, and a run that fails or writes nothing leaves the check's rows as they were.
    """

    COLUMNS = ["job_id", "row", "kind", "member_id", "name", "id_number_masked", "community"]

    def __init__(self, job: ImportJob):
        self.job = job
        self.started = False

    def __call__(self, outcomes) -> None:
        if not self.started:
            self.started = True
            ImportRow.objects.filter(job=self.job).delete()
        job_id = self.job.pk
        insert_rows(
            ImportRow,
            [*self.COLUMNS, "detail"],
            [
                (job_id, o.row, o.kind, o.member_id, o.name, o.id_number_masked, o.community,
                 o.detail)
                for o in outcomes
            ],
        )  # fmt: skip


def _finish(job: ImportJob, state: str, *, error: str = "") -> None:
    job.state = state
    job.error = error
    job.heartbeat = None
    job.done_rows = job.total_rows
    if state not in (State.CHECKED, State.MAPPING):
        job.data = None
        job.finished_at = timezone.now()
    job.save()


class _Progress:
    """Tells others how far a job is while its transaction keeps everything else unseen.

    Not through a second connection when the run is nested in its caller's transaction (the
    immediate backend of the test suite): that transaction may hold the job's row, which the
    second connection would wait for, and nobody outside could see the job anyway.
    """

    def __init__(self, job: ImportJob):
        self.job = job
        self.last = 0.0
        self.side = None
        self.outside = connection.vendor == "postgresql" and not connection.in_atomic_block

    def __call__(self, done: int, total: int) -> None:
        self.job.done_rows, self.job.total_rows = done, total
        _live_progress[self.job.pk] = (done, total)
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY or not self.outside:
            return
        self.last = now
        if self.side is None:
            self.side = connections[DEFAULT_DB_ALIAS].copy()
        with self.side.cursor() as cursor:
            # Autocommit on its own connection: seen at once by the page polling the job.
            cursor.execute(
                "UPDATE members_importjob SET done_rows = %s, total_rows = %s, heartbeat = %s "
                "WHERE id = %s",
                [done, total, timezone.now(), self.job.pk],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
