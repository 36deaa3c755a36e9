from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.management.commands import db_worker as upstream

from tongzhan.workers import Worker


class Command(upstream.Command):
    help = (
        "Run background tasks (roster checks and imports, ...) as they are queued; run one or "
        "more on any machine that reaches the database. django-tasks-db's worker, which waits "
        "for a database that went away instead of stopping, and puts right on start the work "
        "of a worker that died."
    )

    def handle(self, *args, **options):
        if connection.vendor == "sqlite":
            # Progress and the check that a job's worker is alive live in the process that
            # runs it: on SQLite that is the embedded server's own worker thread.
            raise CommandError(
                "On SQLite the embedded server runs the tasks itself (make run); db_worker "
                "needs PostgreSQL."
            )
        # Upstream's command builds the worker from its module's `Worker`.
        upstream.Worker = Worker
        super().handle(*args, **options)
