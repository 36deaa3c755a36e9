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

        # A person's requests: on her page, as the reason of an edit made to correct her
        # record, in 我的待办 with their deadline, and with her record when two are merged.
        # Each through the registry of the app below, which names none above it (layers).
        from liaison.todo import source_register
        from members.services import MemberMover, member_mover_register
        from members.views import edit_reason_register, member_section_register

        from . import services, todo, views

        member_section_register(views.member_requests)
        edit_reason_register(views.REASON_KEY, views.correction_reason)
        source_register(todo.REQUESTS)
        member_mover_register(
            MemberMover(
                key="privacy.person_requests",
                label=_("requests about the record"),
                count=services.member_requests_count,
                move=services.member_requests_move,
                undo=services.member_requests_undo,
            )
        )
