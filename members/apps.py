from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Member registry")

    def ready(self):
        import datetime

        from tongzhan.schedule import periodic_register

        from . import jobs

        # Uploaded rosters nobody confirmed, and files of refused rows, are deleted when they
        # have been kept long enough (members.jobs.UNCONFIRMED_DAYS, REFUSED_FILE_DAYS).
        periodic_register(
            "members.jobs_expire", jobs.jobs_expire, every=datetime.timedelta(hours=1)
        )
        # The members of an area merged into another move with it (tongzhan.services).
        from tongzhan.audit import object_finder_register
        from tongzhan.downloads import producer_register
        from tongzhan.services import AreaMover, area_mover_register
        from tongzhan.workers import worker_sweep_register

        from . import downloads, services

        # The audit log names a member masked; the auditor finds her lines by her full name.
        object_finder_register(services.member_audit_lines)
        area_mover_register(
            AreaMover(
                label=_("members"),
                count=services.area_members_count,
                move=services.area_members_move,
                count_by_address=services.area_members_by_address_count,
                move_by_address=services.area_members_by_address_move,
            )
        )
        # A merged record's relatives, and links to it, go to the kept record.
        services.member_mover_register(
            services.MemberMover(
                key="members.relatives",
                label=_("relatives"),
                count=services.member_relatives_count,
                move=services.member_relatives_move,
                undo=services.member_relatives_undo,
            )
        )
        # And its political arrangements and duty records (the representative's file).
        services.member_mover_register(
            services.MemberMover(
                key="members.file",
                label=_("political arrangements and duty records"),
                count=services.member_file_count,
                move=services.member_file_move,
                undo=services.member_file_undo,
            )
        )
        # And its nominations and register rows (admission and exit of representatives).
        services.member_mover_register(
            services.MemberMover(
                key="members.representative",
                label=_("nominations and register entries of a representative"),
                count=services.member_representative_count,
                move=services.member_representative_move,
                undo=services.member_representative_undo,
                refusal=services.member_representative_refusal,
            )
        )
        # Large exports and a community's printed forms are made in the background.
        for producer in downloads.PRODUCERS:
            producer_register(producer)
        # A roster import whose worker died is queued again: by the next worker to start, and
        # every few minutes by the schedule.
        worker_sweep_register(jobs.jobs_recover)
        periodic_register(
            "members.jobs_recover", jobs.jobs_recover, every=datetime.timedelta(minutes=5)
        )
