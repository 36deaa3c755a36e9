"""Daily reminders by e-mail (off unless REMINDER_MAIL): to each account with an address,
what waits on it (liaison.todo) and is due within REMINDER_DAYS days or overdue.

Run by the periodic job `liaison.reminders_send` (tongzhan.schedule, daily at 07:30) or by
`manage.py send_reminders` from cron where no scheduler runs.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongzhan.models import User

from . import todo

logger = logging.getLogger(__name__)


def due_for(user, today: datetime.date) -> list[todo.Waiting]:
    """What waits on the user and is overdue or due within REMINDER_DAYS, overdue first."""
    horizon = today + datetime.timedelta(days=settings.REMINDER_DAYS)
    items = [
        item
        for group in todo.waiting_for(user, today)
        for item in group.items
        if item.overdue or (item.due is not None and item.due <= horizon)
    ]
    return sorted(items, key=todo.order)


def message_for(user, items: list[todo.Waiting]) -> tuple[str, str]:
    """The subject and the plain-text body of one user's reminder, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        overdue = sum(item.overdue for item in items)
        subject = _("%(count)s things due or overdue in the united front information base") % {
            "count": len(items)
        }
        lines = [_("These wait on you (%(overdue)s overdue):") % {"overdue": overdue}, ""]
        for item in items:
            when = (
                _("%(days)s days overdue") % {"days": item.late}
                if item.overdue
                else _("due %(date)s") % {"date": f"{item.due:%Y-%m-%d}"}
            )
            lines.append(f"- {item.title}（{item.what}，{when}）{settings.SITE_URL}{item.url}")
        lines += ["", _("Everything that waits on you: %(url)s") % {"url": todo.page_url()}]
        return subject, "\n".join(lines)


def reminders_send(today: datetime.date | None = None) -> int:
    """Send today's reminders; the number of e-mails sent (0 when REMINDER_MAIL is off)."""
    if not settings.REMINDER_MAIL:
        return 0
    today = today or timezone.localdate()
    sent = 0
    recipients = User.objects.filter(is_active=True, area__isnull=False).exclude(email="")
    for user in recipients.select_related("area").order_by("pk"):
        items = due_for(user, today)
        if not items:
            continue
        subject, body = message_for(user, items)
        try:
            send_mail(subject, body, None, [user.email])
        except OSError:
            # One unreachable mailbox or a mail server down: the others are still tried, and
            # tomorrow's run tries again.
            logger.exception("Reminder to %s not sent", user.get_username())
            continue
        sent += 1
    logger.info("Reminders sent: %s", sent)
    return sent
