from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Member registry")

    def ready(self):
        # The members of an area merged into another move with it (tongzhan.services).
        from tongzhan.services import AreaMover, area_mover_register

        from .services import area_members_count, area_members_move

        area_mover_register(
            AreaMover(label=_("members"), count=area_members_count, move=area_members_move)
        )
