"""What keeps the to-do page and the supervision table fast for a district of 200 communities
(benchmarks/liaison_pages.py, issue 16): the to-do page counts what waits once, a task's table
asks for its copies without the user's area ids when the task was sent from within them, and
the table's rows, written without the template engine, still escape what users typed."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from liaison import services

from .test_tasks import FUDONG, QIAODONG, WUYIER, copy_of, send

pytestmark = pytest.mark.django_db


def test_the_to_do_page_counts_once_and_its_header_agrees(
    client, areas, street_user, community_user
):
    send(street_user, areas[QIAODONG])
    services.notice_send(
        actor=street_user, data={"title": "开会通知", "body": "周五开会。"}, area=areas[QIAODONG]
    )
    client.force_login(community_user)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("liaison:todo")).content.decode()
    assert "中秋走访" in page and "开会通知" in page
    header = page[page.index('class="todo"') :]
    assert re.search(r'<span class="badge"[^>]*>2</span>', header[: header.index("</a>")])
    # The waiting counts are one query (todo.waiting_counts), run for the page and its header.
    assert sum("_waiting" in query["sql"] for query in captured.captured_queries) == 1


def test_a_districts_task_table_shows_every_copy_and_a_street_only_its_own(
    client, areas, district_user, street_user
):
    task = send(district_user, areas[QIAODONG], areas[WUYIER], areas[FUDONG])
    url = reverse("liaison:task_detail", args=[task.pk])
    client.force_login(district_user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert [row.area.code for row in response.context["rows"]] == [QIAODONG, WUYIER, FUDONG]
    assert response.context["counts"]["total"] == 3
    # Sent from the district's own area: its copies without the list of the district's areas.
    assert not [
        q for q in captured.captured_queries if '"liaison_taskcopy"."area_id" IN' in q["sql"]
    ]

    client.force_login(street_user)  # 柳巷街道: the district's task, only its communities' rows
    response = client.get(url, {"sort": "days"})
    assert [row.area.code for row in response.context["rows"]] == [QIAODONG, WUYIER]
    assert response.context["counts"]["total"] == 2


def test_the_tables_rows_escape_what_users_typed(client, areas, street_user, community_user):
    task = send(street_user, areas[QIAODONG], title="<b>核查</b> & 走访")
    copy = copy_of(task, areas[QIAODONG])
    community_user.first_name = "<i>丽</i>"
    community_user.save()
    services.taskcopy_receive(actor=community_user, copy=copy)
    Task = type(task)
    Task.objects.filter(pk=task.pk).update(deadline=timezone.localdate() - datetime.timedelta(2))
    client.force_login(street_user)
    table = client.get(reverse("liaison:task_detail", args=[task.pk])).content.decode()
    listing = client.get(reverse("liaison:task_supervision")).content.decode()
    link = f'<a href="{reverse("liaison:task_copy", args=[copy.pk])}">'
    assert (
        f"{link}桥东一社区</a>" in table
        and f"{link}&lt;b&gt;核查&lt;/b&gt; &amp; 走访</a>" in listing
    )
    for page in (table, listing):
        assert "&lt;i&gt;丽&lt;/i&gt;" in page and "<i>丽</i>" not in page
        assert '<tr class="overdue">' in page and "已逾期 2 天" in page
