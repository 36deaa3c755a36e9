"""The steps between the levels that cannot be undone, each with a check or a way back: a
notice, task or report is withdrawn (撤回) by its sender with a reason; approving a copy
(审核) and deciding a report (采用 / 不采用) are confirmed on a page that says what follows."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from assessment.standings import _tasks_on_time
from liaison import services, todo
from liaison.models import Notice, NoticeCopy, Report, Task, TaskCopy
from tongzhan.models import AuditEvent

from .test_notices import send as send_notice
from .test_reports import send as send_report
from .test_tasks import copy_of
from .test_tasks import send as send_task

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
QIAODONG, WUYIER, LIUXIANG = "140106001001", "140106001002", "140106001"


def page(client, user, url, **data):
    client.force_login(user)
    return client.post(url, data) if data else client.get(url)


def done_copy(task, area, street_user, community_user):
    copy = copy_of(task, area)
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    services.taskcopy_report(
        actor=community_user, copy=copy, report="已走访 12 户", completed_on=TODAY
    )
    return copy_of(task, area)


# -- Notices -------------------------------------------------------------------------------


def test_a_withdrawn_notice_is_owed_by_nobody_and_says_why(
    client, street_user, community_user, neighbour_user, areas
):
    notice = send_notice(
        street_user, area=areas[LIUXIANG], reply_by=TODAY + datetime.timedelta(days=3)
    )
    assert todo.waiting_count(community_user) == 1
    url = reverse("liaison:notice_withdraw", args=[notice.pk])

    # The page says what follows; without a reason nothing happens.
    shown = page(client, street_user, url)
    assert "2 个接收社区不再需要阅读或回复" in shown.content.decode()
    refused = page(client, street_user, url, reason="  ")
    assert refused.status_code == 200
    assert "请说明撤回的原因" in refused.content.decode()
    assert not Notice.objects.get(pk=notice.pk).is_withdrawn

    done = page(client, street_user, url, reason="时间有误，另行通知")
    assert done.status_code == 302
    notice.refresh_from_db()
    assert notice.withdrawn_by == street_user and notice.withdrawn_reason == "时间有误，另行通知"
    assert todo.waiting_count(community_user) == todo.waiting_count(neighbour_user) == 0
    assert not NoticeCopy.objects.overdue(TODAY + datetime.timedelta(days=10)).exists()
    assert AuditEvent.objects.filter(
        object_id=str(notice.pk), action="status", detail__action="withdraw"
    ).exists()

    # The community still sees it, marked, with the reason, and no reply form.
    text = page(client, community_user, reverse("liaison:notice_detail", args=[notice.pk]))
    text = text.content.decode()
    assert "已撤回" in text and "时间有误，另行通知" in text
    assert reverse("liaison:notice_reply", args=[notice.pk]) not in text
    with pytest.raises(ValidationError, match="已撤回"):
        services.notice_reply(
            actor=community_user, copy=notice.copies.get(area=areas[QIAODONG]), text="收到"
        )
    with pytest.raises(ValidationError):
        services.notice_remind(actor=street_user, notice=notice)
    with pytest.raises(ValidationError):
        services.notice_withdraw(actor=street_user, notice=notice, reason="再撤一次")


def test_only_the_sending_area_withdraws_a_notice(
    street_user, district_user, community_user, areas
):
    notice = send_notice(street_user, area=areas[LIUXIANG])
    for someone in (district_user, community_user):
        with pytest.raises(PermissionDenied):
            services.notice_withdraw(actor=someone, notice=notice, reason="撤回")
    assert not Notice.objects.get(pk=notice.pk).is_withdrawn


# -- Tasks ---------------------------------------------------------------------------------


def test_a_withdrawn_task_is_owed_by_nobody_and_its_copies_stay_as_they_were(
    client, street_user, community_user, neighbour_user, areas
):
    task = send_task(street_user, areas[QIAODONG], areas[WUYIER])
    working = copy_of(task, areas[QIAODONG])
    services.taskcopy_receive(actor=community_user, copy=working)
    assert todo.waiting_count(community_user) == todo.waiting_count(neighbour_user) == 1

    url = reverse("liaison:task_withdraw", args=[task.pk])
    assert "2 个接收地区不再需要办理" in page(client, street_user, url).content.decode()
    assert page(client, street_user, url, reason="任务重复下发").status_code == 302
    task.refresh_from_db()
    assert task.is_withdrawn
    assert todo.waiting_count(community_user) == todo.waiting_count(neighbour_user) == 0
    # The work done so far is kept, and the history says what happened.
    working.refresh_from_db()
    assert working.state == "received"
    assert working.events.last().action == "withdraw"
    assert working.events.last().note == "任务重复下发"
    with pytest.raises(ValidationError, match="已撤回"):
        services.taskcopy_start(actor=community_user, copy=working)
    # Not overdue past its deadline, and left out of the supervision across tasks.
    assert not TaskCopy.objects.overdue(task.deadline + datetime.timedelta(days=1)).exists()
    listed = page(client, street_user, reverse("liaison:task_supervision")).content.decode()
    assert reverse("liaison:task_copy", args=[working.pk]) not in listed
    text = page(client, community_user, reverse("liaison:task_copy", args=[working.pk]))
    text = text.content.decode()
    assert "任务重复下发" in text and 'id="start"' not in text


def test_a_task_with_approved_work_is_not_withdrawn(client, street_user, community_user, areas):
    task = send_task(street_user, areas[QIAODONG], areas[WUYIER])
    copy = done_copy(task, areas[QIAODONG], street_user, community_user)
    services.taskcopy_approve(actor=street_user, copy=copy)
    with pytest.raises(ValidationError, match="桥东一社区"):
        services.task_withdraw(actor=street_user, task=task, reason="撤回")
    shown = page(client, street_user, reverse("liaison:task_withdraw", args=[task.pk]))
    assert shown.status_code == 302
    assert not Task.objects.get(pk=task.pk).is_withdrawn
    detail = page(client, street_user, reverse("liaison:task_detail", args=[task.pk]))
    assert reverse("liaison:task_withdraw", args=[task.pk]) not in detail.content.decode()


def test_the_assessment_leaves_a_withdrawn_task_out(
    street_user, community_user, areas, district_user
):
    from assessment.models import Period

    past = TODAY - datetime.timedelta(days=1)
    period = Period(starts_on=past - datetime.timedelta(days=30), ends_on=TODAY)
    late = send_task(street_user, areas[QIAODONG], deadline=TODAY)
    Task.objects.filter(pk=late.pk).update(deadline=past)  # late now, never done
    community = areas[QIAODONG].pk
    assert _tasks_on_time(period, [community])[community] == 0
    services.task_withdraw(actor=street_user, task=late, reason="不再需要")
    assert _tasks_on_time(period, [community])[community] == 100


def test_only_the_sending_area_withdraws_a_task(street_user, district_user, areas):
    task = send_task(street_user, areas[QIAODONG])
    with pytest.raises(PermissionDenied):
        services.task_withdraw(actor=district_user, task=task, reason="撤回")


# -- Approving a copy: confirmed first -------------------------------------------------------


def test_approving_shows_what_follows_before_it_is_final(
    client, street_user, community_user, areas
):
    task = send_task(street_user, areas[QIAODONG])
    copy = done_copy(task, areas[QIAODONG], street_user, community_user)
    url = reverse("liaison:task_copy_approve", args=[copy.pk])
    shown = page(client, street_user, url, nothing="")
    text = shown.content.decode()
    assert shown.status_code == 200
    assert "按时完成" in text and "不能撤销" in text and "已走访 12 户" in text
    assert copy_of(task, areas[QIAODONG]).state == "done"
    assert page(client, street_user, url, confirmed="1").status_code == 302
    assert copy_of(task, areas[QIAODONG]).state == "approved"


# -- Reports: decided after a confirmation, withdrawn before ---------------------------------


def test_a_decision_is_confirmed_before_it_is_final(client, street_user, community_user):
    report = send_report(community_user)
    url = reverse("liaison:report_decide", args=[report.pk])
    shown = page(client, street_user, url, decision="adopted", comment="很有价值\n请继续")
    text = shown.content.decode()
    assert "计入" in text and "决定后不能更改" in text
    assert Report.objects.get(pk=report.pk).decision == "pending"
    # A decline without its reason is told on the report's page, not confirmed.
    missing = page(client, street_user, url, decision="declined", comment="")
    assert "请说明不采用的原因" in missing.content.decode()
    page(client, street_user, url, decision="adopted", comment="很有价值\n请继续", confirmed="1")
    report.refresh_from_db()
    assert report.decision == "adopted" and report.comment == "很有价值\n请继续"


def test_a_withdrawn_report_is_decided_by_nobody_and_counts_nowhere(
    client, street_user, community_user
):
    report = send_report(community_user)
    assert todo.waiting_count(street_user) == 1
    url = reverse("liaison:report_withdraw", args=[report.pk])
    assert "不作决定" in page(client, community_user, url).content.decode()
    page(client, community_user, url, reason="数据有误，修改后重报")
    report.refresh_from_db()
    assert report.is_withdrawn and report.decision == "pending"
    assert todo.waiting_count(street_user) == 0
    with pytest.raises(ValidationError, match="撤回"):
        services.report_decide(actor=street_user, report=report, decision="adopted")
    counts = page(client, street_user, reverse("liaison:report_counts")).context["totals"]
    assert sum(total["sent"] for total in counts) == 0
    assert not Report.objects.visible_to(street_user).pending().exists()


def test_a_decided_report_is_not_withdrawn(street_user, community_user, neighbour_user):
    report = send_report(community_user)
    with pytest.raises(PermissionDenied):
        services.report_withdraw(actor=neighbour_user, report=report, reason="撤回")
    services.report_decide(actor=street_user, report=report, decision="adopted")
    with pytest.raises(ValidationError, match="已有决定（采用）"):
        services.report_withdraw(actor=community_user, report=report, reason="撤回")


# -- Pages opened before the other side acted ------------------------------------------------


def test_deciding_a_report_withdrawn_meanwhile_says_so(client, street_user, community_user):
    report = send_report(community_user)
    services.report_withdraw(actor=community_user, report=report, reason="数据有误")
    url = reverse("liaison:report_decide", args=[report.pk])
    for data in ({"decision": "adopted"}, {"decision": "adopted", "confirmed": "1"}):
        late = page(client, street_user, url, **data)
        assert late.status_code == 302
        assert "此信息已被报送方撤回" in client.get(late.url).content.decode()
    assert Report.objects.get(pk=report.pk).decision == "pending"


def test_back_from_the_confirmation_keeps_the_choice_and_the_comment(
    client, street_user, community_user
):
    report = send_report(community_user)
    url = reverse("liaison:report_decide", args=[report.pk])
    shown = page(client, street_user, url, decision="declined", comment="内容重复")
    assert 'name="back"' in shown.content.decode()
    back = page(
        client, street_user, url, decision="declined", comment="内容重复", confirmed="1", back="1"
    )
    form = back.context["decision_form"]
    assert (form["decision"].value(), form["comment"].value()) == ("declined", "内容重复")
    assert not form.errors
    assert Report.objects.get(pk=report.pk).decision == "pending"


def test_a_withdrawn_notice_is_not_listed_as_unread(client, street_user, community_user, areas):
    kept = send_notice(street_user, area=areas[LIUXIANG], title="保留的通知")
    gone = send_notice(street_user, area=areas[LIUXIANG], title="撤回的通知")
    services.notice_withdraw(actor=street_user, notice=gone, reason="重复")
    listed = page(
        client, community_user, reverse("liaison:notice_list") + "?box=received&unread=on"
    )
    assert [copy.notice for copy in listed.context["rows"]] == [kept]


def test_reporting_a_task_withdrawn_meanwhile_says_so(client, street_user, community_user, areas):
    task = send_task(street_user, areas[QIAODONG])
    copy = copy_of(task, areas[QIAODONG])
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    services.task_withdraw(actor=street_user, task=task, reason="重复下发")
    url = reverse("liaison:task_copy_report", args=[copy.pk])
    late = page(client, community_user, url, report="已完成")
    assert late.status_code == 302
    assert copy_of(task, areas[QIAODONG]).state == "in_progress"


def test_the_state_cards_add_up(client, street_user, community_user, neighbour_user, areas):
    task = send_task(street_user, areas[QIAODONG], areas[WUYIER])
    copy = done_copy(task, areas[QIAODONG], street_user, community_user)
    services.taskcopy_return(actor=street_user, copy=copy, reason="缺少名单")
    counts = page(client, street_user, reverse("liaison:task_detail", args=[task.pk]))
    counts = counts.context["counts"]
    assert (counts["returned"], counts["in_progress"], counts["issued"]) == (1, 0, 1)
    states = ("issued", "received", "in_progress", "returned", "done", "approved")
    assert sum(counts[state] for state in states) == counts["total"]
