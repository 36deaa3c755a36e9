from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiaisonConfig(AppConfig):
    name = "liaison"
    verbose_name = _("Notices, tasks and reports")

    def ready(self):
        # What was sent to or reported by an area merged into another moves with it
        # (tongzhan.services): each part of this app lists its movers in services.AREA_MOVERS.
        from tongzhan.services import AreaMover, area_mover_register

        from . import services

        for label, count, move in services.AREA_MOVERS:
            area_mover_register(AreaMover(label=label, count=count, move=move))
        # Daily e-mail reminders of what is due or overdue (off unless REMINDER_MAIL).
        import datetime

        from tongzhan.schedule import periodic_register

        from .reminders import reminders_send

        periodic_register("liaison.reminders_send", reminders_send, at=datetime.time(7, 30))
