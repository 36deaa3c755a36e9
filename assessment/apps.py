from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        # An open period's targets follow a community merged into another (tongzhan.services).
        from tongzhan.services import AreaMover, area_mover_register

        from .services import area_targets_count, area_targets_move

        area_mover_register(
            AreaMover(
                label=_("targets of assessment periods not yet finalized"),
                count=area_targets_count,
                move=area_targets_move,
                live=False,
            )
        )
