"""The task pages: sending, the copy's actions and history, the supervision table (督办表)
with its sorting, filters, export and fixed number of queries."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from liaison import services
from liaison.models import Task, TaskCopy
from tongzhan.models import Area, AuditEvent

from .test_tasks import LIUXIANG, PDF, QIAODONG, WUYIER, activity_in, copy_of, send

pytestmark = pytest.mark.django_db


def in_progress(copy, user):
    services.taskcopy_receive(actor=user, copy=copy)
    services.taskcopy_start(actor=user, copy=copy)


def test_a_task_is_sent_answered_returned_and_approved_through_the_pages(
    client, areas, street_user, community_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(street_user)
    form = client.get(reverse("liaison:task_create"))
    assert "桥东一社区" in form.content.decode() and "府东一社区" not in form.content.decode()
    response = client.post(
        reverse("liaison:task_create"),
        {
            "title": "年度信息核查",
            "body": "核对统战对象信息",
            "deadline": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
            "recipients": [areas[QIAODONG].pk, areas[WUYIER].pk],
            "files": [SimpleUploadedFile("通知.pdf", PDF, "application/pdf")],
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "liaison:task_detail", args=[task.pk]
    )
    copy = copy_of(task, areas[QIAODONG])

    client.force_login(community_user)
    page = client.get(reverse("liaison:task_copy", args=[copy.pk])).content.decode()
    assert "通知.pdf" in page and 'id="receive"' in page
    attached = task.files.get()
    served = client.get(reverse("liaison:task_file", args=[task.pk, attached.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    client.post(reverse("liaison:task_copy_receive", args=[copy.pk]))
    client.post(reverse("liaison:task_copy_start", args=[copy.pk]))
    activity = activity_in(community_user, areas[QIAODONG])
    form = client.get(reverse("liaison:task_copy_report", args=[copy.pk]))
    assert "中秋联谊会" in form.content.decode()
    response = client.post(
        reverse("liaison:task_copy_report", args=[copy.pk]),
        {"report": "已核查 30 人", "activities": [activity.pk]},
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.state == "done" and list(copy.activities.all()) == [activity]

    client.force_login(street_user)
    refused = client.post(reverse("liaison:task_copy_return", args=[copy.pk]), {"reason": ""})
    assert refused.status_code == 200 and "退回原因" in refused.content.decode()
    client.post(reverse("liaison:task_copy_return", args=[copy.pk]), {"reason": "缺少名单"})
    copy.refresh_from_db()
    assert copy.state == "in_progress" and copy.returned_reason == "缺少名单"

    client.force_login(community_user)
    page = client.get(reverse("liaison:task_copy", args=[copy.pk])).content.decode()
    assert "已退回" in page and "缺少名单" in page
    client.post(reverse("liaison:task_copy_report", args=[copy.pk]), {"report": "补充名单"})
    client.force_login(street_user)
    client.post(reverse("liaison:task_copy_approve", args=[copy.pk]), {"confirmed": "1"})
    copy.refresh_from_db()
    assert copy.state == "approved"
    page = client.get(reverse("liaison:task_copy", args=[copy.pk])).content.decode()
    # The history, each step with who and, for the return, why.
    assert page.count("<li><strong>") == 7 and "缺少名单" in page


def test_a_wrong_step_is_a_message_not_a_change(client, areas, street_user, community_user):
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    client.force_login(community_user)
    response = client.post(reverse("liaison:task_copy_start", args=[copy.pk]), follow=True)
    assert "只有已接收的任务才能开始办理" in response.content.decode()
    copy.refresh_from_db()
    assert copy.state == "issued"
    assert client.get(reverse("liaison:task_copy_report", args=[copy.pk])).status_code == 302


def test_the_supervision_table_marks_sorts_and_filters(client, areas, street_user, community_user):
    task = send(street_user, areas[QIAODONG], areas[WUYIER])
    Task.objects.filter(pk=task.pk).update(deadline=timezone.localdate() - datetime.timedelta(3))
    ours = copy_of(task, areas[QIAODONG])
    in_progress(ours, community_user)
    services.taskcopy_report(actor=community_user, copy=ours, report="完成")
    client.force_login(street_user)
    url = reverse("liaison:task_detail", args=[task.pk])
    response = client.get(url)
    rows = response.context["rows"]
    assert [row.area.name for row in rows] == ["桥东一社区", "五一二社区"]
    page = response.content.decode()
    assert "已逾期 3 天" in page and page.count('<tr class="overdue">') == 1
    assert response.context["counts"]["overdue"] == 1
    by_state = client.get(url, {"sort": "-state"}).context["rows"]
    assert [row.state for row in by_state] == ["done", "issued"]
    by_days = client.get(url, {"sort": "days"}).context["rows"]
    assert [row.area.name for row in by_days] == ["五一二社区", "桥东一社区"]
    assert [r.area.name for r in client.get(url, {"state": "overdue"}).context["rows"]] == [
        "五一二社区"
    ]
    assert [r.area.name for r in client.get(url, {"state": "done"}).context["rows"]] == [
        "桥东一社区"
    ]
    assert client.get(url, {"sort": "nonsense"}).status_code == 200


def test_the_export_is_the_table_in_text_cells_and_is_audited(
    client, areas, street_user, community_user
):
    task = send(street_user, areas[QIAODONG], areas[WUYIER], title="=HYPERLINK(1)")
    ours = copy_of(task, areas[QIAODONG])
    in_progress(ours, community_user)
    services.taskcopy_report(actor=community_user, copy=ours, report="=1+1")
    client.force_login(street_user)
    response = client.get(reverse("liaison:task_export", args=[task.pk]), {"state": "done"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=False))
    assert len(rows) == 1
    assert [cell.value for cell in rows[0]][:2] == ["桥东一社区", "已完成"]
    assert all(cell.data_type == "s" for cell in rows[0] if cell.value is not None)
    assert rows[0][5].value == "=1+1" and rows[0][5].data_type == "s"
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.object_id == str(task.pk) and event.detail["rows"] == 1


def test_the_supervision_table_keeps_a_fixed_number_of_queries(
    client, areas, street_user, django_assert_max_num_queries
):
    street = areas[LIUXIANG]
    communities = [
        Area.objects.create(
            code=f"140106001{index:03d}", name=f"社区{index}", level="community", parent=street
        )
        for index in range(100, 160)
    ]
    small = send(street_user, *communities[:3])
    large = send(street_user, *communities)
    for copy in TaskCopy.objects.filter(task=large)[:20]:
        TaskCopy.objects.filter(pk=copy.pk).update(state="in_progress", holder=street_user)
    client.force_login(street_user)
    counted = []
    for task in (small, large):
        for query in ({}, {"sort": "-holder"}):
            with django_assert_max_num_queries(11) as captured:
                response = client.get(reverse("liaison:task_detail", args=[task.pk]), query)
            counted.append(len(captured))
            assert response.status_code == 200
        with django_assert_max_num_queries(11):
            client.get(reverse("liaison:task_export", args=[task.pk]))
    assert len(response.context["rows"]) == 60
    assert counted[:2] == counted[2:]  # as many queries for 60 areas as for 3


def test_the_supervision_of_one_area_across_tasks(
    client, areas, street_user, district_user, community_user
):
    send(street_user, areas[QIAODONG], areas[WUYIER], title="街道任务")
    send(district_user, areas[LIUXIANG], areas[QIAODONG], title="区任务")
    client.force_login(district_user)
    url = reverse("liaison:task_supervision")
    everything = client.get(url).context["rows"]
    assert len(everything) == 4
    one = client.get(url, {"area": QIAODONG}).context["rows"]
    assert {(c.task.title, c.area.name) for c in one} == {
        ("街道任务", "桥东一社区"), ("区任务", "桥东一社区"),
    }  # fmt: skip
    client.force_login(community_user)
    assert len(client.get(url).context["rows"]) == 2
    assert client.get(url, {"area": WUYIER}).status_code == 404  # not hers


def test_the_lists_show_what_was_received_and_sent(
    client, areas, street_user, district_user, community_user
):
    send(street_user, areas[QIAODONG], title="街道任务")
    send(district_user, areas[LIUXIANG], title="区任务")
    client.force_login(street_user)
    sent = client.get(reverse("liaison:task_list"))
    assert [task.title for task in sent.context["rows"]] == ["街道任务"]
    received = client.get(reverse("liaison:task_list"), {"box": "received"})
    assert [copy.task.title for copy in received.context["rows"]] == ["区任务"]
    client.force_login(community_user)
    mine = client.get(reverse("liaison:task_list"))
    assert [copy.task.title for copy in mine.context["rows"]] == ["街道任务"]
    assert client.get(reverse("liaison:task_create")).status_code == 403


def test_out_of_scope_is_404_and_without_the_right_403(
    client, areas, street_user, community_user, neighbour_user, other_district_user,
    settings, tmp_path,
):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    in_progress(copy, community_user)
    services.taskcopy_report(
        actor=community_user, copy=copy, report="完成",
        uploads=[SimpleUploadedFile("照片.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    attached = copy.files.get()
    file_url = reverse("liaison:task_copy_file", args=[copy.pk, attached.pk])
    for user, status in ((community_user, 200), (street_user, 200), (neighbour_user, 404),
                         (other_district_user, 404)):  # fmt: skip
        client.force_login(user)
        assert client.get(reverse("liaison:task_copy", args=[copy.pk])).status_code == status
        assert client.get(file_url).status_code == status
        detail = client.get(reverse("liaison:task_detail", args=[copy.task_id]))
        assert detail.status_code == status
    client.force_login(community_user)  # answers, does not review
    assert client.post(reverse("liaison:task_copy_approve", args=[copy.pk])).status_code == 403
    client.force_login(street_user)  # reviews, does not answer for the community
    assert client.get(reverse("liaison:task_copy_report", args=[copy.pk])).status_code == 403


@pytest.mark.parametrize("count", [2, 12])
def test_the_lists_keep_a_fixed_number_of_queries(
    client, areas, street_user, district_user, count, django_assert_max_num_queries
):
    for index in range(count):
        send(street_user, areas[QIAODONG], areas[WUYIER], title=f"街道任务{index}")
        send(district_user, areas[LIUXIANG], title=f"区任务{index}")
    client.force_login(street_user)
    for url, query in (
        (reverse("liaison:task_list"), {}),
        (reverse("liaison:task_list"), {"box": "received"}),
        (reverse("liaison:task_supervision"), {}),
        (reverse("liaison:task_supervision"), {"area": QIAODONG, "sort": "-reported"}),
    ):
        with django_assert_max_num_queries(11):
            assert client.get(url, query).status_code == 200


def test_a_returned_copys_report_form_starts_from_its_report(
    client, areas, street_user, community_user
):
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    in_progress(copy, community_user)
    activity = activity_in(community_user, areas[QIAODONG])
    services.taskcopy_report(actor=community_user, copy=copy, report="初稿", activities=[activity])
    services.taskcopy_return(actor=street_user, copy=copy, reason="补充")
    client.force_login(community_user)
    form = client.get(reverse("liaison:task_copy_report", args=[copy.pk])).context["form"]
    assert form["report"].value() == "初稿" and form["activities"].value() == [activity.pk]


def test_hostile_query_strings_are_no_server_error(client, areas, street_user):
    task = send(street_user, areas[QIAODONG])
    client.force_login(street_user)
    for url in (
        reverse("liaison:task_list"),
        reverse("liaison:task_supervision"),
        reverse("liaison:task_detail", args=[task.pk]),
        reverse("liaison:task_export", args=[task.pk]),
    ):
        for value in ("\x00", "x" * 500, "-1", "１２３", "140106001001"):
            for name in ("area", "state", "sort", "box", "page"):
                assert client.get(url, {name: value}).status_code in (200, 404)
