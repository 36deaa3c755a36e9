from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """The personal-information duties of a state organ (issue 20): a person's own requests
    to see, copy and correct what is held, and the retention of records of people who left
    (anonymised when their period passes). Above every app whose records hold personal
    values, so it reaches them all; below the dashboards."""

    name = "privacy"
    verbose_name = _("Personal information")

    def ready(self):
        import datetime

        from tongzhan.schedule import periodic_register

        from .services import anonymisations_run

        # The records the district approved for anonymisation are anonymised at night, each
        # in its own transaction (privacy.services, privacy.anonymise).
        periodic_register("privacy.anonymisations_run", anonymisations_run, at=datetime.time(3, 40))
