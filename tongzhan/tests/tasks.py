"""Running queued background tasks from a test, the test being the worker."""

from unittest import mock

from django.db import connection
from django_tasks_db.management.commands import db_worker

from tongzhan.workers import worker_make


def run_queued_tasks(worker_id: str = "test-worker") -> int:
    """Run the tasks ready now (of the database backend), here; return how many ran."""
    worker = worker_make(batch=True, worker_id=worker_id)
    if connection.in_atomic_block:
        # The worker drops connections it finds in a transaction, as a request would: in a
        # test that holds its data in one, that would end the test's transaction.
        with mock.patch.object(db_worker, "close_old_connections", lambda: None):
            worker.run()
    else:
        worker.run()
    return worker._run_tasks
