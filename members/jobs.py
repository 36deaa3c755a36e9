"""Roster imports in the background: a queue in the database, workers that take from it.

An upload becomes an `ImportJob`. A worker checks it (a dry run of `roster_import`), the
uploader reads the preview and confirms, a worker imports it. Where the work runs is
`settings.IMPORT_JOBS_RUN`:

- "thread": a thread in the web process runs queued jobs (the embedded `make run`; one
  process, no extra service);
- "worker": `manage.py import_worker` processes, on as many machines as needed, take jobs
  with `SELECT … FOR UPDATE SKIP LOCKED`, so each job runs once;
- "inline": in the request that queued it (the test suite).

The import itself runs in one transaction, which other connections cannot look into; its
progress goes out through a second connection (PostgreSQL) and, for the embedded server,
through memory shared with the web threads (SQLite allows one writer at a time).
"""

import datetime
import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tongzhan.audit import audit_record, client_ip
from tongzhan.bulk import insert_rows
from tongzhan.models import AuditEvent

from .exports import refused_rows_bytes
from .imports import UnknownColumnsError, check_import_allowed, roster_import
from .models import ColumnMapping, ImportJob, ImportRow
from .roster import COLUMNS_BY_KEY
from .roster_reader import RosterFileError

logger = logging.getLogger(__name__)

State = ImportJob.State
# A running job whose worker has not reported for this long is taken to be abandoned (the
# worker died; its transaction rolled back) and is queued again.
STALE_AFTER = 300
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
    _queued()
    return job


def job_confirm(*, actor, job: ImportJob, request=None) -> None:
    """Queue a checked job for the import proper."""
    _check_owner(actor, job)
    updated = ImportJob.objects.filter(pk=job.pk, state=State.CHECKED).update(
        state=State.IMPORT_QUEUED,
        confirmed_at=timezone.now(),
        confirmed_ip=client_ip(request),
        confirmed_request_id=getattr(request, "id", ""),
    )
    if not updated:
        raise PermissionDenied
    _audit(job, actor, "confirm", request=request)
    _queued()


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
    _queued()


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


def _queued() -> None:
    """A job was queued: see that it gets run, the way `IMPORT_JOBS_RUN` says."""
    mode = settings.IMPORT_JOBS_RUN
    if mode == "inline":
        run_pending()
    elif mode == "thread":
        # Once committed, so the thread's own connection sees the job.
        transaction.on_commit(_wake_thread)
    # "worker": import_worker processes poll the queue.


def job_claim(worker: str) -> ImportJob | None:
    """Take the oldest queued (or abandoned) job and mark it running for `worker`."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=STALE_AFTER)
    waiting = Q(state__in=ImportJob.QUEUED) | Q(state__in=ImportJob.RUNNING, heartbeat__lt=stale)
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(waiting)
            .order_by("created_at", "pk")
            .first()
        )
        if job is None:
            return None
        checking = job.state in (State.CHECK_QUEUED, State.CHECKING)
        job.state = State.CHECKING if checking else State.IMPORTING
        job.heartbeat = now
        job.worker = worker
        job.done_rows = job.total_rows = 0
        job.save(update_fields=["state", "heartbeat", "worker", "done_rows", "total_rows"])
    return job


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
    except Exception:
        logger.exception("Roster import job %s failed", job.pk)
        _finish(
            job,
            State.FAILED,
            error=_(
                "The import stopped because of an error in the system; nothing was written. "
                "Try again later, or tell the administrator (import number %(id)s)."
            )
            % {"id": job.pk},
        )
    else:
        outcome = _report_dict(report)
        job.refused_file = refused_rows_bytes(data, job.filename, report.refused) or None
        if checking:
            job.check_report = outcome
            _finish(job, State.CHECKED)
            # What the preview shows its uploader, who learns from it which ID numbers are
            # registered (and whether outside their area).
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


def run_pending(worker: str | None = None) -> int:
    """Run queued jobs until there are none; return how many ran."""
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    jobs_expire()
    count = 0
    while (job := job_claim(worker)) is not None:
        job_run(job)
        count += 1
    return count


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
    _live_progress.pop(job.pk, None)


class _Progress:
    """Tells others how far a job is while its transaction keeps everything else unseen."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.last = 0.0
        self.side = None

    def __call__(self, done: int, total: int) -> None:
        self.job.done_rows, self.job.total_rows = done, total
        _live_progress[self.job.pk] = (done, total)
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY or connection.vendor != "postgresql":
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


# -- The embedded runner ----------------------------------------------------------------------

_thread_lock = threading.Lock()
_thread: threading.Thread | None = None
_wanted = False


def _wake_thread() -> None:
    global _thread, _wanted
    with _thread_lock:
        _wanted = True
        if _thread is None:
            _thread = threading.Thread(target=_thread_main, name="import-jobs", daemon=True)
            _thread.start()


def _thread_main() -> None:
    global _thread, _wanted
    try:
        while True:
            with _thread_lock:
                if not _wanted:
                    _thread = None
                    return
                _wanted = False
            try:
                run_pending()
            except Exception:
                logger.exception("The import thread failed; queued jobs wait for the next upload")
    finally:
        connections.close_all()
