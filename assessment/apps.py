from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        # An open period's targets follow a community merged into another (tongzhan.services).
        from members.services import MemberMover, member_mover_register
        from tongzhan.services import AreaMover, area_mover_register

        from .services import (
            area_targets_count,
            area_targets_move,
            area_targets_split,
            member_evaluations_count,
            member_evaluations_move,
            member_evaluations_refusal,
            member_evaluations_undo,
        )

        area_mover_register(
            AreaMover(
                label=_("targets of assessment periods not yet finalized"),
                count=area_targets_count,
                move=area_targets_move,
                live=False,
                split=area_targets_split,
            )
        )
        # A nominee in an admission round not decided on is not withdrawn (members.services).
        from members.services import nomination_withdraw_check_register

        from .services import nomination_in_round_refusal

        nomination_withdraw_check_register(nomination_in_round_refusal)
        # A representative's evaluations follow her record merged into another.
        member_mover_register(
            MemberMover(
                key="assessment.evaluations",
                label=_("evaluations"),
                count=member_evaluations_count,
                move=member_evaluations_move,
                undo=member_evaluations_undo,
                refusal=member_evaluations_refusal,
            )
        )
