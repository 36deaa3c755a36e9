"""The study library: who sees which materials, the search by Chinese words, read receipts,
files checked by their bytes, and the pages' answers."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from liaison import services
from liaison.models import Material, MaterialRead
from tongzhan.models import Area, AuditEvent

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + b"0" * 100


def publish(actor, area, title="统一战线工作条例", body="", **data):
    return services.material_publish(
        actor=actor,
        data={"area": area, "kind": "regulation", "title": title, "body": body, **data},
    )


@pytest.fixture
def materials(areas, street_user, district_user, other_district_user):
    """One material of each publisher: 迎泽区, 柳巷街道, 文庙街道 and 小店区."""
    return {
        "district": publish(district_user, areas["140106"], "区级", receipt_asked=True),
        "street": publish(street_user, areas["140106001"], "柳巷", receipt_asked=True),
        "other_street": publish(district_user, areas["140106002"], "文庙"),
        "far": publish(other_district_user, areas["140105"], "小店"),
    }


def titles(queryset):
    return sorted(material.title for material in queryset)


def test_each_level_sees_what_is_published_above_it_and_below_it(
    materials, community_user, neighbour_user, street_user, other_street_user, district_user,
    other_district_user, admin_user,
):  # fmt: skip
    visible = Material.objects.visible_to
    assert titles(visible(community_user)) == ["区级", "柳巷"]
    assert titles(visible(neighbour_user)) == ["区级", "柳巷"]
    assert titles(visible(street_user)) == ["区级", "柳巷"]
    assert titles(visible(other_street_user)) == ["区级", "文庙"]
    assert titles(visible(district_user)) == ["区级", "文庙", "柳巷"]
    assert titles(visible(other_district_user)) == ["小店"]
    assert titles(visible(admin_user)) == ["区级", "小店", "文庙", "柳巷"]


def test_a_street_edits_its_own_the_district_its_streets(materials, street_user, district_user):
    editable = Material.objects.editable_by
    assert titles(editable(street_user)) == ["柳巷"]
    assert titles(editable(district_user)) == ["区级", "文庙", "柳巷"]


def test_a_community_neither_publishes_nor_a_street_for_another(areas, community_user, street_user):
    with pytest.raises(PermissionDenied):
        publish(community_user, areas["140106001"])
    with pytest.raises(ValidationError) as refused:
        publish(street_user, areas["140106002"])
    assert "area" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        publish(street_user, areas["140106001001"])
    assert "area" in refused.value.error_dict


def test_publishing_is_audited(areas, street_user):
    material = publish(street_user, areas["140106001"])
    event = AuditEvent.objects.get(object_type="liaison.material", object_id=str(material.pk))
    assert event.action == AuditEvent.Action.CREATE


@pytest.mark.parametrize(
    "words, found",
    [
        ("统战", ["条例", "通知"]),  # two characters: no trigram, read through
        ("统一战线", ["条例"]),
        ("侨眷", ["通知"]),
        ("港澳台侨", ["通知"]),
        ("PDF", ["条例"]),  # case aside
        ("pdf", ["条例"]),
        ("宗教", []),
        ("%", []),  # LIKE's wildcards are words here
        ("_", []),
    ],
)
def test_search_finds_chinese_words_in_titles_and_texts(areas, district_user, words, found):
    publish(district_user, areas["140106"], "条例", "中国共产党统一战线工作条例（统战）附 PDF")
    publish(district_user, areas["140106"], "通知", "关于做好港澳台侨统战工作和侨眷联谊的通知")
    assert titles(Material.objects.search(words)) == found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram index")
def test_search_of_three_characters_or_more_uses_the_trigram_index(areas, district_user):
    publish(district_user, areas["140106"], "通知", "关于做好港澳台侨统战工作的通知")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: ask whether it could
        plan = Material.objects.search("港澳台").explain()
        cursor.execute("RESET enable_seqscan")
    assert "material_search_trgm" in plan


def test_opening_a_material_with_a_receipt_asked_records_it_once(client, materials, community_user):
    waiting = Material.objects.waiting_for
    assert titles(waiting(community_user)) == ["区级", "柳巷"]
    client.force_login(community_user)
    url = reverse("liaison:library_detail", args=[materials["street"].pk])
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert MaterialRead.objects.filter(user=community_user).count() == 1
    assert titles(waiting(community_user)) == ["区级"]


def test_no_receipt_where_none_was_asked_nor_from_the_publisher(
    client, materials, street_user, district_user
):
    client.force_login(street_user)
    client.get(reverse("liaison:library_detail", args=[materials["street"].pk]))
    client.force_login(district_user)
    client.get(reverse("liaison:library_detail", args=[materials["other_street"].pk]))
    client.get(reverse("liaison:library_detail", args=[materials["street"].pk]))  # from below
    assert not MaterialRead.objects.exists()
    # Nothing waits for the district: nothing above it asks.
    assert not Material.objects.waiting_for(district_user).exists()
    assert titles(Material.objects.waiting_for(street_user)) == ["区级"]


def test_the_publisher_sees_who_read_it_area_by_area(
    client, materials, community_user, neighbour_user, street_user
):
    services.material_read(actor=community_user, material=materials["street"])
    client.force_login(street_user)
    response = client.get(reverse("liaison:library_receipts", args=[materials["street"].pk]))
    assert response.status_code == 200
    rows = {row["area"].name: row for row in response.context["rows"]}
    assert [account for account, _at in rows["桥东一社区"]["read"]] == [community_user]
    assert rows["五一二社区"]["unread"] == [neighbour_user]
    assert "柳巷街道" not in rows  # the publisher's own area is not asked
    assert (response.context["read"], response.context["unread"]) == (1, 1)


def test_receipts_are_the_publishers_403_to_readers_404_outside(
    client, materials, community_user, street_user, other_district_user
):
    url = reverse("liaison:library_receipts", args=[materials["district"].pk])
    client.force_login(community_user)
    assert client.get(url).status_code == 403
    client.force_login(street_user)
    assert client.get(url).status_code == 403  # the district's material: the district's
    client.force_login(other_district_user)
    assert client.get(url).status_code == 404


def test_the_list_marks_what_waits_and_filters_to_it(client, materials, community_user):
    client.force_login(community_user)
    response = client.get(reverse("liaison:library_list"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "有 2 份资料等待您阅读确认。" in response.content.decode()
    response = client.get(reverse("liaison:library_list"), {"to_read": "on"})
    assert titles(response.context["materials"]) == ["区级", "柳巷"]
    response = client.get(reverse("liaison:library_list"), {"q": "柳巷"})
    assert titles(response.context["materials"]) == ["柳巷"]


def test_the_list_asks_a_fixed_number_of_queries(
    client, areas, district_user, community_user, django_assert_max_num_queries
):
    for number in range(30):
        publish(district_user, areas["140106"], f"资料{number}", receipt_asked=True)
    client.force_login(community_user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("liaison:library_list"), {"q": "资料"})
    assert len(response.context["materials"]) == 25


def test_files_are_checked_by_their_bytes_and_served_in_scope(
    client, areas, street_user, neighbour_user, other_district_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError):
        services.material_publish(
            actor=street_user,
            data={"area": areas["140106001"], "kind": "case", "title": "案例", "body": ""},
            uploads=[SimpleUploadedFile("案例.pdf", b"MZ\x90\x00", "application/pdf")],
        )
    assert not Material.objects.exists()
    material = services.material_publish(
        actor=street_user,
        data={"area": areas["140106001"], "kind": "case", "title": "案例", "body": ""},
        uploads=[SimpleUploadedFile("案例.pdf", PDF, "application/pdf")],
    )
    attached = material.files.get()
    url = reverse("liaison:library_file", args=[material.pk, attached.pk])
    client.force_login(neighbour_user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    client.force_login(other_district_user)
    assert client.get(url).status_code == 404


def test_publish_and_edit_through_the_pages(client, areas, street_user, community_user):
    client.force_login(street_user)
    response = client.post(
        reverse("liaison:library_create"),
        {"area": areas["140106001"].pk, "kind": "policy", "title": "民族政策", "body": "正文",
         "receipt_asked": "on"},
    )  # fmt: skip
    material = Material.objects.get()
    assert response.status_code == 302
    assert material.receipt_asked and material.published_by == street_user
    response = client.post(
        reverse("liaison:library_update", args=[material.pk]),
        {"area": areas["140106001"].pk, "kind": "policy", "title": "民族宗教政策", "body": "正文"},
    )
    material.refresh_from_db()
    assert (response.status_code, material.title) == (302, "民族宗教政策")
    client.force_login(community_user)
    assert client.get(reverse("liaison:library_update", args=[material.pk])).status_code == 403


def test_refusals_say_why_in_chinese(areas, street_user, other_street_user):
    with pytest.raises(ValidationError) as refused:
        publish(street_user, areas["140106002"])
    assert refused.value.message_dict["area"] == ["请选择您管辖范围内仍在使用的区域。"]
    with pytest.raises(ValidationError) as refused:
        publish(street_user, areas["140106001001"])
    assert refused.value.message_dict["area"] == ["请选择区或街道。"]


def test_materials_move_with_a_merged_area(areas, district_user):
    target = Area.objects.create(
        code="140106001003", name="新社区", level="community", parent=areas["140106001"]
    )
    material = publish(district_user, areas["140106001"])
    material.area = areas["140106001001"]  # as a merge finds it: a community's, by hand
    Material.objects.filter(pk=material.pk).update(area=areas["140106001001"])
    assert services.area_materials_count(areas["140106001001"]) == 1
    services.area_materials_move(actor=district_user, source=areas["140106001001"], target=target)
    assert Material.objects.get().area == target


def test_the_receipt_column_says_not_read_only_to_those_asked(
    client, materials, community_user, district_user
):
    client.force_login(community_user)
    page = client.get(reverse("liaison:library_list")).content.decode()
    assert page.count('<span class="badge">未读</span>') == 2
    client.force_login(district_user)  # asked by nobody: its own and a street's are 已要求
    page = client.get(reverse("liaison:library_list")).content.decode()
    assert "未读" not in page and page.count("已要求") == 2
