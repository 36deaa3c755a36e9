from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = _("Organisations and places")

    def ready(self):
        # Organisations and places of an area merged into another move with it.
        from tongzhan.services import AreaMover, area_mover_register

        from . import services

        area_mover_register(
            AreaMover(
                label=_("organisations"),
                count=services.area_organisations_count,
                move=services.area_organisations_move,
            )
        )
        area_mover_register(
            AreaMover(
                label=pgettext_lazy("united-front position", "places"),
                count=services.area_places_count,
                move=services.area_places_move,
            )
        )
        # A merged record's memberships go to the kept record (members.services).
        from members.services import MemberMover, member_mover_register

        member_mover_register(
            MemberMover(
                key="organisations.memberships",
                label=_("memberships"),
                count=services.member_memberships_count,
                move=services.member_memberships_move,
                undo=services.member_memberships_undo,
            )
        )
        # A member's page shows her organisations: the registry names no app above it.
        from members.views import member_section_register

        from .views import member_organisations

        member_section_register(member_organisations)
