"""The processes that run background tasks (django-tasks with its database backend).

Production runs `manage.py db_worker` processes on any number of machines (deploy/); the
command is django-tasks-db's, with the `Worker` below: it runs the apps' sweeps when it
starts and whenever the database comes back, and waits for a database that went away (a
PostgreSQL restart) instead of stopping.

The embedded server (`make run`, `make dev`) needs no second process: with
`TASKS_IN_PROCESS` on, the first request starts the same worker loop in a thread of the web
process. On SQLite this is also the only way to show progress: an import holds SQLite's one
write lock until it commits, so nothing it reports can be written to the database meanwhile,
and the web threads read it from the worker thread's memory instead (members/jobs.py).

A sweep is a function an app registers (`worker_sweep_register`) to put right what a worker
that died left behind, for example a roster import whose worker was killed half-way.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.utils import is_locked_database_exception

logger = logging.getLogger(__name__)

# Seconds to wait before looking again for a database that went away.
DATABASE_RETRY = 5.0

_sweeps: list[Callable[[], object]] = []


def worker_sweep_register(sweep: Callable[[], object]) -> None:
    """Have every worker run `sweep` when it starts and when the database comes back."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)


def worker_sweeps_run() -> None:
    """Run the registered sweeps; one that fails is logged and the others still run."""
    for sweep in _sweeps:
        try:
            sweep()
        except (OperationalError, InterfaceError):
            raise  # the database is away: the worker waits for it, then sweeps again
        except Exception:
            logger.exception("The sweep %s failed", getattr(sweep, "__name__", sweep))


def worker_name() -> str:
    """Which process runs a task, as a job shows it: the machine and the process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def _database_away(error: DatabaseError) -> bool:
    return isinstance(error, InterfaceError) or (
        isinstance(error, OperationalError) and not is_locked_database_exception(error)
    )


class Worker(upstream.Worker):
    """django-tasks-db's worker, which sweeps when it starts and outlives the database.

    Upstream stops at the first error from the database other than a locked SQLite file; a
    worker that stopped while PostgreSQL restarted would leave the queue unserved until
    someone started it again. Here it closes its connections, waits and starts over. The
    task it was running when the database went away failed with it (its transaction is
    gone, nothing was half-written); the sweeps find such work and queue it again.
    """

    def run(self) -> None:
        while True:
            try:
                worker_sweeps_run()
                return super().run()
            except (OperationalError, InterfaceError) as error:
                if not self.running or not _database_away(error):
                    raise
                logger.warning(
                    "The database is unavailable (%s); trying again in %s s",
                    str(error).strip().splitlines()[0] if str(error).strip() else error,
                    DATABASE_RETRY,
                )
                connections.close_all()
                time.sleep(DATABASE_RETRY)


# -- The worker inside the embedded server -----------------------------------------------------

_thread_lock = threading.Lock()
_thread: threading.Thread | None = None
_thread_worker: Worker | None = None


def in_process_worker_start(**_signal_kwargs) -> None:
    """Start the worker thread of this process, once (`TASKS_IN_PROCESS`)."""
    global _thread, _thread_worker
    if not settings.TASKS_IN_PROCESS:
        return
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread_worker = worker_make(batch=False, worker_id=f"{worker_name()}:thread")
        _thread = threading.Thread(
            target=_thread_main, args=[_thread_worker], name="tasks-worker", daemon=True
        )
        _thread.start()


def in_process_worker_stop(timeout: float = 30) -> None:
    """Stop the worker thread of this process after the task it runs (the test suite)."""
    global _thread
    with _thread_lock:
        thread, _thread = _thread, None
        if thread is None:
            return
        _thread_worker.running = False
    thread.join(timeout)


def worker_make(*, batch: bool, worker_id: str) -> Worker:
    """A worker for every queue of the default backend: in batch it runs the tasks ready now
    and returns."""
    return Worker(
        queue_names=["*"],
        interval=0 if batch else 1.0,
        batch=batch,
        backend_name=upstream.DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id[:64],
        excluded_queue_names=[],
    )


def _thread_main(worker: Worker) -> None:
    try:
        worker.run()
    except Exception:
        logger.exception("The worker thread stopped; it starts again with the next request")
    finally:
        connections.close_all()
