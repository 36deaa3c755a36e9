"""The registration form (统战对象信息登记表) as PDF, and the ID photo it shows."""

import datetime
import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from members import printing, services
from members.models import Category, Ethnicity, Member, PoliticalStatus
from members.tests.factories import MemberFactory
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def photo_bytes(kind="JPEG", size=(300, 400)) -> bytes:
    """A small ID photo: a head and shoulders on a light blue background."""
    image = Image.new("RGB", size, (170, 200, 235))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w * 0.3, h * 0.15, w * 0.7, h * 0.55), fill=(235, 200, 170))
    draw.pieslice((w * 0.1, h * 0.55, w * 0.9, h * 1.4), 180, 360, fill=(40, 50, 70))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def jpeg(name="证件照.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo_bytes(), "image/jpeg")


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


# Each person's pages: her registration form, then the notice letter (告知书) addressed to her.
PAGES_EACH = 2


def pdf_pages(content: bytes) -> int:
    info = subprocess.run(
        ["pdfinfo", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


@pytest.fixture
def member(areas, community_user):
    member = MemberFactory(
        community=areas["140106001001"],
        name="周建华",
        id_number="14010619800101123X",
        phone="13812345678",
        political_status=PoliticalStatus.objects.get(code="04"),  # 民盟
        categories=[Category.objects.get(slug="private_economy")],
        enterprise_name="太原市建华机械有限公司",
        industry="制造业",
        workplace="太原市建华机械有限公司 董事长",
        notes="热心社区公益。",
    )
    services.member_update(
        actor=community_user, member=member, data={"address": "桥东街 12 号"}, source="测试"
    )
    return member


def test_one_members_form_is_one_a4_page_with_the_full_number_for_a_revealing_role(
    client, community_user, member
):
    client.force_login(community_user)
    response = client.get(reverse("members:print", args=[member.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert pdf_pages(response.content) == PAGES_EACH
    text, letter = pdf_text(response.content).split("\f")[:2]
    assert "个人信息处理告知书" in letter and "统战对象信息登记表" not in letter
    for shown in ("统战对象信息登记表", "周建华", "14010619800101123X", "13812345678",
                  "中国国民党革命委", "太原市建华机械有限公司", "非公有制经济", "桥东街 12 号",
                  "亲属", "制表单位", "打印时间", "第 1 页"):  # fmt: skip
        assert shown in text, shown
    # The democratic party's fields apply (a 民盟 member is in that category), the religion's
    # do not.
    assert "入党时间" in text or "加入党派时间" in text or "党派" in text
    assert "宗教" not in text
    events = AuditEvent.objects.filter(actor=community_user).order_by("id")
    export = events.get(action=AuditEvent.Action.EXPORT)
    assert export.object_id == str(member.pk) and export.detail["full"] is True
    assert export.detail["format"] == "pdf" and export.detail["rows"] == 1
    assert events.filter(action=AuditEvent.Action.REVEAL, object_id=str(member.pk)).exists()


def test_a_role_that_may_not_reveal_prints_masked_numbers(client, street_user, member):
    client.force_login(street_user)
    response = client.get(reverse("members:print", args=[member.pk]))
    text = pdf_text(response.content)
    assert "周建华" in text and "140106********123X" in text and "138****5678" in text
    assert "14010619800101123X" not in text and "13812345678" not in text
    export = AuditEvent.objects.get(actor=street_user, action=AuditEvent.Action.EXPORT)
    assert export.detail["full"] is False
    assert not AuditEvent.objects.filter(
        actor=street_user, action=AuditEvent.Action.REVEAL
    ).exists()


def test_the_form_names_the_document_a_number_belongs_to(client, community_user, areas):
    holder = MemberFactory(
        community=areas["140106001001"],
        name="陈明",
        document_type=Member.DocumentType.PASSPORT,
        document_country="SGP",
        id_number="E12345678",
        birth_date=datetime.date(1970, 5, 1),
        sex="M",
    )
    client.force_login(community_user)
    text = pdf_text(client.get(reverse("members:print", args=[holder.pk])).content)
    assert "护照（新加坡）" in text and "E12345678" in text


def test_the_last_five_changes_are_on_the_form(client, community_user, member):
    for n in range(6):
        services.member_update(
            actor=community_user, member=member, data={"specialty": f"书法{n}"}, source="测试"
        )
    client.force_login(community_user)
    text = pdf_text(client.get(reverse("members:print", args=[member.pk])).content)
    assert text.count("专业特长") >= 6  # the field row and five changes naming it
    assert "新登记" not in text  # the registration is the sixth-newest change and more


def test_out_of_scope_is_404_and_nothing_is_audited(client, neighbour_user, member):
    client.force_login(neighbour_user)
    assert client.get(reverse("members:print", args=[member.pk])).status_code == 404
    query = {"community": member.community.code}
    assert client.get(reverse("members:community_print"), query).status_code == 404
    assert client.get(reverse("members:photo", args=[member.pk])).status_code == 404
    assert not AuditEvent.objects.filter(
        actor=neighbour_user, action=AuditEvent.Action.EXPORT
    ).exists()


def test_a_communitys_forms_are_one_pdf_a_page_each_registered_member(
    client, areas, street_user, member, community_user
):
    others = [MemberFactory(community=areas["140106001001"]) for _ in range(3)]
    left = MemberFactory(community=areas["140106001001"], name="已迁出者")
    services.member_set_status(
        actor=community_user, member=left, status=Member.Status.MOVED_OUT,
        date=left.created_at.date(), reason="搬家",
    )  # fmt: skip
    MemberFactory(community=areas["140106001002"], name="邻社区的人")
    client.force_login(street_user)
    response = client.get(reverse("members:community_print"), {"community": "140106001001"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert pdf_pages(response.content) == 4 * PAGES_EACH
    text = pdf_text(response.content)
    assert all(person.name in text for person in [member, *others])
    assert "已迁出者" not in text and "邻社区的人" not in text
    assert "第 4 页，共 4 页" in text
    export = AuditEvent.objects.get(actor=street_user, action=AuditEvent.Action.EXPORT)
    assert export.detail == {"format": "pdf", "rows": 4, "full": False, "community": "140106001001"}


def test_a_community_above_the_limit_is_refused_with_a_message(
    client, areas, street_user, member, settings
):
    settings.MEMBER_PRINT_MAX = 0
    client.force_login(street_user)
    response = client.get(
        reverse("members:community_print"), {"community": "140106001001"}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(reverse("members:list"))
    assert "一份 PDF 最多" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize("code", ["", "140106001", "140106", "x" * 12, "1401060010019"])
def test_only_a_community_code_prints(client, district_user, member, code):
    client.force_login(district_user)
    assert client.get(reverse("members:community_print"), {"community": code}).status_code == 404


def test_the_photo_is_uploaded_served_in_scope_and_printed(
    client, community_user, street_user, member, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(community_user)
    upload = reverse("members:photo_upload", args=[member.pk])
    page = client.post(upload, {"photo": jpeg()}, follow=True).content.decode()
    assert "照片已保存" in page
    member.refresh_from_db()
    assert member.photo.name.startswith("members/photos/") and member.photo.name.endswith(".jpg")
    assert "证件照" not in member.photo.name  # stored under a random name
    change = member.changes.first()
    assert change.changes == [{"field": "photo", "old": "", "new": "证件照.jpg"}]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.UPDATE, object_id=str(member.pk), detail__fields=["photo"]
    ).exists()

    client.force_login(street_user)  # reads the member, may not change her
    served = client.get(reverse("members:photo", args=[member.pk]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert b"".join(served.streaming_content).startswith(b"\xff\xd8\xff")
    assert client.post(upload, {"photo": jpeg()}).status_code == 403
    pdf = client.get(reverse("members:print", args=[member.pk])).content
    assert "周建华" in pdf_text(pdf) and "140106********123X" in pdf_text(pdf)
    images = subprocess.run(
        ["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert len(images.strip().splitlines()) == 3  # the header, its rule and the photo


def test_a_replaced_photo_is_in_the_history_and_its_file_goes(
    client, community_user, member, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        services.member_photo_set(actor=community_user, member=member, upload=jpeg())
    first = Member.objects.get(pk=member.pk).photo.name
    png = SimpleUploadedFile("新照片.png", photo_bytes("PNG"), "image/png")
    with django_capture_on_commit_callbacks(execute=True):
        services.member_photo_set(actor=community_user, member=member, upload=png)
    stored = Member.objects.get(pk=member.pk).photo
    assert stored.name.endswith(".png") and not stored.storage.exists(first)
    assert member.changes.first().changes == [
        {"field": "photo", "old": "已有证件照", "new": "新照片.png"}
    ]
    client.force_login(community_user)
    served = client.get(reverse("members:photo", args=[member.pk]))
    assert served["Content-Type"] == "image/png"
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("members:photo_remove", args=[member.pk]), follow=True
        ).content.decode()
    assert "照片已删除" in page and not stored.storage.exists(stored.name)
    assert member.changes.first().changes == [{"field": "photo", "old": "已有证件照", "new": ""}]
    assert client.get(reverse("members:photo", args=[member.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("照片.jpg", b"MZ\x90\x00" + b"\x00" * 100, "不是 JPEG 或 PNG 照片"),
        ("照片.jpg", PNG_HEAD + b"\x00" * 100, "内容与文件名不符"),
        ("照片.pdf", b"%PDF-1.7\n" + b"0" * 100, "不是 JPEG 或 PNG 照片"),
        ("照片.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"0" * 100, "不是 JPEG 或 PNG 照片"),
        ("照片.jpg", b"", "是空文件"),
        # The marker bytes of a JPEG before an HTML page, and an SVG with a script.
        (
            "照片.jpg",
            b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>",
            "不是 JPEG 或 PNG 照片",
        ),
        (
            "照片.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "不是 JPEG 或 PNG 照片",
        ),
        # A small file holding a picture every printed form would take seconds to draw.
        ("照片.png", photo_bytes("PNG", size=(2000, 1001)), "为 2000 × 1001 像素，证件照最多"),
    ],
)
def test_a_photo_is_checked_by_its_bytes(
    client, community_user, member, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(community_user)
    page = client.post(
        reverse("members:photo_upload", args=[member.pk]),
        {"photo": SimpleUploadedFile(name, content)},
        follow=True,
    ).content.decode()
    assert message in page
    member.refresh_from_db()
    assert not member.photo and not list(tmp_path.rglob("*.*"))


def test_a_photo_above_the_limit_is_refused(community_user, member, settings):
    settings.MEMBER_PHOTO_MAX_BYTES = 1000
    with pytest.raises(Exception, match="MB"):
        services.member_photo_set(actor=community_user, member=member, upload=jpeg())


def test_the_printer_fetches_nothing_but_the_members_photos(member):
    fetch = printing.photo_fetcher({member.pk: member})
    photo = f"{printing.PHOTO_SCHEME}{member.pk}"
    for url in ("http://example.com/x.png", "https://example.com/x.css", "file:///etc/passwd",
                "data:image/png;base64,AAAA", photo, f"{printing.PHOTO_SCHEME}99999"):  # fmt: skip
        with pytest.raises(printing.FetchRefused):
            fetch(url)  # no photo yet, or not a photo of these members
    services.member_photo_set(actor=None, member=member, upload=jpeg())
    assert fetch(photo)["mime_type"] == "image/jpeg"


def test_a_long_record_still_fits_one_page(client, community_user, member):
    services.member_update(
        actor=community_user,
        member=member,
        data={
            "notes": "长" * 2000,
            "workplace": "单位" * 90,
            "social_positions": "职务" * 90,
            "address": "地址" * 90,
            "categories": list(Category.objects.all()),
            "religion": "buddhism",
            "ethnicity": Ethnicity.objects.get(code="02"),
        },
        source="测试",
    )
    for n in range(8):
        services.member_update(
            actor=community_user, member=member, data={"specialty": f"专长{n}" * 40}
        )
    client.force_login(community_user)
    pdf = client.get(reverse("members:print", args=[member.pk])).content
    assert pdf_pages(pdf) == PAGES_EACH


def test_a_communitys_forms_take_the_same_queries_however_many_members(
    client, areas, street_user, member, django_assert_max_num_queries, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    for n in range(6):
        other = MemberFactory(community=areas["140106001001"])
        services.member_photo_set(actor=None, member=other, upload=jpeg(f"{n}.jpg"))
    client.force_login(street_user)
    # One of them the relatives, two the representative's file (arrangements, duty records),
    # two the commendations (the areas above the viewer's, the commended), one the audit
    # line's id taken before its insert (its MAC covers the id: tongzhan.auditchain).
    with django_assert_max_num_queries(18):
        response = client.get(reverse("members:community_print"), {"community": "140106001001"})
    assert pdf_pages(response.content) == 7 * PAGES_EACH
