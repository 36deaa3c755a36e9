"""Daily e-mail reminders (off by default) of what is due within three days or overdue."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from liaison import services
from liaison.models import Notice
from liaison.reminders import reminders_send
from tongzhan.schedule import periodic_jobs

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def send(actor, area, title, reply_by):
    return services.notice_send(
        actor=actor,
        data={"title": title, "body": "请回复。", "reply_by": reply_by},
        area=area,
    )


@pytest.fixture
def notices(street_user, community_user, neighbour_user, areas):
    community_user.email = "alice@example.org"
    community_user.save()
    street = areas["140106001"]
    send(street_user, street, "三天内到期", TODAY + datetime.timedelta(days=3))
    send(street_user, street, "下月到期", TODAY + datetime.timedelta(days=30))
    late = send(street_user, street, "已逾期的通知", TODAY + datetime.timedelta(days=1))
    Notice.objects.filter(pk=late.pk).update(reply_by=TODAY - datetime.timedelta(days=2))


def test_each_account_with_an_address_gets_what_is_due_soon_or_overdue(
    notices, settings, mailoutbox
):
    settings.REMINDER_MAIL = True
    settings.SITE_URL = "https://tongzhan.example"
    assert reminders_send(TODAY) == 1  # bob has no address
    (mail,) = mailoutbox
    assert mail.to == ["alice@example.org"]
    assert "2 项" in mail.subject
    body = mail.body
    assert body.index("已逾期的通知") < body.index("三天内到期")
    assert "已逾期 2 天" in body and "下月到期" not in body
    assert "https://tongzhan.example/liaison/notices/" in body
    assert "https://tongzhan.example/liaison/todo/" in body


def test_nothing_is_sent_unless_the_site_turns_reminders_on(notices, mailoutbox, capsys):
    assert reminders_send(TODAY) == 0 and mailoutbox == []
    call_command("send_reminders")
    assert "1 个账号有到期或逾期事项，共 2 项" in capsys.readouterr().out
    assert mailoutbox == []


def test_the_reminders_run_daily_on_the_schedule():
    (job,) = [job for job in periodic_jobs() if job.name == "liaison.reminders_send"]
    assert job.at == datetime.time(7, 30)
