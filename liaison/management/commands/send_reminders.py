"""Send today's e-mail reminders (liaison.reminders), for a cron job where no scheduler runs.

The periodic job `liaison.reminders_send` does the same daily at 07:30 under `run_schedule`;
run only one of the two.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from tongzhan.models import User

from ...reminders import due_for, reminders_send


class Command(BaseCommand):
    help = "Send today's e-mail reminders of what is due within a few days or overdue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only count who would get a reminder and of how many things",
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run or not settings.REMINDER_MAIL:
            today = timezone.localdate()
            users = User.objects.filter(is_active=True, area__isnull=False).exclude(email="")
            counts = [len(due_for(user, today)) for user in users.select_related("area")]
            waiting = [count for count in counts if count]
            self.stdout.write(
                f"{len(waiting)} 个账号有到期或逾期事项，共 {sum(waiting)} 项"
                + ("" if settings.REMINDER_MAIL else "（未开启邮件提醒 REMINDER_MAIL，不发送）")
            )
            return
        self.stdout.write(f"已发送 {reminders_send()} 封提醒邮件")
