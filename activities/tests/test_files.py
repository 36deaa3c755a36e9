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


# -- Photos taken while recording the activity ------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def stored_files() -> list[str]:
    """Every file the activity files' storage holds."""
    storage = ActivityFile._meta.get_field("file").storage

    def walk(folder):
        folders, files = storage.listdir(folder)
        found = [f"{folder}/{name}".lstrip("/") for name in files]
        for name in folders:
            found += walk(f"{folder}/{name}".lstrip("/"))
        return found

    return walk("")


def create_form(areas, **fields):
    return {
        "type": ActivityType.objects.get(code="free_clinic").pk,
        "title": "重阳节义诊",
        "starts_at": "2026-10-29T09:00",
        "area": areas["140106001001"].pk,
        "other_attendees": "0",
        "people_served": "0",
        "funds": "0",
        **fields,
    }


def test_the_create_form_takes_several_photos_from_the_camera(client, community_user, areas):
    client.force_login(community_user)
    page = client.get(reverse("activities:create")).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="files"' in page and "multiple" in page and 'capture="environment"' in page
    photos = [
        SimpleUploadedFile("义诊现场.jpg", JPEG, "image/jpeg"),
        SimpleUploadedFile("合影.png", PNG, "image/png"),
    ]
    response = client.post(reverse("activities:create"), create_form(areas, files=photos))
    activity = Activity.objects.get()
    assert response["Location"] == reverse("activities:detail", args=[activity.pk])
    assert sorted(activity.files.values_list("name", flat=True)) == ["义诊现场.jpg", "合影.png"]
    # One history entry: the activity recorded with its photos.
    [created] = activity.changes.all()
    assert {"field": "files", "old": "", "new": "合影.png"} in created.changes


def test_a_renamed_program_among_the_photos_refuses_the_whole_activity(
    client, community_user, areas
):
    before = stored_files()
    client.force_login(community_user)
    photos = [
        SimpleUploadedFile("义诊现场.jpg", JPEG, "image/jpeg"),
        SimpleUploadedFile("合影.jpg", EXE, "image/jpeg"),
    ]
    response = client.post(reverse("activities:create"), create_form(areas, files=photos))
    assert response.status_code == 200
    assert "合影.jpg" in response.content.decode() and "不是照片" in response.content.decode()
    assert not Activity.objects.exists() and not ActivityFile.objects.exists()
    assert stored_files() == before


def test_the_edit_form_adds_photos(client, community_user, activity):
    client.force_login(community_user)
    url = reverse("activities:update", args=[activity.pk])
    data = {
        **create_form({"140106001001": activity.area}),
        "type": activity.type.pk,
        "title": activity.title,
        "starts_at": "2026-09-25T19:00",
        "files": [SimpleUploadedFile("补拍.jpg", JPEG, "image/jpeg")],
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert list(activity.files.values_list("name", flat=True)) == ["补拍.jpg"]
    assert activity.changes.latest("id").changes == [
        {"field": "files", "old": "", "new": "补拍.jpg"}
    ]


def test_stored_photos_are_removed_when_the_activity_is_rolled_back(
    community_user, areas, monkeypatch
):
    before = stored_files()

    def fails(keys=None):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "activity_tally_refresh", fails)
    with pytest.raises(RuntimeError):
        services.activity_create(
            actor=community_user,
            data={
                "type": ActivityType.objects.get(code="fellowship"),
                "title": "中秋联谊会",
                "starts_at": timezone.make_aware(datetime.datetime(2026, 9, 25, 19, 0)),
                "area": areas["140106001001"],
            },
            uploads=[SimpleUploadedFile("合影.jpg", JPEG, "image/jpeg")],
        )
    assert not Activity.objects.exists() and stored_files() == before
