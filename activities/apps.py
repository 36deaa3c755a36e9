from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self):
        # What was done in an area merged into another moves with it (tongzhan.services).
        from tongzhan.services import AreaMover, area_mover_register

        from . import services

        for label, count, move in (
            (_("activities"), services.area_activities_count, services.area_activities_move),
            (_("visits"), services.area_visits_count, services.area_visits_move),
            (_("needs"), services.area_needs_count, services.area_needs_move),
        ):
            area_mover_register(AreaMover(label=label, count=count, move=move))
        # A member's records follow her record merged into another (members.services), and
        # a need referred up follows her to another street (transfer_follower_register).
        from members.services import (
            MemberMover,
            member_mover_register,
            transfer_follower_register,
        )

        transfer_follower_register(services.member_needs_follow_transfer)

        for key, label in (
            ("participations", _("activities taken part in")),
            ("visits", _("visits")),
            ("needs", _("needs")),
        ):
            member_mover_register(
                MemberMover(
                    key=f"activities.{key}",
                    label=label,
                    count=getattr(services, f"member_{key}_count"),
                    move=getattr(services, f"member_{key}_move"),
                    undo=getattr(services, f"member_{key}_undo"),
                )
            )
