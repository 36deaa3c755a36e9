"""Files made in the background: the runner, its outcome, and the files' expiry."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tongzhan import downloads
from tongzhan.models import AuditEvent, Download
from tongzhan.services import download_request, downloads_expire

pytestmark = pytest.mark.django_db


def _lines(*, download, progress):
    progress(0, 3)
    progress(3, 3)
    line = downloads.AuditLine(AuditEvent.Action.EXPORT, {"rows": 3}, obj=download)
    return downloads.Produced(b"a,b\n" * 3, "text/csv", 3, [line])


def _broken(*, download, progress):
    raise RuntimeError("the disk is full")


@pytest.fixture(autouse=True)
def producers():
    downloads.producer_register(downloads.Producer("test.lines", _lines))
    downloads.producer_register(downloads.Producer("test.broken", _broken))
    yield
    downloads.PRODUCERS.pop("test.lines")
    downloads.PRODUCERS.pop("test.broken")


def _request(user, kind="test.lines") -> Download:
    return download_request(actor=user, kind=kind, title="三行.csv", params={})


def test_a_made_file_keeps_its_bytes_rows_and_expiry_and_its_audit_line(community_user, settings):
    settings.DOWNLOAD_KEEP_DAYS = 3
    download = _request(community_user)
    assert download.state == "done"
    assert bytes(download.data) == b"a,b\n" * 3 and download.rows == 3 and download.size == 12
    kept = download.expires_at - download.finished_at
    assert kept == datetime.timedelta(days=3)
    line = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert line.actor == community_user and line.object_id == str(download.pk)


def test_a_failed_producer_keeps_nothing_and_says_so_with_the_files_number(community_user):
    download = _request(community_user, kind="test.broken")
    assert download.state == "failed" and download.data is None
    assert str(download.pk) in download.error
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_unknown_kind_is_a_programming_error(community_user):
    with pytest.raises(ValueError):
        _request(community_user, kind="no.such")


def test_expiry_deletes_the_files_kept_long_enough_and_only_those(client, community_user, settings):
    old, fresh = _request(community_user), _request(community_user)
    Download.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(1))

    assert downloads_expire() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == "expired" and old.data is None
    assert fresh.state == "done" and bytes(fresh.data)
    assert downloads_expire() == 0  # idempotent: the scheduled runner may call it any time

    client.force_login(community_user)
    assert client.get(reverse("download_file", args=[old.pk])).status_code == 404
    assert "已过期" in client.get(reverse("download_detail", args=[old.pk])).content.decode()
    assert client.get(reverse("download_file", args=[fresh.pk])).status_code == 200


def test_expiry_fails_a_file_whose_worker_died(community_user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    download = _request(community_user)
    Download.objects.filter(pk=download.pk).update(
        state="running", heartbeat=timezone.now() - datetime.timedelta(hours=1)
    )
    downloads_expire()
    download.refresh_from_db()
    assert download.state == "failed" and download.error


def test_a_file_deleted_while_it_is_made_is_not_kept_nor_audited(community_user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

    def deleting(*, download, progress):
        Download.objects.filter(pk=download.pk).delete()
        return _lines(download=download, progress=progress)

    downloads.producer_register(downloads.Producer("test.deleting", deleting))
    try:
        download = _request(community_user, kind="test.deleting")
        downloads.download_run.call(download.pk)
    finally:
        downloads.PRODUCERS.pop("test.deleting")
    assert not Download.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_a_task_run_twice_makes_the_file_once(community_user):
    download = _request(community_user)
    downloads.download_run.call(download.pk)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


def test_my_downloads_lists_mine_only_in_a_fixed_number_of_queries(
    client, community_user, neighbour_user, django_assert_max_num_queries
):
    for _ in range(3):
        _request(community_user)
    _request(neighbour_user)
    client.force_login(community_user)
    with django_assert_max_num_queries(9):  # 8, and the header's to-do count
        response = client.get(reverse("download_list"))
    assert len(response.context["downloads"]) == 3


def test_the_schedule_expires_the_files_with_nobody_asking(community_user, settings, monkeypatch):
    """The hourly job deletes a file kept its days, and only once its days are over."""
    from tongzhan import schedule

    settings.DOWNLOAD_KEEP_DAYS = 7
    download = _request(community_user)
    now = timezone.now()
    schedule.schedule_run_due()
    assert Download.objects.get(pk=download.pk).state == "done"
    monkeypatch.setattr(timezone, "now", lambda: now + datetime.timedelta(days=7, hours=1))
    schedule.schedule_run_due()
    download.refresh_from_db()
    assert download.state == "expired" and download.data is None


def test_a_file_past_its_expiry_is_not_served_before_the_sweep_runs(client, community_user):
    """The hourly sweep may be late (a stopped timer): the kept days still end on time."""
    download = _request(community_user)
    Download.objects.filter(pk=download.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    client.force_login(community_user)
    assert client.get(reverse("download_file", args=[download.pk])).status_code == 404
    assert not AuditEvent.objects.filter(object_id=str(download.pk), detail__has_key="size")


def test_one_user_cannot_fill_the_queue(community_user, neighbour_user, settings):
    """Asking again for a file being made gives that file; a few different ones at a time."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.DOWNLOAD_BUSY_MAX = 2
    first = download_request(actor=community_user, kind="test.lines", title="a", params={"q": 1})
    again = download_request(actor=community_user, kind="test.lines", title="a", params={"q": 1})
    assert again.pk == first.pk
    download_request(actor=community_user, kind="test.lines", title="b", params={"q": 2})
    with pytest.raises(ValidationError) as refused:
        download_request(actor=community_user, kind="test.lines", title="c", params={"q": 3})
    assert "2" in refused.value.messages[0]
    assert Download.objects.filter(owner=community_user).count() == 2
    # Someone else's queue is theirs; a finished file no longer counts.
    download_request(actor=neighbour_user, kind="test.lines", title="c", params={"q": 3})
    Download.objects.filter(pk=first.pk).update(state="done")
    download_request(actor=community_user, kind="test.lines", title="c", params={"q": 3})


def test_deleting_a_file_needs_the_form_of_this_site(community_user):
    """Another site's page cannot make the owner's browser delete her file."""
    from django.test import Client

    download = _request(community_user)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(community_user)
    response = browser.post(reverse("download_delete", args=[download.pk]))
    assert response.status_code == 403
    assert Download.objects.filter(pk=download.pk).exists()


def test_a_change_of_area_or_rights_takes_away_the_files_made_before_it(
    community_user, admin_user, areas
):
    """A file holds what its owner could see when it was made: moved to another community,
    stripped of a right or disabled, she no longer gets it; a new name changes nothing."""
    from tongzhan.models import User
    from tongzhan.services import user_set_active, user_update

    _request(community_user)
    _request(community_user)
    user_update(
        actor=admin_user, user=community_user, role=User.Role.COMMUNITY,
        area=areas["140106001001"], fields={"first_name": "芳"},
    )  # fmt: skip
    assert set(Download.objects.values_list("state", flat=True)) == {"done"}

    user_update(
        actor=admin_user, user=community_user, role=User.Role.COMMUNITY,
        area=areas["140106001002"],
    )  # fmt: skip
    assert set(Download.objects.values_list("state", flat=True)) == {"expired"}
    assert not Download.objects.filter(data__isnull=False).exists()

    again = _request(community_user)
    user_set_active(actor=admin_user, user=community_user, active=False)
    again.refresh_from_db()
    assert again.state == "expired" and again.data is None


def test_a_file_name_with_quotes_or_line_breaks_cannot_add_a_header(client, community_user):
    """The name comes from the data (a community's name): it is encoded, never written as is."""
    download = download_request(
        actor=community_user, kind="test.lines", title='桥东"社区\r\nSet-Cookie: x=1.csv',
        params={},
    )  # fmt: skip
    client.force_login(community_user)
    response = client.get(reverse("download_file", args=[download.pk]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert not {'"', "\r", "\n"} & set(disposition.removeprefix("attachment; "))
    assert "x=1" not in str(response.cookies)
    assert response["Cache-Control"] == "private, no-store"


def test_a_change_of_a_groups_rights_takes_away_its_members_files(
    community_user, neighbour_user, admin_user
):
    """The role's group loses a right: the files its members made with it go."""
    from django.contrib.auth.models import Permission

    from tongzhan.services import group_save

    mine, theirs = _request(community_user), _request(neighbour_user)
    group = community_user.groups.get()
    group_save(actor=admin_user, group=group, permissions=list(group.permissions.all()))
    assert Download.objects.get(pk=mine.pk).state == "done"  # saved unchanged: kept

    reveal = Permission.objects.get(codename="reveal_member")
    kept = [p for p in group.permissions.all() if p != reveal]
    group_save(actor=admin_user, group=group, permissions=kept)
    assert Download.objects.get(pk=mine.pk).state == "expired"
    assert Download.objects.get(pk=theirs.pk).state == "expired"  # same role, same group
    admin_file = _request(admin_user)
    assert Download.objects.get(pk=admin_file.pk).state == "done"
