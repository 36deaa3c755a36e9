"""Attachments: where each kind is kept, files of a rolled-back write removed, how one is served."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from activities.models import Activity, ActivityFile, ActivityType
from liaison.models import MaterialFile, NoticeFile, ReportFile, TaskFile
from tongzhan.attachments import (
    attachment_response,
    attachment_store,
    files_kept_only_if_committed,
    uploads_checked,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"0" * 200


@pytest.mark.parametrize(
    ("model", "owner", "folder"),
    [
        # The folders files were kept in before the models shared one base: stored files stay.
        (ActivityFile, {"activity_id": 7}, "activities/7"),
        (NoticeFile, {"notice_id": 7}, "notices/7"),
        (TaskFile, {"task_id": 7, "copy_id": 9}, "liaison/tasks/7"),
        (ReportFile, {"report_id": 7}, "reports/7"),
        (MaterialFile, {"material_id": 7}, "library/7"),
    ],
)
@pytest.mark.parametrize(("content_type", "extension"), [("image/png", ".png"), ("", ".pdf")])
def test_each_kind_is_kept_in_its_owners_folder_under_a_random_name(
    model, owner, folder, content_type, extension
):
    attached = model(**owner, content_type=content_type)
    field = model._meta.get_field("file")
    first, second = (field.generate_filename(attached, "身份证.png") for _ in range(2))
    assert re.fullmatch(rf"{folder}/[0-9a-f]{{32}}\{extension}", first)
    assert first != second


@pytest.fixture
def activity(community_user, areas):
    return Activity.objects.create(
        type=ActivityType.objects.get(code="fellowship"),
        title="中秋联谊会",
        starts_at=timezone.make_aware(datetime.datetime(2026, 9, 25, 19, 0)),
        area=areas["140106001001"],
        created_by=community_user,
    )


def _store(activity, actor, stored, name="合影.jpg", content=JPEG):
    [(upload, file_type)] = uploads_checked([SimpleUploadedFile(name, content)])
    return attachment_store(
        ActivityFile, upload, file_type, actor=actor, stored=stored, activity=activity
    )


@pytest.mark.django_db
def test_a_committed_write_keeps_its_file(activity, community_user):
    with files_kept_only_if_committed() as stored, transaction.atomic():
        attached = _store(activity, community_user, stored)
    attached.refresh_from_db()
    assert (attached.name, attached.kind, attached.content_type) == (
        "合影.jpg",
        "image",
        "image/jpeg",
    )
    assert (attached.size, attached.uploaded_by, attached.activity) == (
        len(JPEG),
        community_user,
        activity,
    )
    assert attached.file.storage.exists(attached.file.name)


@pytest.mark.django_db
def test_a_rolled_back_write_deletes_the_files_it_stored(activity, community_user):
    with (
        pytest.raises(RuntimeError),
        files_kept_only_if_committed() as stored,
        transaction.atomic(),
    ):
        photo = _store(activity, community_user, stored)
        sheet = _store(activity, community_user, stored, "签到表.pdf", PDF)
        names = [photo.file.name, sheet.file.name]
        assert all(photo.file.storage.exists(name) for name in names)
        raise RuntimeError("the database went away")
    assert not ActivityFile.objects.exists()
    assert not any(photo.file.storage.exists(name) for name in names)


@pytest.mark.django_db
def test_a_pdf_is_downloaded_and_a_photo_shown_both_kept_only_by_the_browser(
    activity, community_user
):
    with files_kept_only_if_committed() as stored, transaction.atomic():
        photo = _store(activity, community_user, stored, "photo.jpg")
        sheet = _store(activity, community_user, stored, "sheet.pdf", PDF)
    shown, downloaded = attachment_response(photo), attachment_response(sheet)
    assert shown["Content-Disposition"] == 'inline; filename="photo.jpg"'
    assert downloaded["Content-Disposition"] == 'attachment; filename="sheet.pdf"'
    assert (shown["Content-Type"], downloaded["Content-Type"]) == ("image/jpeg", "application/pdf")
    assert shown["Cache-Control"] == downloaded["Cache-Control"] == "private, max-age=3600"
    assert b"".join(downloaded.streaming_content) == PDF


@pytest.mark.django_db
def test_a_name_that_hides_its_real_ending_is_kept_without_what_hides_it(activity, community_user):
    # U+202E turns the rest of the name around on screen: 会议纪要\u202egpj.pdf reads as
    # 会议纪要fdp.jpg. Kept and downloaded without it, the name says what it is.
    with files_kept_only_if_committed() as stored, transaction.atomic():
        sheet = _store(activity, community_user, stored, "会议纪要\u202egpj.pdf", PDF)
        blank = _store(activity, community_user, stored, "\u200b\u200d.pdf", PDF)
    assert sheet.name == "会议纪要gpj.pdf"
    assert "\u202e" not in attachment_response(sheet)["Content-Disposition"]
    assert blank.name == ".pdf"
