"""Recount every member's completeness and last contact, and the dashboards' tallies.

The services keep both current on every write; this is for data written around them (the
demo seed, a restore from a dump, a repair by hand) and safe to run at any time.
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from activities.services import activity_tally_refresh, contacts_refresh
from members.services import completeness_refresh, tally_refresh
from tongzhan.models import Area


class Command(BaseCommand):
    help = "Recount the members' last contacts and the dashboards' tallies."

    def handle(self, *args, **options):
        started = time.monotonic()
        with transaction.atomic():
            completeness_refresh()
            contacts_refresh()
            activity_tally_refresh()
            tally_refresh(communities=Area.objects.communities().values_list("pk", flat=True))
        self.stdout.write(f"Tallies recounted in {time.monotonic() - started:.1f} s.")
