from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("What an assessment leads to")

    def ready(self):
        # A period's and a community's assessment pages show what their results led to: the
        # assessment names no app above it (layers), so this app registers its part there.
        from assessment.views import result_section_register

        from .views import result_section

        result_section_register(result_section)

        # A rectification underway goes with a community merged into another.
        from tongzhan.services import AreaMover, area_mover_register

        from .services import area_rectifications_count, area_rectifications_move

        area_mover_register(
            AreaMover(
                label=_("rectifications underway"),
                count=area_rectifications_count,
                move=area_rectifications_move,
            )
        )
