from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards and reports")

    def ready(self):
        import datetime

        from tongzhan.schedule import periodic_register

        from .tallies import tallies_check

        # Each night the tallies are counted again and what differs is repaired and logged.
        periodic_register("dashboards.tallies_check", tallies_check, at=datetime.time(2, 30))
