"""Possible duplicates (可能重复, issue 14): the same name and date of birth, the same phone, or
the same name and workplace, found across the registry; told as a warning the user may
override, naming only what lies in the user's area and answering the rest as a probe."""

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from members import services
from members.models import ImportJob, ImportRow, Member
from tongzhan.models import AuditEvent

from .factories import MemberFactory, id_number_for
from .helpers import member_form_data
from .test_import_jobs import upload
from .test_imports import person, roster

pytestmark = pytest.mark.django_db

ELSEWHERE_ONE = "另有 1 条记录可能是同一人，请联系区委统战部核对"


def probes(outcome=AuditEvent.Outcome.DONE):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.REVEAL, outcome=outcome, detail__probe="possible_duplicate"
    )


def reasons_of(found) -> dict:
    return {member.pk: reasons for member, reasons in found}


# -- The lookup ---------------------------------------------------------------------------------


def test_name_and_birth_date_phone_and_name_and_workplace_each_match(areas, member):
    community = areas["140106001002"]
    namesake_born_elsewhen = MemberFactory(name="张三", community=community)
    same_phone = MemberFactory(name="王五", phone="13900001111", community=community)
    same_work = MemberFactory(name="张三", workplace="太原市第五中学 教师", community=community)
    found = services.member_possible_duplicates(
        {
            "name": "张三",
            # Taken from the number when the form leaves the date empty.
            "id_number": id_number_for(member.birth_date),
            "phone": "139-0000-1111",
            "workplace": " 太原市第五中学 教师 ",
        }
    )
    assert reasons_of(found) == {
        member.pk: ["name_birth"],
        same_phone.pk: ["phone"],
        same_work.pk: ["name_workplace"],
    }
    assert namesake_born_elsewhen.pk not in reasons_of(found)


def test_the_lookup_spans_the_registry_and_skips_the_member_itself(areas, member, far_member):
    twin = MemberFactory(
        name=far_member.name,
        id_number=id_number_for(far_member.birth_date),
        community=areas["140106001001"],
    )
    assert reasons_of(services.member_possible_duplicates(twin)) == {far_member.pk: ["name_birth"]}
    assert services.member_possible_duplicates({"name": "", "phone": ""}) == []


# -- What the user is told, and the probe -------------------------------------------------------


def test_within_the_area_the_record_is_named_and_nothing_is_audited(community_user, member):
    warning = services.member_duplicates_warning(
        actor=community_user, member_or_data={"name": "张三", "birth_date": member.birth_date}
    )
    assert [pair[0] for pair in warning.inside] == [member]
    assert warning.elsewhere == 0
    assert not probes().exists()


def test_outside_the_area_only_a_count_is_told_and_the_answer_is_an_audited_probe(
    community_user, far_member
):
    warning = services.member_duplicates_warning(
        actor=community_user,
        member_or_data={"name": "赵六", "birth_date": far_member.birth_date},
    )
    assert (warning.inside, warning.elsewhere) == ([], 1)
    assert services.elsewhere_text(warning.elsewhere) == ELSEWHERE_ONE
    event = probes().get()
    assert event.actor == community_user
    assert event.detail == {"probe": "possible_duplicate", "members": [far_member.pk]}
    # Counted with the "already registered elsewhere" answers.
    assert services.probe_answers_left(community_user) == (
        services.settings.MEMBER_PROBE_LIMIT_PER_HOUR - 1
    )


def test_past_the_probe_limit_nothing_of_the_outside_is_said(community_user, far_member, settings):
    settings.MEMBER_PROBE_LIMIT_PER_HOUR = 0
    warning = services.member_duplicates_warning(
        actor=community_user,
        member_or_data={"name": "赵六", "birth_date": far_member.birth_date},
    )
    assert not warning
    assert not probes().exists()
    assert probes(AuditEvent.Outcome.REFUSED).get().detail["members"] == [far_member.pk]


# -- The member form ----------------------------------------------------------------------------


def test_the_form_warns_links_the_record_and_saves_once_confirmed(
    client, community_user, member, areas
):
    client.force_login(community_user)
    data = member_form_data(
        None,
        name="张三",
        id_number=id_number_for(member.birth_date),
        community=areas["140106001001"].pk,
    )
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "可能重复" in page and "确认不是同一人" in page
    assert reverse("members:detail", args=[member.pk]) in page
    assert "姓名和出生日期相同" in page
    assert Member.objects.count() == 1
    response = client.post(reverse("members:create"), {**data, "not_duplicate": "on"})
    assert response.status_code == 302
    assert Member.objects.filter(name="张三").count() == 2


def test_the_form_names_no_one_outside_the_area(client, community_user, far_member, areas):
    client.force_login(community_user)
    data = member_form_data(
        None,
        name="新人",
        phone=far_member.phone,
        community=areas["140106001001"].pk,
    )
    page = client.post(reverse("members:create"), data).content.decode()
    assert ELSEWHERE_ONE in page
    assert "赵六" not in page and "坞城" not in page
    assert reverse("members:detail", args=[far_member.pk]) not in page
    assert probes().count() == 1
    assert not Member.objects.filter(name="新人").exists()


def test_an_edit_that_leaves_the_matched_fields_alone_is_not_stopped(
    client, community_user, member, areas
):
    MemberFactory(name="张三", phone=member.phone, community=areas["140106001001"])
    client.force_login(community_user)
    url = reverse("members:update", args=[member.pk])
    response = client.post(url, member_form_data(member, notes="新备注"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.notes == "新备注"
    # Changing the phone to another record's is warned of.
    other = MemberFactory(name="钱七", phone="13711112222", community=areas["140106001001"])
    member.refresh_from_db()
    response = client.post(url, member_form_data(member, phone=other.phone))
    assert response.status_code == 200
    assert "手机号码相同" in response.content.decode()


# -- The import's preview -----------------------------------------------------------------------


def test_the_import_preview_marks_new_people_who_may_be_registered(
    client, district_user, member, far_member
):
    rows = [
        person("张三", number=id_number_for(member.birth_date)),
        person("赵六", number=id_number_for(far_member.birth_date)),
        person("陈一"),
    ]
    client.force_login(district_user)
    upload(client, roster(*rows))
    job = ImportJob.objects.get()
    assert job.check_report["created"] == 3
    told = {row.name: row.detail for row in ImportRow.objects.filter(job=job)}
    message = "桥东一社区的张三：姓名和出生日期相同。"
    assert told["张三"] == [{"member": member.pk, "message": message}]
    assert told["赵六"] == [{"message": ELSEWHERE_ONE}]
    assert told["陈一"] == []
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "可能重复" in page
    assert reverse("members:detail", args=[member.pk]) in page and ELSEWHERE_ONE in page
    assert probes().get().detail["members"] == [far_member.pk]


def test_during_a_key_rotation_a_phone_is_matched_under_the_hash_it_was_written_with(
    areas, settings
):
    """Until rotate_keys has run, a phone written before SM4 keeps its HMAC-SHA256 hash,
    as the number does, and the warning finds it as the registration's check finds her."""
    settings.FIELD_ENCRYPTION_ALGORITHM = "aes"
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.FIELD_SM4_KEYS = []
    before = MemberFactory(name="王五", phone="13900001111", community=areas["140106001002"])
    settings.FIELD_ENCRYPTION_ALGORITHM = "sm4"
    settings.FIELD_SM4_KEYS = ["n1:MDEyMzQ1Njc4OWFiY2RlZg=="]
    found = services.member_possible_duplicates({"name": "李四", "phone": "139-0000-1111"})
    assert reasons_of(found) == {before.pk: ["phone"]}
    since = MemberFactory(name="李四", phone="13900001111", community=areas["140106001001"])
    assert reasons_of(services.member_possible_duplicates(since)) == {before.pk: ["phone"]}
    assert reasons_of(services.member_possible_duplicates(before)) == {since.pk: ["phone"]}


# -- The district's list ------------------------------------------------------------------------


def test_the_district_lists_the_pairs_of_its_area_with_why(
    client, district_user, other_district_user, member, neighbour_member, far_member, areas
):
    twin = MemberFactory(
        name="张三",
        id_number=id_number_for(member.birth_date),
        phone=neighbour_member.phone,
        community=areas["140106002001"],
    )
    # A pair across two districts is in neither district's list.
    MemberFactory(
        name="赵六", id_number=id_number_for(far_member.birth_date), community=areas["140106001001"]
    )
    client.force_login(district_user)
    page = client.get(reverse("members:duplicates")).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    # Both pairs end with the latest registered record; the later earlier one comes first.
    assert len(rows) == 2
    assert "李四" in rows[0] and "手机号码相同" in rows[0]
    assert "张三" in rows[1] and "姓名和出生日期相同" in rows[1]
    assert reverse("members:detail", args=[member.pk]) in rows[1]
    assert all(reverse("members:detail", args=[twin.pk]) in row for row in rows)
    assert "坞城" not in page
    client.force_login(other_district_user)
    page = client.get(reverse("members:duplicates")).content.decode()
    assert "辖区内没有可能重复的记录。" in page


def test_the_pairs_are_paged_newest_first(
    client, district_user, areas, django_assert_max_num_queries
):
    community = areas["140106001001"]
    for index in range(30):
        MemberFactory(name=f"甲{index}", phone=f"1370000{index:04d}", community=community)
        MemberFactory(name=f"乙{index}", phone=f"1370000{index:04d}", community=community)
    client.force_login(district_user)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("members:duplicates")).content.decode()
    assert "甲29" in first and "甲5<" in first and "甲4<" not in first
    assert "第 1 页，共 2 页" in first
    second = client.get(reverse("members:duplicates"), {"page": "2"}).content.decode()
    assert "甲4<" in second and "甲0<" in second


def test_the_earlier_record_is_the_one_registered_first_whatever_its_number(
    client, district_user, member, areas
):
    """A register imported with its old dates: the record with the higher number may be the
    one registered first, and the list calls it the earlier one."""
    import datetime

    from django.utils import timezone

    twin = MemberFactory(
        name="张三", id_number=id_number_for(member.birth_date), community=areas["140106001002"]
    )
    Member.objects.filter(pk=twin.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400)
    )
    client.force_login(district_user)
    page = client.get(reverse("members:duplicates")).content.decode()
    row = page.split("<tbody>")[1].split("</tbody>")[0]
    # The earlier column comes first in the row.
    assert row.index(reverse("members:detail", args=[twin.pk])) < row.index(
        reverse("members:detail", args=[member.pk])
    )
