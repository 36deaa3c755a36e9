"""Enqueue the periodic jobs that are due (tongzhan.schedule).

Production runs it every minute from a systemd timer (deploy/tongzhan-schedule.timer), on
one machine or several: each due job is enqueued once. `--every 60` keeps it running and
looking every minute, as `make run` starts it beside the embedded server.
"""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from tongzhan.models import ScheduledJob
from tongzhan.schedule import periodic_jobs, schedule_run_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue the periodic jobs that are due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="keep running, looking for due jobs every SECONDS",
        )
        parser.add_argument(
            "--list",
            action="store_true",
            dest="show",
            help="list the periodic jobs and when they run",
        )

    def handle(self, *args, every=None, show=False, **options):
        if show:
            self._list()
            return
        while True:
            try:
                for name in schedule_run_due():
                    self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} enqueued {name}")
            except DatabaseError:
                if not every:
                    raise
                # The database restarting: look again next time, on a new connection.
                logger.exception("Periodic jobs not enqueued; trying again in %s s", every)
            if not every:
                return
            close_old_connections()
            time.sleep(every)

    def _list(self):
        rows = {row.name: row for row in ScheduledJob.objects.all()}
        for periodic in periodic_jobs():
            when = f"every {periodic.every}" if periodic.every else f"daily at {periodic.at}"
            row = rows.get(periodic.name)
            last = _local(row.last_run_at) if row else "-"
            due = _local(row.due_at) if row else "at the next run"
            self.stdout.write(f"{periodic.name}: {when}; last run {last}; next due {due}")


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"
