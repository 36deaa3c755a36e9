"""What waits on me (我的待办): the page, the header's count, and that both agree with what
was sent, read, replied and done."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from liaison import services, todo
from liaison.models import Notice
from members import services as member_services

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def send(actor, area, title, reply_by=None):
    return services.notice_send(
        actor=actor,
        data={"title": title, "body": "请各社区做好准备。", "reply_by": reply_by},
        area=area,
    )


def header_count(client) -> str:
    page = client.get(reverse("members:list")).content.decode()
    start = page.index('class="todo"')
    return page[start : page.index("</a>", start)]


def test_a_notice_waits_until_read_and_its_reply_until_given(
    client, street_user, community_user, neighbour_user, areas
):
    notice = send(street_user, areas["140106001"], "防汛工作通知", TODAY + datetime.timedelta(3))
    client.force_login(community_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "防汛工作通知" in page and "未读" in page
    assert '<span class="badge"' in header_count(client) and ">1<" in header_count(client)

    client.get(reverse("liaison:notice_detail", args=[notice.pk]))  # read
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "防汛工作通知" in page and "待回复" in page and "未读" not in page

    client.post(reverse("liaison:notice_reply", args=[notice.pk]), {"reply": "已部署。"})
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "防汛工作通知" not in page and "暂无待办事项" in page
    assert "badge" not in header_count(client)

    # The neighbouring community's copy still waits on its own worker, not on alice.
    assert todo.waiting_count(neighbour_user) == 1
    assert todo.waiting_count(community_user) == 0


def test_what_is_overdue_comes_first_with_its_days(client, street_user, community_user, areas):
    send(street_user, areas["140106001"], "普通通知")
    late = send(street_user, areas["140106001"], "逾期通知", TODAY + datetime.timedelta(1))
    Notice.objects.filter(pk=late.pk).update(reply_by=TODAY - datetime.timedelta(4))
    client.force_login(community_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert page.index("逾期通知") < page.index("普通通知")
    assert "已逾期 4 天" in page


def test_an_incoming_transfer_waits_on_the_receiving_community(
    client, community_user, neighbour_user, member, areas
):
    member_services.transfer_request(
        actor=community_user, member=member, to_community=areas["140106001002"], reason="搬家"
    )
    client.force_login(neighbour_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert member.name in page and "待接收的转入" in page
    assert todo.waiting_count(community_user) == 0


def test_the_header_count_is_one_query_beside_what_every_page_looks_up(
    street_user, community_user, areas, django_assert_num_queries
):
    for number in range(3):
        send(street_user, areas["140106001"], f"通知{number}")
    community_user.refresh_from_db()
    todo.waiting_count(community_user)  # her rights and areas, which any page looks up once
    with django_assert_num_queries(1):
        assert todo.waiting_count(community_user) == 3


def test_auditors_and_accounts_without_an_area_have_no_to_do(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "只有所属区域的工作人员" in page
    assert 'class="todo"' not in client.get(reverse("home")).content.decode()


def test_a_task_waits_on_the_community_then_on_the_street_that_reviews_it(
    client, street_user, community_user, areas
):
    task = services.task_send(
        actor=street_user,
        data={"title": "中秋走访", "body": "走访慰问", "deadline": TODAY + datetime.timedelta(5)},
        recipients=[areas["140106001001"]],
    )
    copy = task.copies.get()
    client.force_login(community_user)
    assert "中秋走访" in client.get(reverse("liaison:todo")).content.decode()
    assert todo.waiting_counts(street_user)["tasks"] == 0
    for step in (services.taskcopy_receive, services.taskcopy_start):
        step(actor=community_user, copy=copy)
    services.taskcopy_report(actor=community_user, copy=copy, report="已走访 12 户")
    assert todo.waiting_counts(community_user)["tasks"] == 0
    client.force_login(street_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "中秋走访（桥东一社区）" in page and "待审核" in page
    services.taskcopy_approve(actor=street_user, copy=copy)
    assert todo.waiting_count(street_user) == 0


def test_a_report_and_a_referred_need_wait_on_the_street(
    client, street_user, community_user, member, areas
):
    services.report_submit(
        actor=community_user,
        data={"kind": "public_opinion", "title": "停车难", "body": "车位不足"},
    )
    need = activity_services.need_create(
        actor=community_user, member=member, data={"kind": "legal", "description": "纠纷"}
    )
    activity_services.need_refer(
        actor=community_user, need=need, to_area=areas["140106001"], note="社区无法协调"
    )
    client.force_login(street_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "停车难" in page and "待审" in page
    assert member.name in page and "待受理" in page
    assert todo.waiting_counts(street_user) == {
        "notices": 0, "tasks": 0, "reports": 1, "needs": 1, "materials": 0, "transfers": 0,
        "person_requests": 0,
    }  # fmt: skip
    assert todo.waiting_count(community_user) == 0


def test_a_material_asking_for_a_receipt_waits_until_read(
    client, street_user, community_user, areas
):
    material = services.material_publish(
        actor=street_user,
        data={"area": areas["140106001"], "kind": "policy", "title": "民族政策解读",
              "body": "正文", "receipt_asked": True},
    )  # fmt: skip
    client.force_login(community_user)
    page = client.get(reverse("liaison:todo")).content.decode()
    assert "民族政策解读" in page and "待阅读" in page
    assert todo.waiting_counts(street_user)["materials"] == 0  # the publisher is not asked
    client.get(reverse("liaison:library_detail", args=[material.pk]))
    assert todo.waiting_counts(community_user)["materials"] == 0
