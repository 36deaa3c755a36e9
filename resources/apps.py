from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = _("Resources and matching")

    def ready(self):
        # What an area merged into another offered, served, needed and matched moves with it.
        from tongzhan.services import AreaMover, area_mover_register

        from . import services

        area_mover_register(
            AreaMover(
                label=_("resources, community needs and matches"),
                count=services.area_resources_count,
                move=services.area_resources_move,
            )
        )
        # Projects landing in it land in the area that took it over.
        area_mover_register(
            AreaMover(
                label=pgettext_lazy("project", "projects"),
                count=services.area_projects_count,
                move=services.area_projects_move,
            )
        )
        # A member's resources in her community follow her to another, and what a merged
        # record offers and introduced goes to the kept record (members.services).
        from members.services import (
            MemberMover,
            member_mover_register,
            transfer_follower_register,
        )

        transfer_follower_register(services.member_resources_follow_transfer)
        member_mover_register(
            MemberMover(
                key="resources.resources",
                label=_("resources and projects"),
                count=services.member_resources_count,
                move=services.member_resources_move,
                undo=services.member_resources_undo,
            )
        )
