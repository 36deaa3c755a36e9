from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommendationsConfig(AppConfig):
    name = "commendations"
    verbose_name = _("Commendations")

    def ready(self):
        # Campaigns and nominations of an area merged into another move with it.
        from tongzhan.services import AreaMover, area_mover_register

        from . import services

        area_mover_register(
            AreaMover(
                label=_("commendation campaigns and nominations"),
                count=services.area_commendations_count,
                move=services.area_commendations_move,
                live=False,
            )
        )
        # A merged record's nominations go to the kept record (members.services).
        from members.services import MemberMover, member_mover_register

        member_mover_register(
            MemberMover(
                key="commendations.nominations",
                label=_("nominations"),
                count=services.member_nominations_count,
                move=services.member_nominations_move,
                undo=services.member_nominations_undo,
            )
        )
        # A member's page shows her commendations: the registry names no app above it.
        from members.views import member_section_register

        from .views import member_commendations

        member_section_register(member_commendations)
        # And her printed form (统战对象信息登记表), by the printer's registry as well.
        from members.printing import print_section_register

        from .views import printed_commendations

        print_section_register(printed_commendations)
