"""The notice (告知, PIPL arts. 17 and 35): how and when a person was told what is kept about
her and why, or why not yet; recorded on registering, shown, counted and printed."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from openpyxl import Workbook

from members import services
from members.models import ImportJob, Member, MemberChange, MemberTally
from members.tests.factories import id_number_for
from members.tests.helpers import member_form_data
from members.tests.test_import_jobs import upload
from members.tests.test_imports import person, roster, run
from members.tests.test_printing import pdf_pages, pdf_text
from members.tests.test_services import new_member_data

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 5)


def not_told(**fields) -> dict:
    return {"informed_how": "", "informed_on": None, **fields}


# -- The service ------------------------------------------------------------------------------


def test_a_registration_without_a_notice_or_a_reason_is_refused(areas, community_user):
    data = new_member_data(areas["140106001001"], **not_told())
    with pytest.raises(ValidationError) as refused:
        services.member_create(actor=community_user, data=data)
    assert "告知" in refused.value.message_dict["informed_how"][0]
    assert not Member.objects.filter(name="周八").exists()


def test_a_registration_with_a_reason_why_not_yet_is_kept_as_not_told(areas, community_user):
    data = new_member_data(
        areas["140106001001"], **not_told(not_informed_reason="外出务工，返乡后告知")
    )
    member = services.member_create(actor=community_user, data=data)
    assert (member.informed_how, member.not_informed_reason) == ("", "外出务工，返乡后告知")
    assert (
        MemberTally.objects.get(
            community=areas["140106001001"], dimension=MemberTally.Dimension.NOT_INFORMED
        ).count
        == 1
    )


def test_how_and_date_go_together_within_her_life(areas, community_user):
    community = areas["140106001001"]
    for fields, field, words in [
        ({"informed_how": "visit", "informed_on": None}, "informed_on", "日期"),
        ({"informed_how": "", "informed_on": DAY}, "informed_how", "告知"),
        (
            {"informed_on": datetime.date.today() + datetime.timedelta(days=1)},
            "informed_on",
            "将来",
        ),
        (
            {
                "id_number": id_number_for(datetime.date(2000, 1, 1)),
                "informed_on": DAY.replace(1999),
            },
            "informed_on",
            "出生",
        ),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.member_create(actor=community_user, data=new_member_data(community, **fields))
        assert words in refused.value.message_dict[field][0], fields


def test_a_notice_drops_the_reason_why_not_yet(areas, community_user):
    member = services.member_create(
        actor=community_user,
        data=new_member_data(areas["140106001001"], **not_told(not_informed_reason="住院治疗")),
    )
    services.member_update(
        actor=community_user, member=member, data={"informed_how": "visit", "informed_on": DAY}
    )
    member.refresh_from_db()
    assert (member.informed_how, member.informed_on, member.not_informed_reason) == (
        "visit",
        DAY,
        "",
    )
    change = MemberChange.objects.filter(member=member).latest("id")
    assert {row["field"]: row["new"] for row in change.changes} == {
        "informed_how": "走访时口头告知",
        "informed_on": "2026-03-05",
        "not_informed_reason": "",
    }
    assert not MemberTally.objects.filter(
        community=areas["140106001001"], dimension=MemberTally.Dimension.NOT_INFORMED
    ).exists()


def test_a_recorded_notice_cannot_be_removed(community_user, member):
    with pytest.raises(ValidationError) as refused:
        services.member_update(
            actor=community_user, member=member, data=not_told(not_informed_reason="记错了")
        )
    assert "不能删除" in refused.value.message_dict["informed_how"][0]
    member.refresh_from_db()
    assert member.informed_how == Member.InformedHow.LETTER


def test_a_record_from_before_notices_stays_editable_without_one(community_user, member):
    Member.objects.filter(pk=member.pk).update(informed_how="", informed_on=None)
    member.refresh_from_db()
    services.member_update(actor=community_user, member=member, data={"address": "迎泽大街 1 号"})
    member.refresh_from_db()
    assert member.address == "迎泽大街 1 号" and member.informed_how == ""


def test_the_database_refuses_a_notice_without_its_date_or_with_a_reason(member):
    for values in (
        {"informed_on": None},
        {"not_informed_reason": "外出"},
        {"informed_how": "", "informed_on": DAY},
        {"informed_on": datetime.date(1900, 1, 1)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Member.objects.filter(pk=member.pk).update(**values)


# -- The form and the page --------------------------------------------------------------------


def test_the_form_records_the_notice(client, areas, community_user):
    client.force_login(community_user)
    data = member_form_data(
        None,
        name="王告知",
        community=areas["140106001001"].pk,
        informed_how="message",
        informed_on="2026-03-05",
    )
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 302
    member = Member.objects.get(name="王告知")
    assert (member.informed_how, member.informed_on) == ("message", DAY)
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "已告知：短信或微信告知，2026-03-05" in page


def test_the_form_refuses_a_registration_without_a_notice_or_a_reason(
    client, areas, community_user
):
    client.force_login(community_user)
    data = member_form_data(
        None, name="王未告", community=areas["140106001001"].pk, informed_how="", informed_on=""
    )
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 200
    assert "未告知原因" in response.content.decode()
    assert 'id="informing"' in response.content.decode()
    assert not Member.objects.filter(name="王未告").exists()


def test_the_member_page_says_not_yet_told_with_or_without_a_reason(client, community_user, member):
    client.force_login(community_user)
    url = reverse("members:detail", args=[member.pk])
    Member.objects.filter(pk=member.pk).update(informed_how="", informed_on=None)
    assert "未告知（未记录原因）" in client.get(url).content.decode()
    Member.objects.filter(pk=member.pk).update(not_informed_reason="本人外出务工")
    assert "未告知：本人外出务工" in client.get(url).content.decode()


def test_the_list_filters_people_not_yet_told(client, areas, community_user, member):
    told_name = member.name
    services.member_create(
        actor=None,
        data=new_member_data(
            areas["140106001001"], name="钱未告", **not_told(not_informed_reason="住院")
        ),
    )
    client.force_login(community_user)
    page = client.get(reverse("members:list"), {"not_informed": "true"}).content.decode()
    assert "钱未告" in page and told_name not in page
    page = client.get(reverse("members:list"), {"not_informed": "false"}).content.decode()
    assert "钱未告" not in page and told_name in page


# -- The import -------------------------------------------------------------------------------

NOTICE_TITLES = ("姓名", "性别", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别",
                 "告知方式", "告知日期", "未告知原因")  # fmt: skip


def test_an_import_records_the_notice_or_the_reason(areas):
    report = run(
        roster(
            (*person("孙告知"), "走访时口头告知", "2026年3月5日", ""),
            (*person("李未告"), "", "", "联系不上本人"),
            titles=NOTICE_TITLES,
        )
    )
    assert report.created == 2 and not report.refused
    told, not_yet = Member.objects.get(name="孙告知"), Member.objects.get(name="李未告")
    assert (told.informed_how, told.informed_on) == ("visit", DAY)
    assert (not_yet.informed_how, not_yet.not_informed_reason) == ("", "联系不上本人")


def test_an_import_refuses_a_new_person_without_a_notice_naming_row_and_column(areas):
    report = run(
        roster(
            (*person("周空白"), "", "", ""),
            (*person("吴无日"), "告知书当面送达", "", ""),
            (*person("郑乱写"), "打电话", "2026-03-05", ""),
            titles=NOTICE_TITLES,
        )
    )
    refusals = {(error.row, error.column): error.message for error in report.refused}
    assert set(refusals) == {(3, "告知方式"), (4, "告知日期"), (5, "告知方式")}
    assert "未告知原因" in refusals[3, "告知方式"]
    assert "日期" in refusals[4, "告知日期"]
    assert "打电话" in refusals[5, "告知方式"]
    assert report.created == 0


def roster_kept_before_notices(*rows) -> bytes:
    """A roster as offices kept them before notices were recorded: no column of the notice."""
    book = Workbook()
    book.active.append(
        ["姓名", "性别", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别"]
    )
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_roster_without_the_notices_columns_registers_its_people_as_not_told(
    client, district_user, member
):
    data = roster_kept_before_notices(person("钱旧册"), person("张三", number=member.id_number))
    client.force_login(district_user)
    upload(client, data)
    job = ImportJob.objects.get()
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "名册没有告知相关的列" in page and "1 名新登记人员将记为未告知" in page
    client.post(reverse("members:import_confirm", args=[job.pk]))
    new = Member.objects.get(name="钱旧册")
    assert (new.informed_how, new.not_informed_reason) == ("", "登记名册未写告知情况")
    # Someone registered already keeps the notice she had.
    member.refresh_from_db()
    assert member.informed_how == Member.InformedHow.LETTER
    page = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "1 名新登记人员已记为未告知" in page
    # A roster that has the columns and leaves them empty is refused instead (the test above).
    assert run(roster_kept_before_notices(person("孙旧册"))).not_informed == 1


def test_an_import_leaves_a_known_person_s_notice_alone(areas, member):
    report = run(
        roster(
            (*person("张三", number=member.id_number), "", "", ""),
            titles=NOTICE_TITLES,
        )
    )
    assert not report.refused
    member.refresh_from_db()
    assert member.informed_how == Member.InformedHow.LETTER


# -- The printed notice -----------------------------------------------------------------------


def test_the_printed_notice_follows_each_registration_form(
    client, community_user, member, settings
):
    settings.PRIVACY_CONTACT = "桥东一社区居委会统战工作室，电话 0351-1234567"
    client.force_login(community_user)
    response = client.get(reverse("members:print", args=[member.pk]))
    assert pdf_pages(response.content) == 2
    text = pdf_text(response.content)
    form, letter = text.split("\f")[:2]
    assert "统战对象信息登记表" in form
    for words in ("个人信息处理告知书", "张三", "第十三条", "3 年", "查阅", "复制", "更正",
                  "0351-1234567"):  # fmt: skip
        assert words in letter.replace("\n", ""), words
    if folder := os.environ.get("NOTICE_PDF_DIR"):
        Path(folder, "notice.pdf").write_bytes(response.content)
