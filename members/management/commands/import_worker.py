import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from members.jobs import run_pending


class Command(BaseCommand):
    help = (
        "Check and import uploaded rosters as they are queued. Run one or more per machine; "
        "each job is taken by exactly one worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run the queued jobs, then stop")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="seconds between looks at the queue"
        )

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            count = run_pending()
            if count:
                self.stdout.write(f"{count} job(s) done")
            if once:
                return
            time.sleep(interval)
            # A worker lives for days: drop a connection the database has closed meanwhile.
            close_old_connections()
