"""What an attacker (or an unlucky moment) tries against withdrawing (撤回) a notice, task or
report and against the confirmation pages before approving a copy or deciding a report:
someone other than the sending area's staff, a GET or a forged POST, a skipped or tampered
confirmation, two writes at once, and the lists and counts that must (or must not) still
show what was withdrawn."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import _user
from liaison import reminders, services, todo
from liaison.models import Notice, Report, Task, TaskCopy
from tongzhan.models import AuditEvent, User
from tongzhan.tests.races import race_or_skip, refused_or_done

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
QIAODONG, WUYIER, LIUXIANG = "140106001001", "140106001002", "140106001"
PDF = b"%PDF-1.7\n" + b"0" * 200


def send_notice(actor, area, reply_by=None):
    return services.notice_send(
        actor=actor, area=area, data={"title": "防汛", "body": "准备", "reply_by": reply_by}
    )


def send_task(actor, *areas, deadline=None):
    return services.task_send(
        actor=actor,
        data={"title": "中秋走访", "body": "走访",
              "deadline": deadline or TODAY + datetime.timedelta(days=5)},
        recipients=areas,
    )  # fmt: skip


def send_report(actor):
    return services.report_submit(
        actor=actor, data={"kind": "public_opinion", "title": "停车难", "body": "车位不足"}
    )


def to_done(copy, user):
    services.taskcopy_receive(actor=user, copy=copy)
    services.taskcopy_start(actor=user, copy=copy)
    services.taskcopy_report(actor=user, copy=copy, report="做了")
    return TaskCopy.objects.get(pk=copy.pk)


@pytest.fixture
def auditor(areas):
    return _user("ivan", User.Role.AUDITOR, None)


@pytest.fixture
def others(
    neighbour_user, community_user, other_street_user, district_user, other_district_user,
    admin_user, auditor,
):  # fmt: skip
    """Everyone but the sending street's staff (carl)."""
    return {
        "alice (receiving community)": community_user,
        "bob (other community)": neighbour_user,
        "dora (other street)": other_street_user,
        "erin (district above)": district_user,
        "frank (other district)": other_district_user,
        "grace (administrator)": admin_user,
        "ivan (auditor)": auditor,
    }


# -- Who withdraws -------------------------------------------------------------------------


def test_nobody_but_the_sending_streets_staff_withdraws_a_notice_or_task(
    client, areas, street_user, others
):
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG])
    for name, someone in others.items():
        with pytest.raises(PermissionDenied):
            services.notice_withdraw(actor=someone, notice=notice, reason="撤回")
        with pytest.raises(PermissionDenied):
            services.task_withdraw(actor=someone, task=task, reason="撤回")
        client.force_login(someone)
        for url in (
            reverse("liaison:notice_withdraw", args=[notice.pk]),
            reverse("liaison:task_withdraw", args=[task.pk]),
        ):
            for response in (client.get(url), client.post(url, {"reason": "撤回"})):
                assert response.status_code in (403, 404), (name, url)
    assert not Notice.objects.get(pk=notice.pk).is_withdrawn
    assert not Task.objects.get(pk=task.pk).is_withdrawn


def test_nobody_but_the_sending_communitys_staff_withdraws_its_report(
    client, areas, community_user, street_user, others
):
    report = send_report(community_user)
    del others["alice (receiving community)"]
    for name, someone in [*others.items(), ("carl (receiving street)", street_user)]:
        with pytest.raises(PermissionDenied):
            services.report_withdraw(actor=someone, report=report, reason="撤回")
        client.force_login(someone)
        url = reverse("liaison:report_withdraw", args=[report.pk])
        for response in (client.get(url), client.post(url, {"reason": "撤回"})):
            assert response.status_code in (403, 404), name
    assert not Report.objects.get(pk=report.pk).is_withdrawn


def test_a_disabled_sender_withdraws_nothing(client, areas, street_user, community_user):
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG])
    report = send_report(community_user)
    client.force_login(street_user)
    User.objects.filter(pk__in=[street_user.pk, community_user.pk]).update(is_active=False)
    street_user.refresh_from_db()
    community_user.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.notice_withdraw(actor=street_user, notice=notice, reason="撤回")
    with pytest.raises(PermissionDenied):
        services.task_withdraw(actor=street_user, task=task, reason="撤回")
    with pytest.raises(PermissionDenied):
        services.report_withdraw(actor=community_user, report=report, reason="撤回")
    # A session opened before the account was disabled is a stranger's now.
    url = reverse("liaison:notice_withdraw", args=[notice.pk])
    assert client.post(url, {"reason": "撤回"}).status_code == 302
    assert not Notice.objects.get(pk=notice.pk).is_withdrawn


def page_text(response, url) -> str:
    """The page without what differs on every page anyway: its CSRF token and own address."""
    text = response.content.decode().replace(url, "URL")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def test_out_of_area_withdrawals_look_like_missing_ones(
    client, areas, street_user, other_street_user, community_user, neighbour_user
):
    """404 for a record outside one's area, exactly as for one that does not exist."""
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG])
    report = send_report(community_user)
    missing = max(notice.pk, task.pk, report.pk) + 1000
    for user, name, pk in [
        (other_street_user, "liaison:notice_withdraw", notice.pk),
        (other_street_user, "liaison:task_withdraw", task.pk),
        (neighbour_user, "liaison:report_withdraw", report.pk),
    ]:
        client.force_login(user)
        real_url, absent_url = reverse(name, args=[pk]), reverse(name, args=[missing])
        real, absent = client.get(real_url), client.get(absent_url)
        assert real.status_code == absent.status_code == 404, name
        assert page_text(real, real_url) == page_text(absent, absent_url)


# -- How: never by GET, never without the CSRF token, never skipping the confirmation -------


def test_a_get_never_withdraws_even_with_a_reason_in_the_address(
    client, areas, street_user, community_user
):
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG])
    report = send_report(community_user)
    for user, name, pk in [
        (street_user, "liaison:notice_withdraw", notice.pk),
        (street_user, "liaison:task_withdraw", task.pk),
        (community_user, "liaison:report_withdraw", report.pk),
    ]:
        client.force_login(user)
        response = client.get(reverse(name, args=[pk]) + "?reason=撤回&confirmed=1")
        assert response.status_code == 200
        assert 'id="confirm-form"' in response.content.decode()
    assert not Notice.objects.get(pk=notice.pk).is_withdrawn
    assert not Task.objects.get(pk=task.pk).is_withdrawn
    assert not Report.objects.get(pk=report.pk).is_withdrawn


def test_a_withdrawal_posted_from_elsewhere_without_the_csrf_token_is_refused(
    areas, street_user, community_user
):
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG])
    report = send_report(community_user)
    for user, name, pk in [
        (street_user, "liaison:notice_withdraw", notice.pk),
        (street_user, "liaison:task_withdraw", task.pk),
        (community_user, "liaison:report_withdraw", report.pk),
    ]:
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        assert browser.post(reverse(name, args=[pk]), {"reason": "撤回"}).status_code == 403
    assert not Notice.objects.get(pk=notice.pk).is_withdrawn
    assert not Task.objects.get(pk=task.pk).is_withdrawn
    assert not Report.objects.get(pk=report.pk).is_withdrawn


def test_approving_is_not_confirmed_from_the_address(client, areas, street_user, community_user):
    copy = to_done(send_task(street_user, areas[QIAODONG]).copies.get(), community_user)
    client.force_login(street_user)
    url = reverse("liaison:task_copy_approve", args=[copy.pk])
    shown = client.post(url + "?confirmed=1")
    assert shown.status_code == 200 and 'id="confirm-form"' in shown.content.decode()
    assert TaskCopy.objects.get(pk=copy.pk).state == TaskCopy.State.DONE
    # Nor by a confirmation posted from elsewhere.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(street_user)
    assert browser.post(url, {"confirmed": "1"}).status_code == 403
    assert TaskCopy.objects.get(pk=copy.pk).state == TaskCopy.State.DONE


def test_a_decision_is_not_confirmed_from_the_address(client, community_user, street_user):
    report = send_report(community_user)
    client.force_login(street_user)
    url = reverse("liaison:report_decide", args=[report.pk])
    shown = client.post(url + "?confirmed=1", {"decision": "adopted", "comment": ""})
    assert shown.status_code == 200 and 'id="confirm-form"' in shown.content.decode()
    assert Report.objects.get(pk=report.pk).decision == Report.Decision.PENDING


@pytest.mark.parametrize(
    "tampered",
    [
        {"decision": "declined", "comment": "   "},  # a decline without its reason
        {"decision": "pending", "comment": "x"},  # not a decision
        {"decision": "adopted\x00", "comment": "x"},
        {"comment": "x"},
    ],
)
def test_a_tampered_confirmation_decides_nothing_the_service_refuses(
    client, community_user, street_user, tampered
):
    report = send_report(community_user)
    client.force_login(street_user)
    response = client.post(
        reverse("liaison:report_decide", args=[report.pk]), {**tampered, "confirmed": "1"}
    )
    assert response.status_code == 200
    assert Report.objects.get(pk=report.pk).decision == Report.Decision.PENDING
    assert not AuditEvent.objects.filter(object_id=str(report.pk), action="status").exists()


def test_a_confirmed_decision_on_a_withdrawn_report_is_refused(client, community_user, street_user):
    report = send_report(community_user)
    client.force_login(street_user)
    url = reverse("liaison:report_decide", args=[report.pk])
    services.report_withdraw(actor=community_user, report=report, reason="重报")
    client.post(url, {"decision": "adopted", "comment": "好", "confirmed": "1"})
    report.refresh_from_db()
    assert report.is_withdrawn and report.decision == Report.Decision.PENDING


def test_a_confirmed_approval_of_a_withdrawn_tasks_copy_is_refused(
    client, areas, street_user, community_user
):
    task = send_task(street_user, areas[QIAODONG])
    copy = to_done(task.copies.get(), community_user)
    services.task_withdraw(actor=street_user, task=task, reason="重复")
    client.force_login(street_user)
    client.post(reverse("liaison:task_copy_approve", args=[copy.pk]), {"confirmed": "1"})
    assert TaskCopy.objects.get(pk=copy.pk).state == TaskCopy.State.DONE


def test_hostile_reasons_and_comments_are_shown_as_text(client, areas, street_user, community_user):
    hostile = '"><script>alert(1)</script>'
    notice = send_notice(street_user, areas[LIUXIANG])
    services.notice_withdraw(actor=street_user, notice=notice, reason=hostile)
    client.force_login(community_user)
    shown = client.get(reverse("liaison:notice_detail", args=[notice.pk])).content.decode()
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown
    # Carried in a hidden field of the confirmation page, and back.
    report = send_report(community_user)
    client.force_login(street_user)
    url = reverse("liaison:report_decide", args=[report.pk])
    shown = client.post(url, {"decision": "declined", "comment": hostile}).content.decode()
    assert "<script>alert(1)</script>" not in shown
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in shown


# -- Each withdrawal: one audit line --------------------------------------------------------


def test_each_withdrawal_leaves_one_audit_line(client, areas, street_user, community_user):
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG], areas[WUYIER])
    report = send_report(community_user)
    for user, name, obj in [
        (street_user, "liaison:notice_withdraw", notice),
        (street_user, "liaison:task_withdraw", task),
        (community_user, "liaison:report_withdraw", report),
    ]:
        client.force_login(user)
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        assert client.post(reverse(name, args=[obj.pk]), {"reason": "撤回"}).status_code == 302
        written = AuditEvent.objects.filter(pk__gt=last)
        assert [(event.action, event.object_id, event.detail["action"]) for event in written] == [
            ("status", str(obj.pk), "withdraw")
        ], name
        # A second try is told, and writes nothing.
        before = AuditEvent.objects.count()
        client.post(reverse(name, args=[obj.pk]), {"reason": "再撤"})
        assert AuditEvent.objects.count() == before


# -- What a withdrawn record no longer counts in, and where it is still shown ---------------


def test_withdrawn_work_is_owed_nowhere_and_reminded_of_never(
    areas, street_user, community_user, neighbour_user
):
    past = TODAY - datetime.timedelta(days=3)
    notice = send_notice(street_user, areas[LIUXIANG], reply_by=TODAY + datetime.timedelta(1))
    task = send_task(street_user, areas[QIAODONG], areas[WUYIER])
    Task.objects.filter(pk=task.pk).update(deadline=past)  # overdue now
    done = to_done(task.copies.get(area=areas[WUYIER]), neighbour_user)
    report = send_report(community_user)
    assert todo.waiting_count(community_user) == 2  # the notice, the task
    assert todo.waiting_count(street_user) == 2  # the done copy to review, the report
    assert reminders.due_for(community_user, TODAY)
    services.notice_withdraw(actor=street_user, notice=notice, reason="撤回")
    services.task_withdraw(actor=street_user, task=task, reason="撤回")
    services.report_withdraw(actor=community_user, report=report, reason="撤回")
    for user in (community_user, neighbour_user, street_user):
        assert todo.waiting_count(user) == 0
        assert todo.waiting_for(user) == []
        assert reminders.due_for(user, TODAY) == []
        assert reminders.due_for(user, TODAY + datetime.timedelta(days=30)) == []
    assert not TaskCopy.objects.visible_to(street_user).overdue(TODAY).exists()
    assert done.state == TaskCopy.State.DONE


def test_a_withdrawn_task_is_overdue_nowhere_on_its_pages_nor_its_export(
    client, areas, street_user, community_user
):
    import io

    from openpyxl import load_workbook

    task = send_task(street_user, areas[QIAODONG], areas[WUYIER])
    Task.objects.filter(pk=task.pk).update(deadline=TODAY - datetime.timedelta(days=3))
    services.task_withdraw(actor=street_user, task=task, reason="撤回")
    client.force_login(street_user)
    detail = client.get(reverse("liaison:task_detail", args=[task.pk]))
    assert detail.context["counts"]["overdue"] == 0
    assert "逾期" not in detail.context["rows_html"]
    sent = client.get(reverse("liaison:task_list") + "?box=sent").context["rows"]
    assert [row.overdue_count for row in sent] == [0]
    overdue_list = client.get(reverse("liaison:task_detail", args=[task.pk]) + "?state=overdue")
    assert overdue_list.context["rows"] == []
    export = client.get(reverse("liaison:task_export", args=[task.pk]))
    sheet = load_workbook(io.BytesIO(export.content)).active
    texts = [str(cell.value or "") for row in sheet.iter_rows() for cell in row]
    assert not any("逾期" in text for text in texts)
    # The receivers still see it, marked, and not overdue.
    client.force_login(community_user)
    received = client.get(reverse("liaison:task_list") + "?box=received")
    assert [(row.task_id, row.overdue) for row in received.context["rows"]] == [(task.pk, False)]
    assert "已撤回" in received.content.decode()


def test_the_report_list_does_not_offer_a_withdrawn_report_as_awaiting_a_decision(
    client, community_user, street_user
):
    withdrawn = send_report(community_user)
    services.report_withdraw(actor=community_user, report=withdrawn, reason="重报")
    waiting = send_report(community_user)
    client.force_login(street_user)
    url = reverse("liaison:report_list")
    pending = client.get(url, {"box": "received", "decision": "pending"})
    assert [report.pk for report in pending.context["reports"]] == [waiting.pk]
    assert pending.context["waiting"] == 1
    # Listed among all, after what still waits, marked withdrawn.
    listed = client.get(url, {"box": "received"})
    assert [report.pk for report in listed.context["reports"]] == [waiting.pk, withdrawn.pk]
    assert "已撤回" in listed.content.decode()


def test_withdrawn_records_stay_visible_to_sender_and_receivers_with_their_history(
    client, areas, street_user, community_user, district_user
):
    notice = send_notice(street_user, areas[LIUXIANG])
    task = send_task(street_user, areas[QIAODONG])
    report = send_report(community_user)
    services.notice_withdraw(actor=street_user, notice=notice, reason="通知有误")
    services.task_withdraw(actor=street_user, task=task, reason="任务重复")
    services.report_withdraw(actor=community_user, report=report, reason="数据有误")
    copy = task.copies.get()
    pages = {
        community_user: [
            (reverse("liaison:notice_detail", args=[notice.pk]), "通知有误"),
            (reverse("liaison:task_copy", args=[copy.pk]), "任务重复"),
            (reverse("liaison:report_detail", args=[report.pk]), "数据有误"),
        ],
        street_user: [
            (reverse("liaison:notice_status", args=[notice.pk]), "通知有误"),
            (reverse("liaison:task_detail", args=[task.pk]), "任务重复"),
            (reverse("liaison:report_detail", args=[report.pk]), "数据有误"),
        ],
        district_user: [
            (reverse("liaison:notice_detail", args=[notice.pk]), "通知有误"),
            (reverse("liaison:task_detail", args=[task.pk]), "任务重复"),
            (reverse("liaison:report_detail", args=[report.pk]), "数据有误"),
        ],
    }
    for user, shown in pages.items():
        client.force_login(user)
        for url, reason in shown:
            response = client.get(url)
            assert response.status_code == 200, url
            assert reason in response.content.decode(), url
    assert copy.events.last().action == "withdraw"


# -- At the same moment: two connections ------------------------------------------------------
#
# `race` (tongzhan.tests.races) pauses the first write at a service's audit line, or at a step
# patched with `race.pause_after`, while the second runs.


@pytest.fixture
def race(monkeypatch):
    race = race_or_skip()
    race.pause_after(monkeypatch, services, "audit_record")
    return race


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("approve_first", [True, False])
def test_a_copy_approved_while_its_task_is_withdrawn_never_both(
    race, areas, street_user, community_user, approve_first
):
    task = send_task(street_user, areas[QIAODONG])
    copy = to_done(task.copies.get(), community_user)

    def approve():
        return services.taskcopy_approve(actor=street_user, copy=copy)

    def withdraw():
        return services.task_withdraw(actor=street_user, task=task, reason="撤回")

    outcome = race.run(*((approve, withdraw) if approve_first else (withdraw, approve)))
    refused_or_done(outcome)
    done = [name for name, result in outcome.items() if not isinstance(result, Exception)]
    assert done == ["first"]
    state = TaskCopy.objects.get(pk=copy.pk).state
    withdrawn = Task.objects.get(pk=task.pk).is_withdrawn
    assert (state, withdrawn) == (("approved", False) if approve_first else ("done", True))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_with_files_while_its_task_is_withdrawn_is_no_deadlock(
    race, monkeypatch, areas, street_user, community_user
):
    """The copy's report adds its files (rows pointing at the task) while it holds the copy;
    the withdrawal holds the task and waits for the copy. Both must end in words: the
    report done and the task withdrawn, not a database deadlock shown as a server error."""
    task = send_task(street_user, areas[QIAODONG])
    copy = task.copies.get()
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    # The report pauses once it holds the copy, before its files are stored.
    race.pause_after(monkeypatch, services, "_taskcopy_check_state")

    def report():
        return services.taskcopy_report(
            actor=community_user, copy=copy, report="做了",
            uploads=[SimpleUploadedFile("照片.pdf", PDF, "application/pdf")],
        )  # fmt: skip

    def withdraw():
        return services.task_withdraw(actor=street_user, task=task, reason="撤回")

    outcome = race.run(report, withdraw)
    refused_or_done(outcome)
    assert TaskCopy.objects.get(pk=copy.pk).state == TaskCopy.State.DONE
    assert Task.objects.get(pk=task.pk).is_withdrawn


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("decide_first", [True, False])
def test_a_report_decided_while_it_is_withdrawn_never_both(
    race, community_user, street_user, decide_first
):
    report = send_report(community_user)

    def decide():
        return services.report_decide(actor=street_user, report=report, decision="adopted")

    def withdraw():
        return services.report_withdraw(actor=community_user, report=report, reason="撤回")

    outcome = race.run(*((decide, withdraw) if decide_first else (withdraw, decide)))
    refused_or_done(outcome)
    assert isinstance(outcome["second"], ValidationError)
    stored = Report.objects.get(pk=report.pk)
    assert (stored.decision, stored.is_withdrawn) == (
        ("adopted", False) if decide_first else ("pending", True)
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_notice_withdrawn_twice_at_once_is_withdrawn_once(race, areas, street_user):
    notice = send_notice(street_user, areas[LIUXIANG])

    def withdraw(reason):
        return lambda: services.notice_withdraw(actor=street_user, notice=notice, reason=reason)

    outcome = race.run(withdraw("第一次"), withdraw("第二次"))
    refused_or_done(outcome)
    assert isinstance(outcome["second"], ValidationError)
    assert Notice.objects.get(pk=notice.pk).withdrawn_reason == "第一次"
    withdrawals = AuditEvent.objects.filter(object_id=str(notice.pk), detail__action="withdraw")
    assert withdrawals.count() == 1
