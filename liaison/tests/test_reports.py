"""Reports up (信息报送): a community or street sends, the level above adopts or not; each
user sees what was sent from or to their area and below; counts per area and period."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from liaison import services
from liaison.models import Report, ReportFile
from tongzhan.models import AuditEvent
from tongzhan.services import AREA_MOVERS as ALL_AREA_MOVERS

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def send(actor, to_area=None, kind="public_opinion", title="居民反映停车难", uploads=()):
    return services.report_submit(
        actor=actor,
        data={"kind": kind, "title": title, "body": "小区停车位不足，群众意见较大。"},
        to_area=to_area,
        uploads=uploads,
    )


@pytest.fixture
def report(community_user):
    return send(community_user)


def test_a_report_goes_to_the_street_by_default_and_is_audited(community_user, areas):
    report = send(community_user)
    assert (report.area, report.to_area, report.decision) == (
        areas["140106001001"], areas["140106001"], "pending",
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="create", object_id=str(report.pk)).exists()


def test_a_report_goes_only_to_an_area_above_the_sender(
    community_user, street_user, district_user, areas
):
    assert send(community_user, to_area=areas["140106"]).to_area == areas["140106"]
    for wrong in (areas["140106001002"], areas["140106002"], areas["140105"]):
        with pytest.raises(ValidationError):
            send(community_user, to_area=wrong)
    assert send(street_user).to_area == areas["140106"]
    with pytest.raises(PermissionDenied):  # the district decides, it does not send
        send(district_user)


def test_files_are_checked_by_their_bytes(community_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError):
        send(community_user, uploads=[SimpleUploadedFile("照片.jpg", EXE, "image/jpeg")])
    assert not Report.objects.exists()
    report = send(
        community_user,
        uploads=[
            SimpleUploadedFile("现场.jpg", JPEG, "image/jpeg"),
            SimpleUploadedFile("材料.pdf", PDF, "application/pdf"),
        ],
    )
    assert sorted(report.files.values_list("kind", flat=True)) == ["image", "pdf"]


def test_the_street_adopts_once_with_a_comment(report, street_user, district_user, community_user):
    with pytest.raises(PermissionDenied):  # sent to the street, not to the district
        services.report_decide(actor=district_user, report=report, decision="adopted")
    with pytest.raises(PermissionDenied):
        services.report_decide(actor=community_user, report=report, decision="adopted")
    with pytest.raises(ValidationError):  # a decline says why
        services.report_decide(actor=street_user, report=report, decision="declined")
    services.report_decide(actor=street_user, report=report, decision="adopted", comment="已转区")
    report.refresh_from_db()
    assert (report.decision, report.comment) == ("adopted", "已转区")
    assert report.decided_by == street_user
    assert report.decided_at is not None
    with pytest.raises(ValidationError):  # final: the assessment counts it
        services.report_decide(actor=street_user, report=report, decision="declined", comment="x")
    assert AuditEvent.objects.filter(action="status", object_id=str(report.pk)).count() == 1


def test_who_sees_a_report(
    report, community_user, neighbour_user, street_user, other_street_user, district_user,
    other_district_user,
):  # fmt: skip
    def sees(user):
        return Report.objects.visible_to(user).filter(pk=report.pk).exists()

    assert sees(community_user) and sees(street_user) and sees(district_user)
    assert not sees(neighbour_user) and not sees(other_street_user)
    assert not sees(other_district_user)
    # A street's report to the district: the street and the district, not its communities.
    upward = send(street_user)
    assert Report.objects.visible_to(district_user).filter(pk=upward.pk).exists()
    assert not Report.objects.visible_to(community_user).filter(pk=upward.pk).exists()


def test_waiting_for_is_what_the_own_area_may_decide(report, street_user, district_user):
    assert list(Report.objects.waiting_for(street_user)) == [report]
    assert list(Report.objects.waiting_for(district_user)) == []
    services.report_decide(actor=street_user, report=report, decision="adopted")
    assert list(Report.objects.waiting_for(street_user)) == []


def test_pages_allowed_403_and_404(client, report, community_user, neighbour_user, street_user,
                                   district_user, other_district_user):  # fmt: skip
    detail = reverse("liaison:report_detail", args=[report.pk])
    decide = reverse("liaison:report_decide", args=[report.pk])
    client.force_login(community_user)
    page = client.get(detail)
    assert page.status_code == 200 and page.context["decision_form"] is None
    assert client.post(decide, {"decision": "adopted"}).status_code == 403
    client.force_login(district_user)  # sees it, but it was not sent to the district
    assert client.get(detail).status_code == 200
    assert client.post(decide, {"decision": "adopted"}).status_code == 403
    for user in (neighbour_user, other_district_user):
        client.force_login(user)
        assert client.get(detail).status_code == 404
    # A community may not decide at all (403); another district does not see it (404).
    client.force_login(neighbour_user)
    assert client.post(decide, {"decision": "adopted"}).status_code == 403
    client.force_login(other_district_user)
    assert client.post(decide, {"decision": "adopted"}).status_code == 404
    client.force_login(street_user)
    assert client.get(detail).context["decision_form"] is not None
    refused = client.post(decide, {"decision": "declined", "comment": ""})
    assert refused.status_code == 200 and refused.context["decision_form"].errors
    # A decision is final: shown once more, then saved when confirmed.
    shown = client.post(decide, {"decision": "declined", "comment": "内容重复"})
    assert shown.status_code == 200 and "决定后不能更改" in shown.content.decode()
    report.refresh_from_db()
    assert report.decision == "pending"
    confirmed = {"decision": "declined", "comment": "内容重复", "confirmed": "1"}
    response = client.post(decide, confirmed)
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.decision == "declined"
    client.force_login(community_user)
    assert "内容重复" in client.get(detail).content.decode()


def test_sending_through_the_form_with_files(client, community_user, areas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(community_user)
    page = client.get(reverse("liaison:report_create"))
    assert [area.code for area in page.context["form"].fields["to_area"].queryset] == [
        "140106001", "140106",
    ]  # fmt: skip
    response = client.post(
        reverse("liaison:report_create"),
        {
            "to_area": areas["140106001"].pk,
            "kind": "good_practice",
            "title": "楼栋议事会",
            "body": "每月一次。",
            "files": [SimpleUploadedFile("议事会.jpg", JPEG, "image/jpeg")],
        },
    )
    report = Report.objects.get()
    assert response["Location"] == reverse("liaison:report_detail", args=[report.pk])
    attached = report.files.get()
    served = client.get(reverse("liaison:report_file", args=[report.pk, attached.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == JPEG
    refused = client.post(
        reverse("liaison:report_create"),
        {"kind": "work_news", "title": "t", "body": "b", "to_area": areas["140106001"].pk,
         "files": [SimpleUploadedFile("x.jpg", EXE, "image/jpeg")]},
    )  # fmt: skip
    assert refused.status_code == 200 and Report.objects.count() == 1


def test_files_are_served_only_within_scope(client, community_user, neighbour_user, settings,
                                            tmp_path):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    report = send(community_user, uploads=[SimpleUploadedFile("a.pdf", PDF, "application/pdf")])
    attached = ReportFile.objects.get()
    url = reverse("liaison:report_file", args=[report.pk, attached.pk])
    client.force_login(neighbour_user)
    assert client.get(url).status_code == 404


def test_the_list_puts_pending_first_and_filters(
    client, community_user, street_user, django_assert_max_num_queries
):
    first = send(community_user, title="旧的", kind="work_news")
    services.report_decide(actor=street_user, report=first, decision="adopted")
    for number in range(4):
        send(community_user, title=f"新的{number}")
    client.force_login(street_user)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("liaison:report_list"))
    assert page.context["box"] == "received" and page.context["waiting"] == 4
    reports = list(page.context["reports"])
    assert reports[-1] == first and all(r.decision == "pending" for r in reports[:-1])
    adopted = client.get(reverse("liaison:report_list"), {"decision": "adopted"})
    assert list(adopted.context["reports"]) == [first]
    news = client.get(reverse("liaison:report_list"), {"kind": "work_news"})
    assert list(news.context["reports"]) == [first]
    last_year = client.get(reverse("liaison:report_list"), {"year": timezone.now().year - 1})
    assert list(last_year.context["reports"]) == []
    client.force_login(community_user)
    page = client.get(reverse("liaison:report_list"))
    assert page.context["box"] == "sent" and len(page.context["reports"]) == 5


def test_counts_per_area_kind_and_period(
    client, community_user, neighbour_user, street_user, district_user, areas,
    django_assert_max_num_queries,
):  # fmt: skip
    this_year = timezone.now().year
    adopted = send(community_user)
    services.report_decide(actor=street_user, report=adopted, decision="adopted")
    send(community_user, kind="work_news")
    send(neighbour_user)
    old = send(neighbour_user)
    Report.objects.filter(pk=old.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime(this_year - 1, 5, 1))
    )
    client.force_login(street_user)
    with django_assert_max_num_queries(9):
        page = client.get(reverse("liaison:report_counts"), {"year": this_year})
    rows = {row["area"].code: row["cells"] for row in page.context["rows"]}
    assert set(rows) == {"140106001001", "140106001002"}
    kinds = [kind for kind, _label in Report.Kind.choices]
    opinion, news = kinds.index("public_opinion"), kinds.index("work_news")
    assert (rows["140106001001"][opinion]["sent"], rows["140106001001"][opinion]["adopted"]) == (
        1, 1,
    )  # fmt: skip
    assert rows["140106001001"][news]["sent"] == 1
    assert rows["140106001002"][opinion]["sent"] == 1
    assert page.context["totals"][opinion] == {"sent": 2, "adopted": 1}
    quarter = (timezone.localdate().month - 1) // 3 + 1
    other = quarter % 4 + 1
    shown = client.get(reverse("liaison:report_counts"), {"year": this_year, "quarter": other})
    assert shown.context["totals"][opinion]["sent"] == 0
    previous = client.get(reverse("liaison:report_counts"), {"year": this_year - 1})
    assert previous.context["totals"][opinion] == {"sent": 1, "adopted": 0}
    # The district sees its streets and communities; a community may not count.
    client.force_login(district_user)
    rows = client.get(reverse("liaison:report_counts")).context["rows"]
    codes = [row["area"].code for row in rows]
    assert "140106001" in codes and "140106001001" in codes and "140106" not in codes
    client.force_login(community_user)
    assert client.get(reverse("liaison:report_counts")).status_code == 403
    start = timezone.make_aware(datetime.datetime(this_year, 1, 1))
    end = timezone.make_aware(datetime.datetime(this_year + 1, 1, 1))
    assert Report.objects.adopted_in(areas["140106001"], start, end).count() == 1


def test_reports_move_with_a_merged_area(report, admin_user, areas):
    [mover] = [m for m in ALL_AREA_MOVERS if m.count is services.area_reports_count]
    source, target = areas["140106001001"], areas["140106001002"]
    assert mover.count(source) == 1
    mover.move(actor=admin_user, source=source, target=target, request=None)
    report.refresh_from_db()
    assert report.area == target
    street, other_street = areas["140106001"], areas["140106002"]
    services.area_reports_move(actor=admin_user, source=street, target=other_street)
    report.refresh_from_db()
    assert report.to_area == areas["140106002"]
