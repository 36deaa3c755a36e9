"""Activity photos and documents: type and size checked, served only within scope."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, ActivityFile, ActivityType

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


@pytest.fixture
def activity(community_user, areas):
    return services.activity_create(
        actor=community_user,
        data={
            "type": ActivityType.objects.get(code="fellowship"),
            "title": "中秋联谊会",
            "starts_at": timezone.make_aware(datetime.datetime(2026, 9, 25, 19, 0)),
            "area": areas["140106001001"],
        },
    )


def upload(client, activity, *files):
    return client.post(
        reverse("activities:file_upload", args=[activity.pk]), {"files": list(files)}, follow=True
    )


def test_a_photo_and_a_pdf_are_attached_and_served(client, community_user, activity):
    client.force_login(community_user)
    response = upload(
        client,
        activity,
        SimpleUploadedFile("合影.jpg", JPEG, "image/jpeg"),
        SimpleUploadedFile("签到表.pdf", PDF, "application/pdf"),
    )
    assert "合影.jpg" in response.content.decode()
    photo, sheet = ActivityFile.objects.order_by("id")
    assert (photo.kind, photo.content_type, sheet.kind) == ("image", "image/jpeg", "pdf")
    assert "合影" not in photo.file.name  # stored under a random name
    served = client.get(reverse("activities:file", args=[activity.pk, photo.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == JPEG
    assert served["Content-Type"] == "image/jpeg"
    document = client.get(reverse("activities:file", args=[activity.pk, sheet.pk]))
    assert "attachment" in document["Content-Disposition"]
    assert activity.changes.filter(action="update").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("照片.jpg", EXE, "不是照片"),  # a program renamed to .jpg
        ("setup.exe", EXE, "不是照片"),
        ("照片.png", JPEG, "与文件名不符"),  # a JPEG named .png
        ("空.jpg", b"", "是空文件"),
    ],
)
def test_what_is_not_a_photo_or_pdf_is_refused(
    client, community_user, activity, name, content, message
):
    client.force_login(community_user)
    response = upload(client, activity, SimpleUploadedFile(name, content, "image/jpeg"))
    assert message in response.content.decode()
    assert not ActivityFile.objects.exists()


def test_a_file_above_the_limit_is_refused(client, community_user, activity, settings):
    settings.ACTIVITY_FILE_MAX_BYTES = 100
    client.force_login(community_user)
    response = upload(client, activity, SimpleUploadedFile("大.jpg", JPEG, "image/jpeg"))
    assert "超过" in response.content.decode()
    assert not ActivityFile.objects.exists()


def test_files_are_not_served_outside_the_scope(client, community_user, neighbour_user, activity):
    attached = services.activity_file_add(
        actor=community_user,
        activity=activity,
        upload=SimpleUploadedFile("合影.jpg", JPEG, "image/jpeg"),
    )
    url = reverse("activities:file", args=[activity.pk, attached.pk])
    client.force_login(neighbour_user)
    assert client.get(url).status_code == 404
    response = upload(client, activity, SimpleUploadedFile("b.jpg", JPEG, "image/jpeg"))
    assert response.status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    # Another activity's id in the address does not open it either.
    other = Activity.objects.create(
        type=activity.type, title="x", starts_at=activity.starts_at, area=activity.area,
        created_by=community_user,
    )  # fmt: skip
    client.force_login(community_user)
    wrong = reverse("activities:file", args=[other.pk, attached.pk])
    assert client.get(wrong).status_code == 404


def test_a_file_is_removed_with_its_stored_copy_and_a_history_entry(
    client, community_user, neighbour_user, activity, django_capture_on_commit_callbacks
):
    attached = services.activity_file_add(
        actor=community_user,
        activity=activity,
        upload=SimpleUploadedFile("错传.jpg", JPEG, "image/jpeg"),
    )
    stored, storage = attached.file.name, attached.file.storage
    url = reverse("activities:file_remove", args=[activity.pk, attached.pk])
    client.force_login(neighbour_user)
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 405
    assert storage.exists(stored) and ActivityFile.objects.filter(pk=attached.pk).exists()
    client.force_login(community_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    page = response.content.decode()
    assert "已删除" in page and "错传.jpg" in page  # the message names the file it removed
    assert "<td>照片和资料</td>" in page  # in the history, under a Chinese label
    assert not ActivityFile.objects.filter(pk=attached.pk).exists()
    assert not storage.exists(stored)
    last = activity.changes.order_by("-id").first()
    assert last.changes == [{"field": "files", "old": "错传.jpg", "new": ""}]
