"""The transfer pages: alice asks for her member's transfer into bob's community, bob sees it
on his home page and his transfer list and decides on a page that shows what he needs, not
her record; the street reads, another district finds nothing."""

import pytest
from django.urls import reverse

from members.models import Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def transfer(client, areas, community_user, member):
    client.force_login(community_user)
    client.post(
        reverse("members:transfer", args=[member.pk]),
        {"to_community": areas["140106001002"].pk, "reason": "随子女居住"},
    )
    client.logout()
    return Transfer.objects.get(member=member)


def page(client, user, name, *args):
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    return response.status_code, response.content.decode() if response.status_code == 200 else ""


def test_the_receiver_sees_it_on_the_home_page_and_at_the_top_of_the_list(
    client, transfer, neighbour_user
):
    _status, home = page(client, neighbour_user, "home")
    assert 'id="todo-transfers"' in home and "待接收的迁入" in home
    assert f'href="{reverse("members:transfers")}"' in home
    client.force_login(neighbour_user)
    listed = client.get(reverse("members:transfers"))
    assert [t.pk for t in listed.context["incoming"]] == [transfer.pk]
    assert listed.context["waiting"] == [] and "张三" in listed.content.decode()


def test_the_sender_sees_it_waiting_and_nothing_on_her_todo(client, transfer, community_user):
    _status, home = page(client, community_user, "home")
    assert 'id="todo-transfers"' not in home
    listed = client.get(reverse("members:transfers"))
    assert listed.context["incoming"] == [] and listed.context["waiting"] == [transfer]


def test_the_transfer_page_shows_what_the_receiver_decides_on_not_the_record(
    client, transfer, neighbour_user, member
):
    status, html = page(client, neighbour_user, "members:transfer_detail", transfer.pk)
    assert status == 200
    for shown in ("张三", member.id_number_masked, "知识分子", "桥东一社区", "随子女居住",
                  "王丽", 'id="accept-transfer"', 'id="decline-transfer"'):  # fmt: skip
        assert shown in html, shown
    assert member.id_number not in html and member.phone_masked not in html
    assert 'id="withdraw-transfer"' not in html
    assert reverse("members:detail", args=[member.pk]) not in html
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 404


def test_the_street_reads_and_another_district_finds_nothing(
    client, transfer, street_user, district_user, other_district_user
):
    status, html = page(client, street_user, "members:transfer_detail", transfer.pk)
    assert status == 200 and 'id="accept-transfer"' not in html
    assert client.get(reverse("members:transfers")).context["waiting"] == [transfer]
    status, html = page(client, district_user, "members:transfer_detail", transfer.pk)
    assert 'id="accept-transfer"' in html  # the district may act for the receiving side
    assert page(client, other_district_user, "members:transfer_detail", transfer.pk)[0] == 404
    listed = client.get(reverse("members:transfers"))
    assert listed.context["incoming"] == listed.context["waiting"] == []


def test_a_decline_without_reason_is_shown_again_and_with_one_is_told_to_the_sender(
    client, transfer, neighbour_user, community_user, member
):
    client.force_login(neighbour_user)
    url = reverse("members:transfer_decline", args=[transfer.pk])
    response = client.post(url, {"note": ""})
    assert response.status_code == 200 and "这个字段是必填项。" in response.content.decode()
    response = client.post(url, {"note": "本社区无此住址"}, follow=True)
    assert "已退回张三的迁入申请，其仍在桥东一社区。" in response.content.decode()
    status, html = page(client, community_user, "members:detail", member.pk)
    assert "迁入被退回" in html and "本社区无此住址" in html and "待接收（" not in html


def test_the_sender_withdraws_from_the_member_page(client, transfer, community_user, member):
    client.force_login(community_user)
    response = client.post(reverse("members:transfer_withdraw", args=[transfer.pk]), follow=True)
    html = response.content.decode()
    assert "已撤回张三迁往五一二社区的申请。" in html and "撤回迁出" in html
    transfer.refresh_from_db()
    assert transfer.state == Transfer.State.WITHDRAWN


def test_a_second_accept_is_told_it_was_already_decided(
    client, transfer, neighbour_user, district_user
):
    client.force_login(neighbour_user)
    client.post(reverse("members:transfer_accept", args=[transfer.pk]), {})
    client.force_login(district_user)
    response = client.post(reverse("members:transfer_accept", args=[transfer.pk]), {})
    assert response.status_code == 200
    assert "该转移已处理（已接收），未作任何更改。" in response.content.decode()


def test_the_transfer_page_offers_no_second_request_while_one_waits(
    client, transfer, community_user, member
):
    status, html = page(client, community_user, "members:detail", member.pk)
    assert reverse("members:transfer", args=[member.pk]) not in html
    status, html = page(client, community_user, "members:transfer", member.pk)
    assert "该统战对象迁往五一二社区的申请正在等待接收。" in html
