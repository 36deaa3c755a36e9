"""Files made in the background (`Download`): who makes each kind, and the task that runs it.

A page that would take too long to answer with a file (a province's roster, a community's
printed forms) asks `tongzhan.services.download_request` for it instead: a `Download` row is
queued and `download_run` runs on the task backend (`settings.TASKS`: `manage.py db_worker`
processes in production, where it was queued in the test suite). The kernel imports no app
(layers): each app registers, in its AppConfig.ready, a `Producer` for the kinds it makes.

A producer is called with the download (its owner and `params`) and a `progress(done, total)`
callback, and returns a `Produced`: the file's bytes and the audit lines that say what left
the registry. It works as the owner is *now* (scope, rights), not as they were when they
asked. The file and the audit lines are written in one transaction: a file nobody was told
about is never kept, nor an audit line about a file never made.
"""

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from .audit import audit_record
from .models import Download

logger = logging.getLogger(__name__)

State = Download.State
PROGRESS_EVERY = 1.0  # seconds between two progress writes


@dataclass(frozen=True)
class AuditLine:
    """One line for the audit log, written with the file, in the owner's name."""

    action: str
    detail: dict
    obj: object = None


@dataclass
class Produced:
    """What a producer made: the file, how many rows (or pages) it holds, its audit lines."""

    content: bytes
    content_type: str
    rows: int
    audit: list[AuditLine] = field(default_factory=list)


@dataclass(frozen=True)
class Producer:
    """How one kind of file is made: `produce(download, progress) -> Produced`; `permission`,
    the right its owner must still hold to take the file once made (a right taken away while
    the file waits takes the file away with it)."""

    kind: str
    produce: Callable[..., Produced]
    permission: str = ""


PRODUCERS: dict[str, Producer] = {}


def producer_register(producer: Producer) -> None:
    """Add an app's producer (from its AppConfig.ready); registering again replaces it."""
    PRODUCERS[producer.kind] = producer


class Failed(Exception):  # noqa: N818 (a refusal the owner reads, not a programming error)
    """Raised by a producer with the sentence the owner reads on the download's page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@task()
def download_run(download_id: int) -> None:
    """Make the file of one queued download (the task the services enqueue)."""
    claimed = Download.objects.filter(pk=download_id, state=State.QUEUED).update(
        state=State.RUNNING, heartbeat=timezone.now(), done=0, total=0
    )
    if not claimed:  # run already, expired, or deleted by its owner meanwhile
        return
    download = Download.objects.select_related("owner").get(pk=download_id)
    progress = _Progress(download)
    try:
        producer = PRODUCERS[download.kind]
        owner = download.owner
        if not owner.is_active:
            raise PermissionDenied
        produced = producer.produce(download=download, progress=progress)
    except Failed as error:
        _fail(download, error.message)
    except PermissionDenied:
        _fail(download, _("You may no longer export this; no file was made."))
    except Exception:
        logger.exception("Download %s (%s) failed", download.pk, download.kind)
        _fail(
            download,
            _(
                "The file could not be made because of an error in the system. Try again "
                "later, or tell the administrator (file number %(id)s)."
            )
            % {"id": download.pk},
        )
    else:
        _finish(download, produced)


def _finish(download: Download, produced: Produced) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = Download.objects.filter(pk=download.pk, state=State.RUNNING).update(
            state=State.DONE,
            size=len(produced.content),
            content_type=produced.content_type,
            rows=produced.rows,
            done=produced.rows,
            total=produced.rows,
            finished_at=now,
            heartbeat=None,
            expires_at=now + datetime.timedelta(days=settings.DOWNLOAD_KEEP_DAYS),
        )
        if not updated:  # its owner deleted it while it was made: nothing left the registry
            return
        _write_content(download.pk, produced.content)
        for line in produced.audit:
            audit_record(
                actor=download.owner,
                action=line.action,
                obj=line.obj,
                ip=download.requested_ip,
                request_id=download.requested_request_id,
                detail=line.detail,
            )


# Django binds parameters on the client, where a bytea travels as hex text: a 27 MB roster
# took the worker 215 MB more to save (the text, its encoding, the query). On PostgreSQL the
# file goes and comes as it is, bound on the server in binary.
CONTENT_SQL = "UPDATE tongzhan_download SET data = %b WHERE id = %s"


def _write_content(pk: int, content: bytes) -> None:
    if connection.vendor != "postgresql":
        Download.objects.filter(pk=pk).update(data=content)
        return
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(CONTENT_SQL, [content, pk])


def download_content(download: Download) -> bytes:
    """The file of a made download, read without the hex text (see `_write_content`)."""
    if connection.vendor != "postgresql":
        return bytes(Download.objects.values_list("data", flat=True).get(pk=download.pk))
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            "SELECT data FROM tongzhan_download WHERE id = %s", [download.pk], binary=True
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        raise Download.DoesNotExist
    return bytes(row[0])


def _fail(download: Download, message: str) -> None:
    Download.objects.filter(pk=download.pk, state=State.RUNNING).update(
        state=State.FAILED, error=message, finished_at=timezone.now(), heartbeat=None
    )


class _Progress:
    """`progress(done, total)` for a producer: written at most once a second, each in its own
    short transaction (the producer reads outside any), so the page polling it sees it."""

    def __init__(self, download: Download):
        self.pk = download.pk
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done < total:
            return
        self.last = now
        Download.objects.filter(pk=self.pk, state=State.RUNNING).update(
            done=done, total=total, heartbeat=timezone.now()
        )


def counted(items, total: int, progress, *, every: int = 500):
    """`items`, calling `progress(done, total)` every `every` of them as they are taken."""
    done = 0
    progress(0, total)
    for item in items:
        yield item
        done += 1
        if done % every == 0:
            progress(done, total)
    progress(done, max(total, done))
