"""What an attacker tries against notices, tasks, reports, the library and training, and the
need referral: other areas' ids, acting beyond the role, replayed states, hostile text in
pages and spreadsheets, files served through another record's URL."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services as activity_services
from liaison import services
from liaison.models import Report, TaskCopy, Training

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, LIUXIANG, WENMIAO, FUDONG = (
    "140106001001", "140106001002", "140106001", "140106002", "140106002001",
)  # fmt: skip
YINGZE, XIAODIAN, WUCHENG = "140106", "140105", "140105001001"
PDF = b"%PDF-1.7\n<html><script>alert(1)</script></html>" + b"0" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def task(actor, *areas, title="中秋走访", uploads=()):
    return services.task_send(
        actor=actor,
        data={
            "title": title,
            "body": "走访",
            "deadline": timezone.localdate() + datetime.timedelta(days=5),
        },
        recipients=areas,
        uploads=uploads,
    )


def notice(actor, area=None, communities=(), uploads=(), reply_by=None):
    return services.notice_send(
        actor=actor,
        data={"title": "防汛", "body": "准备", "reply_by": reply_by},
        area=area,
        communities=communities,
        uploads=uploads,
    )


def to_done(copy, user):
    services.taskcopy_receive(actor=user, copy=copy)
    services.taskcopy_start(actor=user, copy=copy)
    services.taskcopy_report(actor=user, copy=copy, report="做了")


# -- IDOR: another area's ids, another record's file --------------------------------------


def test_a_file_of_another_task_is_not_served_through_a_visible_task(
    client, areas, street_user, other_district_user, community_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    mine = task(street_user, areas[QIAODONG])
    theirs = task(
        other_district_user, areas[WUCHENG],
        uploads=[SimpleUploadedFile("密.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    secret = theirs.files.get()
    client.force_login(community_user)
    url = reverse("liaison:task_file", args=[mine.pk, secret.pk])
    assert client.get(url).status_code == 404
    copy = mine.copies.get()
    assert (
        client.get(reverse("liaison:task_copy_file", args=[copy.pk, secret.pk])).status_code == 404
    )
    other_copy = theirs.copies.get()
    for name in ("task_copy", "task_copy_receive", "task_copy_start"):
        method = client.get if name == "task_copy" else client.post
        assert method(reverse(f"liaison:{name}", args=[other_copy.pk])).status_code == 404


def test_a_neighbours_copy_is_out_of_reach(client, areas, street_user, community_user):
    sent = task(street_user, areas[QIAODONG], areas[WUYIER])
    theirs = sent.copies.get(area=areas[WUYIER])
    client.force_login(community_user)
    assert client.get(reverse("liaison:task_copy", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("liaison:task_copy_receive", args=[theirs.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.taskcopy_receive(actor=community_user, copy=theirs)


def test_a_notice_file_is_served_only_with_its_own_notice(
    client, areas, street_user, other_district_user, community_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    mine = notice(street_user, area=areas[LIUXIANG])
    theirs = notice(
        other_district_user, area=areas[XIAODIAN],
        uploads=[SimpleUploadedFile("x.pdf", PDF, "application/pdf")],
    )  # fmt: skip
    client.force_login(community_user)
    url = reverse("liaison:notice_file", args=[mine.pk, theirs.files.get().pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("liaison:notice_detail", args=[theirs.pk])).status_code == 404


def test_files_are_served_so_a_browser_never_runs_them(
    client, areas, street_user, community_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    sent = notice(
        street_user, area=areas[LIUXIANG],
        uploads=[SimpleUploadedFile("../../etc/passwd.pdf", PDF, "application/pdf"),
                 SimpleUploadedFile('a"b<i>.jpg', JPEG, "image/jpeg")],
    )  # fmt: skip
    with pytest.raises(ValidationError):  # a PDF named as a photo
        notice(
            street_user,
            area=areas[LIUXIANG],
            uploads=[SimpleUploadedFile("p.jpg", PDF, "image/jpeg")],
        )
    pdf, jpeg = sent.files.order_by("pk")
    assert pdf.content_type == "application/pdf" and ".." not in pdf.file.name
    client.force_login(community_user)
    served = client.get(reverse("liaison:notice_file", args=[sent.pk, pdf.pk]))
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"
    image = client.get(reverse("liaison:notice_file", args=[sent.pk, jpeg.pk]))
    assert image["Content-Type"] == "image/jpeg" and image["X-Content-Type-Options"] == "nosniff"


def test_report_and_material_files_only_with_their_own_record(
    client,
    areas,
    community_user,
    neighbour_user,
    district_user,
    other_district_user,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path
    data = {"kind": "public_opinion", "title": "t", "body": "b"}
    mine = services.report_submit(actor=community_user, data=data)
    theirs = services.report_submit(
        actor=neighbour_user, data=data, uploads=[SimpleUploadedFile("x.pdf", PDF)]
    )
    client.force_login(community_user)
    url = reverse("liaison:report_file", args=[mine.pk, theirs.files.get().pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("liaison:report_detail", args=[theirs.pk])).status_code == 404
    material = services.material_publish(
        actor=district_user, data={"area": areas[YINGZE], "kind": "regulation", "title": "a"}
    )
    far = services.material_publish(
        actor=other_district_user, uploads=[SimpleUploadedFile("y.pdf", PDF)],
        data={"area": areas[XIAODIAN], "kind": "regulation", "title": "b"},
    )  # fmt: skip
    url = reverse("liaison:library_file", args=[material.pk, far.files.get().pk])
    assert client.get(url).status_code == 404


def test_a_street_publishes_and_organises_only_within_it(areas, street_user):
    for area in (areas[YINGZE], areas[WENMIAO], areas[XIAODIAN], areas[QIAODONG]):
        with pytest.raises(ValidationError):
            services.material_publish(
                actor=street_user, data={"area": area, "kind": "regulation", "title": "a"}
            )
        with pytest.raises(ValidationError):
            services.training_create(
                actor=street_user,
                data={"area": area, "title": "x", "date": datetime.date(2026, 5, 1),
                      "hours": D("2"), "place": "x"},
            )  # fmt: skip


# -- Acting beyond the role ------------------------------------------------------------------


def test_nobody_answers_another_areas_copy_or_reviews_a_task_not_theirs(
    areas, district_user, street_user, community_user, neighbour_user
):
    sent = task(district_user, areas[QIAODONG], areas[LIUXIANG])
    ours = sent.copies.get(area=areas[QIAODONG])
    with pytest.raises(PermissionDenied):
        services.taskcopy_receive(actor=neighbour_user, copy=ours)
    with pytest.raises(PermissionDenied):  # the street neither answers nor reviews for it
        services.taskcopy_receive(actor=street_user, copy=ours)
    to_done(ours, community_user)
    for actor in (community_user, street_user):  # not its own copy, not the district's task
        with pytest.raises(PermissionDenied):
            services.taskcopy_approve(actor=actor, copy=ours)
    services.taskcopy_approve(actor=district_user, copy=ours)
    with pytest.raises(ValidationError):  # approve twice
        services.taskcopy_approve(actor=district_user, copy=ours)
    with pytest.raises(ValidationError):  # report after approval
        services.taskcopy_report(actor=community_user, copy=ours, report="再报")
    with pytest.raises(ValidationError):  # return an approved copy
        services.taskcopy_return(actor=district_user, copy=ours, reason="x")


def test_a_return_says_why(areas, street_user, community_user):
    copy = task(street_user, areas[QIAODONG]).copies.get()
    to_done(copy, community_user)
    with pytest.raises(ValidationError):
        services.taskcopy_return(actor=street_user, copy=copy, reason="   ")
    with pytest.raises(ValidationError):  # reported twice
        services.taskcopy_report(actor=community_user, copy=copy, report="again")


def test_recipients_posted_by_hand_outside_the_sender(areas, street_user, district_user, client):
    for outside in ([areas[FUDONG]], [areas[WUCHENG]], [areas[WENMIAO]]):
        with pytest.raises(ValidationError):
            notice(street_user, communities=outside)
        with pytest.raises(ValidationError):
            task(street_user, *outside)
    with pytest.raises(ValidationError):
        notice(street_user, area=areas[YINGZE])
    with pytest.raises(ValidationError):
        notice(district_user, area=areas[XIAODIAN])
    client.force_login(street_user)
    client.post(
        reverse("liaison:task_create"),
        {"title": "t", "body": "b", "recipients": [areas[WUCHENG].pk],
         "deadline": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()},
    )  # fmt: skip
    assert not TaskCopy.objects.filter(area=areas[WUCHENG]).exists()


def test_a_report_goes_only_above_its_sender_and_is_decided_only_there_once(
    areas, community_user, street_user, district_user, other_district_user
):
    for wrong in (areas[WUYIER], areas[WENMIAO], areas[XIAODIAN], areas[QIAODONG]):
        with pytest.raises(ValidationError):
            services.report_submit(
                actor=community_user, data={"kind": "public_opinion", "title": "t", "body": "b"},
                to_area=wrong,
            )  # fmt: skip
    report = services.report_submit(
        actor=community_user, data={"kind": "public_opinion", "title": "t", "body": "b"}
    )
    for actor in (community_user, district_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.report_decide(actor=actor, report=report, decision="adopted")
    with pytest.raises(ValidationError):
        services.report_decide(actor=street_user, report=report, decision="pending")
    with pytest.raises(ValidationError):
        services.report_decide(actor=street_user, report=report, decision="declined")
    services.report_decide(actor=street_user, report=report, decision="adopted")
    with pytest.raises(ValidationError):
        services.report_decide(actor=street_user, report=report, decision="declined", comment="x")
    assert Report.objects.get().decision == "adopted"


def test_attendance_hours_that_are_not_a_number_are_refused_not_a_server_error(
    client, areas, street_user, community_user
):
    session = services.training_create(
        actor=street_user,
        data={"area": areas[LIUXIANG], "title": "培训", "date": datetime.date(2026, 5, 1),
              "hours": D("3"), "place": "会议室"},
    )  # fmt: skip
    for value in ("NaN", "sNaN", "Infinity", "-1", "0", "25"):
        with pytest.raises(ValidationError):
            services.training_attendance_set(
                actor=street_user, training=session, users=[community_user],
                hours={community_user.pk: D(value)},
            )  # fmt: skip
    client.force_login(street_user)
    response = client.post(
        reverse("liaison:training_attendance", args=[session.pk]),
        {"users": [community_user.pk], f"hours_{community_user.pk}": "NaN"},
    )
    assert response.status_code == 200
    assert not session.attendances.exists()


def test_a_training_does_not_take_attendees_from_outside_its_area(
    areas, street_user, other_street_user, other_district_user
):
    session = services.training_create(
        actor=street_user,
        data={"area": areas[LIUXIANG], "title": "培训", "date": datetime.date(2026, 5, 1),
              "hours": D("3"), "place": "会议室"},
    )  # fmt: skip
    for outsider in (other_street_user, other_district_user):
        with pytest.raises(ValidationError):
            services.training_attendance_set(actor=street_user, training=session, users=[outsider])
    for hours in (D("0"), D("24.5"), D("-2")):
        with pytest.raises(ValidationError):
            services.training_create(
                actor=street_user,
                data={"area": areas[LIUXIANG], "title": "x", "date": datetime.date(2026, 5, 1),
                      "hours": hours, "place": "x"},
            )  # fmt: skip
    assert Training.objects.count() == 1


# -- Hostile text in pages and spreadsheets -------------------------------------------------


def test_hostile_titles_names_and_reports_are_escaped_on_the_supervision_tables(
    client, areas, street_user, community_user
):
    community_user.first_name, community_user.last_name = HOSTILE, ""
    community_user.save()
    areas[QIAODONG].name = HOSTILE[:50]
    areas[QIAODONG].save()
    sent = task(street_user, areas[QIAODONG], title=HOSTILE[:200])
    to_done(sent.copies.get(), community_user)
    client.force_login(street_user)
    for url in (
        reverse("liaison:task_detail", args=[sent.pk]),
        reverse("liaison:task_supervision"),
        reverse("liaison:task_copy", args=[sent.copies.get().pk]),
        reverse("liaison:todo"),
    ):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page, url


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "-holder__password"},
        {"sort": "'; drop table x;--"},
        {"state": "<script>"},
        {"area": "1401%"},
        {"area": "\x00"},
        {"sort": "x" * 5000},
        {"page": "-1"},
        {"area": "140105"},
        {"state": "returned", "sort": "-reported"},
    ],
)
def test_hostile_sort_and_filter_parameters(client, areas, street_user, community_user, query):
    sent = task(street_user, areas[QIAODONG])
    client.force_login(street_user)
    for url in (
        reverse("liaison:task_detail", args=[sent.pk]),
        reverse("liaison:task_supervision"),
        reverse("liaison:task_export", args=[sent.pk]),
    ):
        response = client.get(url, query)
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code == 200 and "html" in response["Content-Type"]:
            assert "<script>" not in response.content.decode().split("</head>")[-1]


@pytest.mark.parametrize(
    "q", ["%", "_", "\\", "'", '"', "%'; --", "x" * 10000, "a\x00b", "统一战线" * 20]
)
def test_hostile_library_searches(client, areas, district_user, community_user, q):
    services.material_publish(
        actor=district_user,
        data={"area": areas[YINGZE], "kind": "regulation", "title": "条例", "body": "50%_\\"},
    )
    client.force_login(community_user)
    response = client.get(reverse("liaison:library_list"), {"q": q})
    assert response.status_code == 200
    if q in ("'", '"', "统一战线" * 20):
        assert "条例" not in response.content.decode()


def test_a_supervision_export_has_no_formula(client, areas, street_user, community_user):
    community_user.first_name, community_user.last_name = "=cmd|' /C calc'!A0", ""
    community_user.save()
    sent = task(street_user, areas[QIAODONG], title='=HYPERLINK("http://x")')
    copy = sent.copies.get()
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    services.taskcopy_report(actor=community_user, copy=copy, report="@SUM(1+1)")
    client.force_login(street_user)
    response = client.get(reverse("liaison:task_export", args=[sent.pk]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value]
    assert cells and all(cell.data_type != "f" for cell in cells)
    assert any(cell.value == "@SUM(1+1)" for cell in cells)


# -- The to-do page and the header ----------------------------------------------------------


def test_counts_tell_nothing_of_other_areas(
    client, areas, street_user, community_user, neighbour_user, other_district_user
):
    task(street_user, areas[WUYIER])
    notice(street_user, communities=[areas[WUYIER]], reply_by=timezone.localdate())
    services.report_submit(
        actor=neighbour_user, data={"kind": "public_opinion", "title": "t", "body": "b"}
    )
    for user in (community_user, other_district_user):
        client.force_login(user)
        page = client.get(reverse("liaison:todo")).content.decode()
        assert "中秋走访" not in page and "防汛" not in page
        from liaison.todo import waiting_count

        assert waiting_count(user) == 0


# -- CSRF -------------------------------------------------------------------------------------


def test_every_state_change_needs_the_csrf_token(areas, street_user, community_user):
    sent = task(street_user, areas[QIAODONG])
    copy = sent.copies.get()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(community_user)
    assert browser.post(reverse("liaison:task_copy_receive", args=[copy.pk])).status_code == 403
    copy.refresh_from_db()
    assert copy.state == TaskCopy.State.ISSUED
    # and a GET changes nothing
    assert browser.get(reverse("liaison:task_copy_receive", args=[copy.pk])).status_code == 405


# -- The need referral -------------------------------------------------------------------------


@pytest.fixture
def need(community_user, member):
    return activity_services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "schooling", "description": "入学", "raised_on": timezone.localdate()},
    )


def test_a_need_goes_only_up_and_is_taken_only_where_it_was_sent(
    areas,
    community_user,
    neighbour_user,
    street_user,
    other_street_user,
    district_user,
    other_district_user,
    need,
    client,
):
    for wrong in (areas[WENMIAO], areas[XIAODIAN], areas[WUYIER], areas[QIAODONG]):
        with pytest.raises(ValidationError):
            activity_services.need_refer(actor=community_user, need=need, to_area=wrong, note="x")
    activity_services.need_refer(actor=community_user, need=need, to_area=areas[LIUXIANG], note="x")
    for actor in (district_user, other_street_user, community_user):
        with pytest.raises(PermissionDenied):
            activity_services.need_accept(actor=actor, need=need)
    with pytest.raises(PermissionDenied):
        activity_services.need_accept(actor=other_district_user, need=need)
    for user in (other_district_user, neighbour_user, other_street_user):
        client.force_login(user)
        for name in ("need_accept", "need_return", "need_refer"):
            assert client.post(reverse(f"activities:{name}", args=[need.pk])).status_code == 404
    activity_services.need_accept(actor=street_user, need=need)
    with pytest.raises(ValidationError):  # accept twice
        activity_services.need_accept(actor=street_user, need=need)
    with pytest.raises(ValidationError):
        activity_services.need_return(actor=street_user, need=need, reason=" ")


def test_a_need_is_not_referred_to_an_area_no_longer_in_use(areas, community_user, need):
    street = areas[LIUXIANG]
    street.retired_at = timezone.now()
    street.save()
    with pytest.raises(ValidationError):
        activity_services.need_refer(actor=community_user, need=need, to_area=street, note="x")


def test_a_referred_need_follows_its_member_to_another_street(
    areas, community_user, street_user, district_user, need
):
    from conftest import _user
    from members import services as member_services
    from tongzhan.models import User

    fudong = _user("fudong", User.Role.COMMUNITY, areas[FUDONG])
    activity_services.need_refer(actor=community_user, need=need, to_area=areas[LIUXIANG], note="x")
    activity_services.need_accept(actor=street_user, need=need)
    member_services.transfer_request(
        actor=district_user, member=need.member, to_community=areas[FUDONG], reason="搬家"
    )
    need.member.refresh_from_db()
    assert need.member.community == areas[FUDONG]  # accepted at once by the district
    from activities.models import Need

    # Someone who sees the need can still act on it: the street holding it, or the new
    # community.
    holder_sees = Need.objects.visible_to(street_user).filter(pk=need.pk).exists()
    community_edits = Need.objects.editable_by(fudong).filter(pk=need.pk).exists()
    assert holder_sees or community_edits
    # Back with her new community, which may refer it to its own street; the path says why.
    need.refresh_from_db()
    assert (need.held_by, need.referral) == (None, "returned")
    step = need.changes.filter(action="return").get()
    assert (step.from_area, step.to_area) == (areas[LIUXIANG], areas[FUDONG])
    assert "府东一社区" in step.note


@pytest.mark.parametrize(
    "name, query",
    [
        ("liaison:notice_list", {"box": "sent", "unread": "<x>"}),
        ("liaison:notice_list", {"box": "'\x00", "page": "99999"}),
        ("liaison:report_list", {"box": "all", "year": "99999", "quarter": "9"}),
        ("liaison:report_list", {"year": "-1", "kind": "<script>", "decision": "%"}),
        ("liaison:report_counts", {"year": "0", "quarter": "-4"}),
        ("liaison:training_list", {"page": "last"}),
        ("liaison:training_hours", {"year": "1e9"}),
        ("liaison:training_street_hours", {"street": "1 OR 1=1", "year": "x"}),
        ("liaison:library_list", {"kind": "<b>", "to_read": "\\"}),
        ("activities:need_list", {"held": "<script>", "status": "%", "sort": "-member__id_number"}),
        ("liaison:todo", {"x": "y"}),
    ],
)
def test_hostile_list_parameters_are_ignored_or_refused(client, areas, district_user, name, query):
    client.force_login(district_user)
    response = client.get(reverse(name), query)
    assert response.status_code in (200, 404), response.status_code


def test_a_task_is_not_reported_done_before_it_was_sent(areas, street_user, community_user):
    copy = task(street_user, areas[QIAODONG]).copies.get()
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    with pytest.raises(ValidationError) as refused:
        services.taskcopy_report(
            actor=community_user, copy=copy, report="早已完成", completed_on=long_ago
        )
    assert "completed_on" in refused.value.message_dict
    copy.refresh_from_db()
    assert copy.state == TaskCopy.State.IN_PROGRESS and copy.completed_on is None


def test_another_districts_area_code_or_task_is_not_found(
    client, areas, street_user, other_district_user
):
    far = task(other_district_user, areas[WUCHENG])
    client.force_login(street_user)
    for code in (XIAODIAN, WUCHENG, YINGZE, WENMIAO):
        response = client.get(reverse("liaison:task_supervision"), {"area": code})
        assert response.status_code == 404, code
    for name in ("liaison:task_detail", "liaison:task_export"):
        assert client.get(reverse(name, args=[far.pk])).status_code == 404
