"""Notices (通知公告): sent down from a district or street, one copy per community, read
receipts, replies, reminders, and who sees what."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from liaison import services
from liaison.models import Notice, NoticeCopy
from tongzhan.models import AuditEvent
from tongzhan.services import area_merge

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
TODAY = timezone.localdate()


def send(actor, area=None, communities=(), reply_by=None, uploads=(), title="防汛工作通知"):
    return services.notice_send(
        actor=actor,
        data={"title": title, "body": "请各社区做好准备。", "reply_by": reply_by},
        area=area,
        communities=communities,
        uploads=uploads,
    )


@pytest.fixture
def street_notice(street_user, areas):
    """柳巷街道 to both its communities, a reply asked for within a week."""
    return send(street_user, area=areas["140106001"], reply_by=TODAY + datetime.timedelta(7))


def copy_of(notice, area):
    return NoticeCopy.objects.get(notice=notice, area=area)


# -- Sending ------------------------------------------------------------------------------


def test_a_street_sends_to_every_community_below_it(street_notice, areas):
    assert set(street_notice.copies.values_list("area__code", flat=True)) == {
        "140106001001",
        "140106001002",
    }
    assert street_notice.area == areas["140106001"]
    event = AuditEvent.objects.get(object_type="liaison.notice")
    assert event.action == "create"
    assert event.detail["recipients"] == ["140106001001", "140106001002"]


def test_the_district_sends_to_the_whole_district_or_one_street(district_user, areas):
    whole = send(district_user, area=areas["140106"])
    assert whole.copies.count() == 3  # 桥东一, 五一二, 府东一
    one_street = send(district_user, area=areas["140106002"])
    assert list(one_street.copies.values_list("area__code", flat=True)) == ["140106002001"]


def test_chosen_communities_only_receive_it(district_user, areas):
    notice = send(district_user, area=areas["140106"], communities=[areas["140106001002"]])
    assert list(notice.copies.values_list("area__code", flat=True)) == ["140106001002"]


def test_retired_communities_receive_nothing(district_user, areas):
    areas["140106001002"].retired_at = timezone.now()
    areas["140106001002"].save()
    notice = send(district_user, area=areas["140106001"])
    assert list(notice.copies.values_list("area__code", flat=True)) == ["140106001001"]


@pytest.mark.parametrize(
    ("sender", "area", "communities"),
    [
        ("street_user", "140106002", ()),  # the neighbouring street
        ("street_user", "140106", ()),  # the district above
        ("street_user", None, ("140106002001",)),  # a community of another street
        ("district_user", None, ("140105001001",)),  # a community of another district
    ],
)
def test_recipients_outside_the_senders_area_are_refused(request, areas, sender, area, communities):
    actor = request.getfixturevalue(sender)
    with pytest.raises(ValidationError) as refused:
        send(actor, area=areas[area] if area else None, communities=[areas[c] for c in communities])
    assert actor.area.name in " ".join(refused.value.messages)
    assert not Notice.objects.exists()


def test_communities_and_neighbours_may_not_send(community_user, admin_user, areas):
    for actor in (community_user, admin_user):
        with pytest.raises(PermissionDenied):
            send(actor, area=areas["140106001001"])


def test_a_reply_date_in_the_past_is_refused(street_user, areas):
    with pytest.raises(ValidationError) as refused:
        send(street_user, area=areas["140106001"], reply_by=TODAY - datetime.timedelta(1))
    assert "reply_by" in refused.value.error_dict


def test_attachments_are_checked_by_their_bytes(street_user, areas):
    with pytest.raises(ValidationError) as refused:
        send(
            street_user,
            area=areas["140106001"],
            uploads=[
                SimpleUploadedFile("通知.pdf", PDF, "application/pdf"),
                SimpleUploadedFile("照片.jpg", EXE, "image/jpeg"),
            ],
        )
    assert "files" in refused.value.error_dict
    assert not Notice.objects.exists()


# -- Pages: who sees what -------------------------------------------------------------------


def test_the_create_form_sends_with_files(client, street_user, community_user, areas):
    client.force_login(street_user)
    page = client.get(reverse("liaison:notice_create"))
    assert page.status_code == 200
    assert "桥东一社区" in page.content.decode() and "府东一社区" not in page.content.decode()
    response = client.post(
        reverse("liaison:notice_create"),
        {
            "title": "学习通知",
            "body": "请学习。",
            "area": areas["140106001"].pk,
            "communities": [areas["140106001001"].pk],
            "files": [SimpleUploadedFile("材料.pdf", PDF, "application/pdf")],
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("liaison:notice_status", args=[notice.pk])
    attached = notice.files.get()
    assert attached.kind == "pdf" and "材料" not in attached.file.name
    client.force_login(community_user)
    served = client.get(reverse("liaison:notice_file", args=[notice.pk, attached.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF


def test_the_create_form_shows_a_refused_file(client, street_user, areas):
    client.force_login(street_user)
    response = client.post(
        reverse("liaison:notice_create"),
        {
            "title": "学习通知",
            "body": "请学习。",
            "area": areas["140106001"].pk,
            "files": [SimpleUploadedFile("材料.pdf", EXE, "application/pdf")],
        },
    )
    assert response.status_code == 200
    assert "材料.pdf" in response.context["form"].errors["files"][0]
    assert not Notice.objects.exists()


def test_a_community_sees_only_its_copy(
    client, street_notice, community_user, neighbour_user, other_district_user, areas
):
    other = send(community_user.__class__.objects.get(username="charlie"),
                 communities=[areas["140106001002"]], title="只给五一二")  # fmt: skip
    client.force_login(community_user)
    listing = client.get(reverse("liaison:notice_list")).content.decode()
    assert "防汛工作通知" in listing and "只给五一二" not in listing
    assert client.get(reverse("liaison:notice_detail", args=[other.pk])).status_code == 404
    client.force_login(other_district_user)
    assert client.get(reverse("liaison:notice_detail", args=[street_notice.pk])).status_code == 404
    assert client.get(reverse("liaison:notice_status", args=[street_notice.pk])).status_code == 404
    assert "防汛工作通知" not in client.get(reverse("liaison:notice_list")).content.decode()


def test_bob_does_not_see_a_notice_sent_to_alice_alone(client, street_user, neighbour_user, areas):
    notice = send(street_user, communities=[areas["140106001001"]])
    client.force_login(neighbour_user)
    assert client.get(reverse("liaison:notice_detail", args=[notice.pk])).status_code == 404
    assert client.post(reverse("liaison:notice_reply", args=[notice.pk])).status_code == 404


def test_the_street_sees_both_copies_on_the_status_page(
    client, street_notice, street_user, community_user, areas
):
    client.force_login(community_user)
    client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    client.force_login(street_user)
    page = client.get(reverse("liaison:notice_status", args=[street_notice.pk]))
    assert page.status_code == 200
    copies = page.context["copies"]
    assert [copy.area.code for copy in copies] == ["140106001001", "140106001002"]
    assert page.context["counts"]["read"] == 1
    html = page.content.decode()
    assert "桥东一社区" in html and "五一二社区" in html and "王丽" in html


def test_a_street_sees_the_district_notice_to_its_communities_only(
    client, district_user, street_user, other_street_user, areas
):
    notice = send(district_user, area=areas["140106"])
    client.force_login(street_user)
    page = client.get(reverse("liaison:notice_status", args=[notice.pk]))
    assert [copy.area.code for copy in page.context["copies"]] == [
        "140106001001",
        "140106001002",
    ]
    assert not page.context["can_remind"]  # the district follows its notice up
    assert client.post(reverse("liaison:notice_remind", args=[notice.pk])).status_code == 403
    received = client.get(reverse("liaison:notice_list") + "?box=received")
    assert len(received.context["rows"]) == 2
    client.force_login(other_street_user)
    page = client.get(reverse("liaison:notice_status", args=[notice.pk]))
    assert [copy.area.code for copy in page.context["copies"]] == ["140106002001"]


def test_a_community_may_not_open_the_status_page(client, street_notice, community_user):
    client.force_login(community_user)
    assert client.get(reverse("liaison:notice_status", args=[street_notice.pk])).status_code == 403


# -- Read receipts, replies, reminders -------------------------------------------------------


def test_opening_records_the_first_reader_once(
    client, street_notice, community_user, street_user, areas
):
    mine = copy_of(street_notice, areas["140106001001"])
    client.force_login(street_user)  # the sender opening it reads no community's copy
    client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    mine.refresh_from_db()
    assert mine.read_at is None
    client.force_login(community_user)
    client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    mine.refresh_from_db()
    first = mine.read_at
    assert first is not None and mine.read_by == community_user
    client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    mine.refresh_from_db()
    assert mine.read_at == first
    assert copy_of(street_notice, areas["140106001002"]).read_at is None
    assert not AuditEvent.objects.filter(object_type="liaison.noticecopy").exists()


def test_a_community_replies_once(client, street_notice, community_user, areas):
    client.force_login(community_user)
    url = reverse("liaison:notice_reply", args=[street_notice.pk])
    page = client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    assert page.context["reply_form"] is not None
    response = client.post(url, {"reply": "已完成排查。"})
    assert response.status_code == 302
    mine = copy_of(street_notice, areas["140106001001"])
    assert (mine.reply, mine.replied_by) == ("已完成排查。", community_user)
    assert mine.read_at is not None
    again = client.post(url, {"reply": "改一下"}, follow=True)
    assert "已经回复" in again.content.decode() or "already replied" in again.content.decode()
    mine.refresh_from_db()
    assert mine.reply == "已完成排查。"
    event = AuditEvent.objects.get(object_type="liaison.noticecopy")
    assert event.action == "update" and event.detail["area"] == "140106001001"
    page = client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    assert page.context["reply_form"] is None and "已完成排查。" in page.content.decode()


def test_an_empty_reply_or_one_not_asked_for_is_refused(client, street_user, community_user, areas):
    notice = send(street_user, area=areas["140106001"])  # no reply asked
    with pytest.raises(ValidationError):
        services.notice_reply(
            actor=community_user, copy=copy_of(notice, areas["140106001001"]), text="好"
        )
    client.force_login(community_user)
    client.post(reverse("liaison:notice_reply", args=[notice.pk]), {"reply": ""})
    assert not NoticeCopy.objects.filter(replied_at__isnull=False).exists()


def test_the_street_may_not_reply_for_a_community(client, street_notice, street_user):
    client.force_login(street_user)
    response = client.post(
        reverse("liaison:notice_reply", args=[street_notice.pk]), {"reply": "代答"}
    )
    assert response.status_code == 403


def test_remind_stamps_the_unread_copies_and_shows_to_them(
    client, street_notice, street_user, community_user, neighbour_user, areas
):
    client.force_login(community_user)
    client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))  # alice has read it
    client.force_login(street_user)
    response = client.post(reverse("liaison:notice_remind", args=[street_notice.pk]))
    assert response.status_code == 302
    assert copy_of(street_notice, areas["140106001001"]).reminded_at is None
    assert copy_of(street_notice, areas["140106001002"]).reminded_at is not None
    event = AuditEvent.objects.get(object_type="liaison.notice", action="update")
    assert event.detail["reminded"] == ["140106001002"]
    client.force_login(neighbour_user)
    listing = client.get(reverse("liaison:notice_list")).content.decode()
    assert "催办" in listing
    # Once everyone has read it there is nobody to remind.
    client.get(reverse("liaison:notice_detail", args=[street_notice.pk]))
    with pytest.raises(ValidationError):
        services.notice_remind(actor=street_user, notice=street_notice)


def test_the_unread_filter(client, street_user, community_user, areas):
    read = send(street_user, area=areas["140106001"], title="已看的通知")
    send(street_user, area=areas["140106001"], title="没看的通知")
    client.force_login(community_user)
    client.get(reverse("liaison:notice_detail", args=[read.pk]))
    listing = client.get(reverse("liaison:notice_list") + "?unread=on").content.decode()
    assert "没看的通知" in listing and "已看的通知" not in listing
    client.force_login(street_user)
    sent = client.get(reverse("liaison:notice_list") + "?box=sent&unread=on")
    assert len(sent.context["rows"]) == 2  # 五一二社区 has read neither


# -- The to-do list's questions ---------------------------------------------------------------


def test_waiting_for_is_the_users_own_area_only(
    street_notice, community_user, street_user, district_user, areas
):
    assert list(NoticeCopy.objects.waiting_for(community_user)) == [
        copy_of(street_notice, areas["140106001001"])
    ]
    assert not NoticeCopy.objects.waiting_for(street_user).exists()  # below it, not its own
    services.notice_read(actor=community_user, copy=copy_of(street_notice, areas["140106001001"]))
    # Read, but the reply is still owed.
    assert NoticeCopy.objects.waiting_for(community_user).count() == 1
    services.notice_reply(
        actor=community_user, copy=copy_of(street_notice, areas["140106001001"]), text="收到"
    )
    assert not NoticeCopy.objects.waiting_for(community_user).exists()


def test_overdue_copies(street_notice, community_user, areas):
    later = TODAY + datetime.timedelta(8)
    assert NoticeCopy.objects.overdue(later).count() == 2
    assert not NoticeCopy.objects.overdue(TODAY).exists()
    services.notice_reply(
        actor=community_user, copy=copy_of(street_notice, areas["140106001001"]), text="收到"
    )
    assert list(NoticeCopy.objects.overdue(later).values_list("area__code", flat=True)) == [
        "140106001002"
    ]


def test_an_overdue_reply_is_marked_on_the_status_page(client, street_user, areas):
    notice = send(street_user, area=areas["140106001"], reply_by=TODAY)
    Notice.objects.filter(pk=notice.pk).update(reply_by=TODAY - datetime.timedelta(2))
    client.force_login(street_user)
    page = client.get(reverse("liaison:notice_status", args=[notice.pk]))
    assert page.context["counts"]["overdue"] == 2
    assert page.content.decode().count('class="badge overdue"') == 2


# -- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("box", ["received", "sent"])
def test_list_queries_do_not_grow_with_rows(
    client, street_user, community_user, district_user, areas, box, django_assert_max_num_queries
):
    for number in range(12):
        send(district_user, area=areas["140106"], title=f"区通知{number}")
        send(street_user, area=areas["140106001"], title=f"街道通知{number}")
    user = community_user if box == "received" else street_user
    client.force_login(user)
    with django_assert_max_num_queries(9):  # 8, and the header's to-do count
        response = client.get(reverse("liaison:notice_list") + f"?box={box}")
    assert len(response.context["rows"]) == (24 if box == "received" else 12)


def test_status_page_queries_do_not_grow_with_copies(
    client, district_user, community_user, areas, django_assert_max_num_queries
):
    notice = send(district_user, area=areas["140106"])
    client.force_login(community_user)
    client.get(reverse("liaison:notice_detail", args=[notice.pk]))
    client.force_login(district_user)
    with django_assert_max_num_queries(9):  # 8, and the header's to-do count
        page = client.get(reverse("liaison:notice_status", args=[notice.pk]))
    assert len(page.context["copies"]) == 3
    assert [(t["street"].name, t["read"], t["all"]) for t in page.context["by_street"]] == [
        ("柳巷街道", 1, 2),
        ("文庙街道", 0, 1),
    ]


# -- Areas merged ---------------------------------------------------------------------------


def test_a_merged_community_brings_its_copies_without_doubling(
    street_user, district_user, community_user, neighbour_user, admin_user, areas
):
    both = send(street_user, area=areas["140106001"], reply_by=TODAY)
    only_bob = send(street_user, communities=[areas["140106001002"]])
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    # bob read and answered the notice both received; alice had not opened hers.
    services.notice_reply(actor=neighbour_user, copy=copy_of(both, wuyier), text="已落实")
    assert services.area_notices_count(wuyier) == 2
    area_merge(actor=admin_user, source=wuyier, target=qiaodong)
    assert not NoticeCopy.objects.filter(area=wuyier).exists()
    kept = copy_of(both, qiaodong)  # one copy, the target's, with what bob's knew
    assert (kept.reply, kept.replied_by, kept.read_by) == ("已落实", neighbour_user, neighbour_user)
    assert both.copies.count() == 1
    assert copy_of(only_bob, qiaodong).read_at is None


def test_a_merge_keeps_the_targets_own_reply(street_user, community_user, neighbour_user,
                                             admin_user, areas):  # fmt: skip
    both = send(street_user, area=areas["140106001"], reply_by=TODAY)
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    services.notice_reply(actor=community_user, copy=copy_of(both, qiaodong), text="桥东答复")
    services.notice_reply(actor=neighbour_user, copy=copy_of(both, wuyier), text="五一二答复")
    area_merge(actor=admin_user, source=wuyier, target=qiaodong)
    kept = both.copies.get()
    assert (kept.area, kept.reply, kept.replied_by) == (qiaodong, "桥东答复", community_user)


def test_the_back_office_lists_notices_read_only(client, street_notice, admin_user):
    client.force_login(admin_user)
    listing = client.get(reverse("admin:liaison_notice_changelist"))
    assert listing.status_code == 200 and "防汛工作通知" in listing.content.decode()
    page = client.get(reverse("admin:liaison_notice_change", args=[street_notice.pk]))
    assert page.status_code == 200 and "五一二社区" in page.content.decode()
    assert client.get(reverse("admin:liaison_notice_add")).status_code == 403


def test_each_role_gets_the_notice_rights_it_needs(
    community_user, street_user, district_user, other_district_user
):
    assert community_user.has_perm("liaison.change_noticecopy")
    assert not community_user.has_perm("liaison.add_notice")
    assert street_user.has_perm("liaison.add_notice")
    assert street_user.has_perm("liaison.change_noticecopy")
    assert district_user.has_perm("liaison.add_notice")
    assert not district_user.has_perm("liaison.change_noticecopy")
