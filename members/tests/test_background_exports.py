"""Exports and printed forms too large for a request: queued, made in the background as their
owner is when they run, offered to their owner alone, audited when made and when taken."""

import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from members.models import Member
from members.tests.factories import MemberFactory
from members.tests.test_printing import PAGES_EACH, pdf_pages, pdf_text
from tongzhan.downloads import download_run
from tongzhan.models import AuditEvent, Download

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Queues and runs nothing: the test runs the task itself, after changing the world.
HELD = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _names(content: bytes) -> set[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return {dict(zip(rows[0], row, strict=True))["姓名"] for row in rows[1:]}


def _sheet_rows(content: bytes) -> list[dict]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def threshold(settings):
    settings.MEMBER_EXPORT_INLINE_MAX = 1
    return settings


def test_an_export_above_the_threshold_is_made_in_the_background_and_offered(
    client, threshold, district_user, member, neighbour_member, far_member
):
    client.force_login(district_user)
    response = client.get(reverse("members:export"))
    download = Download.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("download_detail", args=[download.pk])

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert reverse("download_file", args=[download.pk]).encode() in page.content
    status = client.get(reverse("download_status", args=[download.pk])).json()
    assert status == {
        "state": "done", "label": "已生成", "busy": False, "done": 2, "total": 2, "percent": 100,
    }  # fmt: skip

    file = client.get(reverse("download_file", args=[download.pk]))
    assert file.status_code == 200
    assert file["Content-Disposition"].startswith("attachment;")
    rows = _sheet_rows(file.content)
    assert {row["姓名"] for row in rows} == {"张三", "李四"}  # not the other district's
    assert {row["证件号码"] for row in rows} == {member.id_number, neighbour_member.id_number}
    listed = client.get(reverse("download_list"))
    assert download.title in listed.content.decode()


def test_below_the_threshold_the_export_still_comes_in_the_answer(
    client, district_user, member, neighbour_member, settings
):
    settings.MEMBER_EXPORT_INLINE_MAX = 2
    client.force_login(district_user)
    response = client.get(reverse("members:export"))
    assert response.status_code == 200
    assert _names(b"".join(response.streaming_content)) == {"张三", "李四"}
    assert not Download.objects.exists()


def test_the_file_is_its_owners_alone(
    client, threshold, district_user, admin_user, street_user, community_user, member,
    neighbour_member,
):  # fmt: skip
    client.force_login(district_user)
    client.get(reverse("members:export"))
    download = Download.objects.get()
    for other in (admin_user, street_user, community_user):
        client.force_login(other)
        for name in ("download_detail", "download_status", "download_file"):
            assert client.get(reverse(name, args=[download.pk])).status_code == 404, name
        assert client.post(reverse("download_delete", args=[download.pk])).status_code == 404
        assert download.title not in client.get(reverse("download_list")).content.decode()
    assert Download.objects.filter(pk=download.pk).exists()
    assert not AuditEvent.objects.filter(actor__in=[admin_user, street_user, community_user],
                                         action=AuditEvent.Action.EXPORT).exists()  # fmt: skip


def test_the_export_is_audited_when_made_and_when_taken(
    client, threshold, community_user, member, areas
):
    MemberFactory(community=areas["140106001001"], name="王五")
    threshold.MEMBER_EXPORT_INLINE_MAX = 0  # the search finds one
    client.force_login(community_user)
    client.get(
        reverse("members:export"), {"q": member.id_number, "page": "2"}, REMOTE_ADDR="10.1.2.3"
    )
    download = Download.objects.get()
    made = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert made.actor == community_user
    assert made.object_id == str(download.pk)
    # The filters (a searched number masked, no page), the rows and whether numbers are full.
    assert made.detail == {"filters": {"q": member.id_number_masked}, "rows": 1, "full": True}
    assert made.ip == "10.1.2.3"

    client.get(reverse("download_file", args=[download.pk]))
    client.get(reverse("download_file", args=[download.pk]))
    taken = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exclude(pk=made.pk)
    assert taken.count() == 2
    assert taken.first().detail == {
        "download": "members.roster", "rows": 1, "size": download.size
    }  # fmt: skip


def test_the_owners_scope_and_rights_when_it_runs_decide_what_is_in_it(
    client, threshold, district_user, member, neighbour_member, areas, settings
):
    settings.TASKS = HELD
    client.force_login(district_user)
    client.get(reverse("members:export"))
    download = Download.objects.get()
    page = client.get(reverse("download_detail", args=[download.pk])).content.decode()
    assert "等待" in page and 'id="job-progress"' in page
    assert client.get(reverse("download_status", args=[download.pk])).json()["busy"] is True

    # Meanwhile the district loses the right to see full numbers, and moves to one street.
    reveal = Permission.objects.get(codename="reveal_member")
    for group in district_user.groups.all():
        group.permissions.remove(reveal)
    district_user.area = areas["140106001"]
    district_user.save()
    MemberFactory(community=areas["140106001001"], name="后来者")
    download_run.call(download.pk)

    download.refresh_from_db()
    assert download.state == "done" and download.rows == 3
    rows = _sheet_rows(bytes(download.data))
    assert {row["姓名"] for row in rows} == {"张三", "李四", "后来者"}
    assert member.id_number not in str(rows)
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).detail["full"] is False


def test_an_owner_who_may_no_longer_export_gets_no_file(
    client, threshold, street_user, member, neighbour_member, settings
):
    settings.TASKS = HELD
    client.force_login(street_user)
    client.get(reverse("members:export"))
    download = Download.objects.get()
    street_user.is_active = False
    street_user.save()
    download_run.call(download.pk)
    download.refresh_from_db()
    assert download.state == "failed" and download.data is None
    assert "不能再导出" in download.error
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_progress_is_written_while_the_rows_are_written(
    client, threshold, district_user, member, neighbour_member, settings, monkeypatch
):
    from tongzhan import downloads

    seen = []
    real = downloads._Progress.__call__

    def spy(self, done, total):
        real(self, done, total)
        seen.append(Download.objects.values_list("state", "done", "total").get(pk=self.pk))

    monkeypatch.setattr(downloads._Progress, "__call__", spy)
    client.force_login(district_user)
    client.get(reverse("members:export"))
    assert seen[0] == ("running", 0, 2)
    assert seen[-1] == ("running", 2, 2)


def test_a_deleted_file_is_gone(client, threshold, district_user, member, neighbour_member):
    client.force_login(district_user)
    client.get(reverse("members:export"))
    download = Download.objects.get()
    response = client.post(reverse("download_delete", args=[download.pk]))
    assert response.status_code == 302
    assert not Download.objects.exists()
    assert client.get(reverse("download_file", args=[download.pk])).status_code == 404


def test_a_large_communitys_forms_are_drawn_in_the_background(
    client, areas, community_user, member, settings
):
    settings.MEMBER_PRINT_INLINE_MAX = 1
    others = [MemberFactory(community=areas["140106001001"]) for _ in range(2)]
    client.force_login(community_user)
    response = client.get(reverse("members:community_print"), {"community": "140106001001"})
    download = Download.objects.get()
    assert response["Location"] == reverse("download_detail", args=[download.pk])
    assert download.state == "done" and download.content_type == "application/pdf"
    assert "共 3 份登记表" in client.get(response["Location"]).content.decode()
    pdf = client.get(reverse("download_file", args=[download.pk])).content
    assert pdf_pages(pdf) == 3 * PAGES_EACH
    text = pdf_text(pdf)
    assert all(person.name in text for person in [member, *others])
    assert "第 3 页，共 3 页" in text
    export = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).earliest("at")
    assert export.detail == {"format": "pdf", "rows": 3, "full": True, "community": "140106001001"}
    # Full numbers printed: each person's form is a reveal, as on the page.
    reveals = AuditEvent.objects.filter(action=AuditEvent.Action.REVEAL)
    assert {event.object_id for event in reveals} == {
        str(person.pk) for person in [member, *others]
    }


def test_forms_in_batches_are_numbered_across_the_whole_pdf(areas, community_user):
    from members import printing

    people = [MemberFactory(community=areas["140106001001"]) for _ in range(3)]
    members = list(printing.print_queryset(Member.objects.filter(pk__in=[p.pk for p in people]),
                                           full=False))  # fmt: skip
    steps = []
    pdf = printing.render_forms_in_batches(
        members, full=False, viewer=community_user,
        progress=lambda done, total: steps.append((done, total)), batch=2,
    )  # fmt: skip
    assert pdf_pages(pdf) == 3 * PAGES_EACH
    text = pdf_text(pdf)
    assert "第 1 页，共 3 页" in text and "第 3 页，共 3 页" in text
    assert steps == [(0, 3), (2, 3), (3, 3)]


def test_the_cap_on_one_pdf_still_holds_in_the_background(
    client, areas, community_user, member, settings
):
    settings.MEMBER_PRINT_INLINE_MAX = 0
    settings.TASKS = HELD
    client.force_login(community_user)
    client.get(reverse("members:community_print"), {"community": "140106001001"})
    download = Download.objects.get()
    MemberFactory(community=areas["140106001001"])
    settings.MEMBER_PRINT_MAX = 1
    download_run.call(download.pk)
    download.refresh_from_db()
    assert download.state == "failed" and "最多" in download.error
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_a_file_is_not_given_to_an_owner_who_may_no_longer_see_members(
    client, threshold, street_user, member, neighbour_member
):
    """Made while she could see the members; the right is taken away before she takes it."""
    client.force_login(street_user)
    client.get(reverse("members:export"))
    download = Download.objects.get(state="done")
    view = Permission.objects.get(codename="view_member")
    for group in street_user.groups.all():
        group.permissions.remove(view)
    street_user.user_permissions.remove(view)
    assert client.get(reverse("download_file", args=[download.pk])).status_code == 403
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1  # made only


def test_exports_asked_for_by_links_do_not_pile_up_in_the_queue(
    client, threshold, district_user, member, neighbour_member, settings
):
    """The export is a link (GET): a page that opens it again and again queues one file, and
    a user a few at a time, then is told why not."""
    settings.TASKS = HELD
    settings.DOWNLOAD_BUSY_MAX = 2
    settings.MEMBER_EXPORT_INLINE_MAX = 0  # a search finding one is made in the background too
    client.force_login(district_user)
    for _ in range(5):
        client.get(reverse("members:export"))
    assert Download.objects.count() == 1
    client.get(reverse("members:export"), {"q": "张"})
    response = client.get(reverse("members:export"), {"q": "李"}, follow=True)
    assert Download.objects.count() == 2
    assert "您已有2个文件正在生成" in "".join(str(m) for m in response.context["messages"])
    assert response.redirect_chain[-1][0] == reverse("download_list")


def test_a_searched_id_number_is_not_kept_once_the_file_is_gone(
    client, threshold, community_user, member, settings
):
    """The audit log keeps the search masked; the file's own record must not keep it whole."""
    import datetime

    from django.utils import timezone

    from tongzhan.services import downloads_expire

    threshold.MEMBER_EXPORT_INLINE_MAX = 0
    client.force_login(community_user)
    client.get(reverse("members:export"), {"q": member.id_number})
    settings.TASKS = HELD
    client.get(reverse("members:export"), {"q": member.id_number, "status": "active"})
    made, stopped = Download.objects.order_by("pk")
    long_ago = timezone.now() - datetime.timedelta(days=settings.DOWNLOAD_KEEP_DAYS + 1)
    Download.objects.filter(pk=made.pk).update(expires_at=long_ago)
    Download.objects.filter(pk=stopped.pk).update(state="failed", error="x", finished_at=long_ago)
    downloads_expire()
    for download in Download.objects.all():
        assert member.id_number not in str(download.params), download.state


def test_an_export_in_the_answer_is_not_kept_by_any_cache(
    client, district_user, member, neighbour_member, settings
):
    """As the file made in the background: a shared computer's browser must not keep it."""
    settings.MEMBER_EXPORT_INLINE_MAX = 2
    client.force_login(district_user)
    response = client.get(reverse("members:export"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_every_searched_number_is_masked_in_the_files_audit_line(
    client, threshold, community_user, member
):
    """A query repeating the search box (crafted, or an old bookmark) logs no number whole:
    the audit log is append-only, a number written in it stays for good."""
    threshold.MEMBER_EXPORT_INLINE_MAX = 0
    client.force_login(community_user)
    client.get(reverse("members:export") + f"?q={member.id_number}&q={member.phone}&q=张")
    for line in AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT):
        assert member.id_number not in str(line.detail) and member.phone not in str(line.detail)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1
