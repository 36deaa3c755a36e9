"""People without a mainland ID card (issue 14): registered with the document they hold,
through the form, the roster import and the export, each number checked by its type."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from members.exports import roster_queryset, write_roster, write_template
from members.imports import roster_import
from members.models import Member
from members.services import member_update
from tongzhan.crypto import lookup_hash
from tongzhan.idnumber import check_character

from .factories import MemberFactory, id_number_for
from .helpers import member_form_data

pytestmark = pytest.mark.django_db

D = Member.DocumentType
BIRTH = datetime.date(1975, 8, 9)


def eighteen(prefix: str, birth=BIRTH, sequence="042") -> str:
    first17 = f"{prefix}{birth:%Y%m%d}{sequence}"
    return first17 + check_character(first17)


def register(areas, **data) -> Member:
    data.setdefault("community", areas["140106001001"])
    return MemberFactory(**data)


def refusal(areas, **data) -> dict:
    with pytest.raises(ValidationError) as caught:
        register(areas, **data)
    return caught.value.message_dict


# -- The services ------------------------------------------------------------------------------


def test_an_id_card_is_hashed_as_before_so_existing_members_stay_unique(areas, member):
    assert member.document_type == D.ID_CARD
    assert member.id_number_hash == lookup_hash(member.id_number)
    assert "已在" in refusal(areas, id_number=member.id_number)["id_number"][0]


def test_a_permit_holder_gives_birth_date_and_sex_which_the_number_does_not_carry(areas):
    errors = refusal(areas, document_type=D.HK_MACAO_PERMIT, id_number="H12345678")
    assert set(errors) >= {"birth_date", "sex"}
    person = register(
        areas, document_type=D.HK_MACAO_PERMIT, id_number="h1234567801", birth_date=BIRTH, sex="F"
    )
    person.refresh_from_db()
    assert (person.id_number, person.id_number_masked) == ("H12345678", "H******78")
    assert (person.birth_date, person.sex) == (BIRTH, "F")


def test_a_residence_permit_gives_birth_date_and_sex_as_the_id_card_does(areas):
    person = register(areas, document_type=D.HK_MACAO_RESIDENCE, id_number=eighteen("810000"))
    assert (person.birth_date, person.sex) == (BIRTH, "F")
    errors = refusal(
        areas,
        document_type=D.TAIWAN_RESIDENCE,
        id_number=eighteen("830000", sequence="043"),
        sex="F",
    )
    assert "不符" in errors["sex"][0]


def test_the_same_document_is_one_person_and_the_same_number_under_two_types_two(areas):
    common = {"birth_date": BIRTH, "sex": "M"}
    register(areas, document_type=D.TAIWAN_PERMIT, id_number="01234567", **common)
    errors = refusal(areas, document_type=D.TAIWAN_PERMIT, id_number="0123456701", **common)
    assert "已在" in errors["id_number"][0]
    other = register(
        areas, document_type=D.PASSPORT, document_country="SGP", id_number="01234567", **common
    )
    assert other.pk and Member.objects.filter(id_number="01234567").count() == 0  # encrypted
    assert Member.objects.filter(id_number_masked="0*****67").count() == 2


def test_a_passport_names_its_country_and_other_documents_none(areas):
    common = {"birth_date": BIRTH, "sex": "M", "id_number": "E12345678"}
    errors = refusal(areas, document_type=D.PASSPORT, **common)
    assert errors["document_country"] == ["请选择护照的签发国家或地区。"]
    person = register(areas, document_type=D.PASSPORT, document_country="USA", **common)
    person = member_update(
        actor=None,
        member=person,
        data={"document_type": D.HK_MACAO_PERMIT, "id_number": "M87654321"},
    )
    person.refresh_from_db()
    assert (person.document_type, person.document_country) == (D.HK_MACAO_PERMIT, "")
    assert person.changes.first().changes[0]["field"] in ("document_type", "document_country")


def test_an_id_card_number_of_another_document_points_to_that_type(areas):
    errors = refusal(areas, id_number=eighteen("820000"))
    assert "港澳台居民居住证" in errors["id_number"][0]


def test_a_mainland_id_card_number_is_not_a_passport(areas, member):
    """Typed as a passport's, the number of someone registered with her ID card would make
    her a second record the uniqueness of the number does not see."""
    errors = refusal(
        areas, document_type=D.PASSPORT, document_country="USA", id_number=member.id_number,
        birth_date=BIRTH, sex="M",
    )  # fmt: skip
    assert "是居民身份证号码，不是护照号码" in errors["id_number"][0]
    assert Member.objects.count() == 1


# -- The form and the pages --------------------------------------------------------------------


def test_the_form_asks_for_the_document_type_before_the_number(client, areas, community_user):
    client.force_login(community_user)
    page = client.get(reverse("members:create"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert page.index('name="document_type"') < page.index('name="id_number"')
    assert "居民身份证号码" in page  # the number's label names the chosen document
    assert "港澳居民来往内地通行证" in page and "护照" in page


def test_the_form_registers_a_passport_holder_and_says_what_is_missing(
    client, areas, community_user
):
    client.force_login(community_user)
    data = member_form_data(
        None,
        name="林美华",
        document_type=D.PASSPORT,
        document_country="",
        id_number="ｅ９８７６５４３２",
        community=areas["140106001001"].pk,
        categories=["overseas_chinese"],
        overseas_country="新加坡",
        overseas_identity="overseas",
    )
    response = client.post(reverse("members:create"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    assert "请选择护照的签发国家或地区。" in page
    assert "该证件号码不含出生日期" in page and "该证件号码不含性别" in page
    assert "护照号码" in page  # the label follows the type posted
    data.update(document_country="SGP", birth_date="1975-08-09", sex="F")
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 302
    person = Member.objects.get(name="林美华")
    assert (person.id_number, person.document_country, person.sex) == ("E98765432", "SGP", "F")
    detail = client.get(response.url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "护照（新加坡）" in detail and "E******32" in detail and "E98765432" not in detail


def test_the_search_finds_a_permit_holder_by_the_number_typed(client, areas, district_user):
    common = {"birth_date": BIRTH, "sex": "M"}
    register(areas, name="陈港生", document_type=D.HK_MACAO_PERMIT, id_number="H12345678", **common)
    register(areas, name="林台生", document_type=D.TAIWAN_PERMIT, id_number="87654321", **common)
    register(areas, name="张三")
    client.force_login(district_user)
    for query, name in (
        ("h1234567800", "陈港生"),
        ("H12345678", "陈港生"),
        ("８７６５４３２１", "林台生"),
    ):
        response = client.get(reverse("members:list"), {"q": query})
        assert [m.name for m in response.context["members"]] == [name], query
    # The list says what document a masked number belongs to (an ID card goes without saying).
    listed = client.get(reverse("members:list")).content.decode()
    assert '<small class="muted">台湾居民来往大陆通行证</small>' in listed
    assert listed.count('<small class="muted">居民身份证</small>') == 0


# -- Rosters -----------------------------------------------------------------------------------

TITLES = ("序号", "姓名", "性别", "出生日期", "民族", "证件类型", "证件号码", "国家或地区")
TITLES += ("政治面貌", "所属社区", "统战对象类别", "未告知原因")


def roster(*rows, titles=TITLES) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["桥东一社区港澳台侨人士花名册"])
    sheet.append(list(titles))
    for index, row in enumerate(rows, 1):
        sheet.append([index, *row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def office_row(name, kind, number, country="", sex="", birth="", category="香港同胞"):
    return (name, sex, birth, "汉族", kind, number, country, "群众", "桥东一社区", category,
            "本人在港，返回时告知")  # fmt: skip


def test_a_roster_with_every_document_type_is_imported(areas, district_user):
    data = roster(
        office_row("王建国", "", id_number_for(), category="华侨、归侨及侨眷"),
        office_row("陈港生", "港澳居民居住证", eighteen("810000")),
        office_row("何澳明", "港澳台居民居住证", eighteen("820000", sequence="051")),
        office_row(
            "林台生", "台湾居民居住证", eighteen("830000"), category="台湾同胞及其在大陆的亲属"
        ),
        office_row("李回乡", "回乡证", "H 1234 5678", sex="男", birth="1968.03.04"),
        office_row("黄台胞", "台胞证", "01234567", sex="女", birth="1970年1月2日"),
        office_row(
            "Tan Wei Ming", "护照", "K1234567", "新加坡", "男", "1981-06-07", "华侨、归侨及侨眷"
        ),
        office_row(
            "Mary Lee", "外国人永久居留身份证", eighteen("931840"), "", "", "", "华侨、归侨及侨眷"
        ),
        office_row(
            "John Smith",
            "外国人永久居留身份证",
            "USA110080503001",
            "",
            "男",
            "1980-05-03",
            "其他需要联系和团结的人员",
        ),
    )
    report = roster_import(actor=district_user, data=data, filename="港澳台侨.xlsx")
    assert report.refused == [] and report.created == 9
    kinds = dict(Member.objects.values_list("name", "document_type"))
    assert kinds == {
        "王建国": D.ID_CARD,
        "陈港生": D.HK_MACAO_RESIDENCE,
        "何澳明": D.HK_MACAO_RESIDENCE,
        "林台生": D.TAIWAN_RESIDENCE,
        "李回乡": D.HK_MACAO_PERMIT,
        "黄台胞": D.TAIWAN_PERMIT,
        "Tan Wei Ming": D.PASSPORT,
        "Mary Lee": D.FOREIGN_PERMANENT,
        "John Smith": D.FOREIGN_PERMANENT,
    }
    tan = Member.objects.get(name="Tan Wei Ming")
    assert (tan.document_country, tan.sex, tan.birth_date) == (
        "SGP",
        "M",
        datetime.date(1981, 6, 7),
    )
    assert Member.objects.get(name="李回乡").id_number_masked == "H******78"
    # Imported again, nobody is new: each document is found by its type and number.
    again = roster_import(actor=district_user, data=data, filename="港澳台侨.xlsx")
    assert (again.created, again.unchanged, again.refused) == (0, 9, [])


def test_a_roster_corrects_the_birth_date_of_a_permit_holder(areas, district_user):
    first = roster(office_row("黄台胞", "台胞证", "01234567", sex="女", birth="1970-01-02"))
    roster_import(actor=district_user, data=first, filename="a.xlsx")
    fixed = roster(office_row("黄台胞", "台胞证", "01234567", sex="女", birth="1970-02-01"))
    report = roster_import(actor=district_user, data=fixed, filename="b.xlsx")
    assert (report.created, report.updated, report.refused) == (0, 1, [])
    assert Member.objects.get().birth_date == datetime.date(1970, 2, 1)


def test_a_roster_row_is_refused_with_its_row_column_and_reason(areas, district_user):
    data = roster(
        office_row("甲", "回乡证", "H1234567", sex="男", birth="1968-03-04"),
        office_row("乙", "台胞证", "01234567"),
        office_row("丙", "护照", "E12345678", "", "男", "1980-01-01"),
        office_row("丁", "驾驶证", "123456"),
        office_row("戊", "居民身份证", eighteen("810000")),
        office_row("己", "护照", "E1234\u0665678", "美国", "男", "1980-01-01"),
    )
    with translation.override("zh-hans"):
        report = roster_import(actor=district_user, data=data, filename="花名册.xlsx", dry_run=True)
    reasons = {(error.row, error.column): error.message for error in report.refused}
    assert "H（香港）或 M（澳门）加8位数字" in reasons[(3, "证件号码")]
    assert "不含出生日期" in reasons[(4, "出生日期")] and "不含性别" in reasons[(4, "性别")]
    assert reasons[(5, "国家或地区")] == "请选择护照的签发国家或地区。"
    assert "“驾驶证”不是可用的证件类型" in reasons[(6, "证件类型")]
    assert "港澳台居民居住证号码" in reasons[(7, "证件号码")]
    assert "第 6 位" in reasons[(8, "证件号码")]
    assert report.created == 0


def test_a_roster_with_only_an_id_card_column_imports_as_before(areas, district_user):
    titles = ("姓名", "民族", "身份证号", "政治面貌", "所属社区", "统战对象类别", "未告知原因")
    book = Workbook()
    book.active.append(titles)
    book.active.append(
        ["王五", "汉族", id_number_for(), "群众", "桥东一社区", "党外知识分子", "外出务工"]
    )
    out = io.BytesIO()
    book.save(out)
    report = roster_import(actor=district_user, data=out.getvalue(), filename="旧花名册.xlsx")
    assert (report.created, report.refused) == (1, [])
    assert Member.objects.get().document_type == D.ID_CARD


def test_a_passport_in_a_roster_without_a_country_column_names_the_missing_column(
    areas, district_user
):
    titles = ("姓名", "性别", "出生日期", "民族", "证件类型", "证件号码", "政治面貌", "所属社区")
    titles += ("统战对象类别",)
    book = Workbook()
    book.active.append(titles)
    book.active.append(
        ["Tan", "男", "1980-01-01", "汉族", "护照", "K1234567", "群众", "桥东一社区", "华侨"]
    )
    out = io.BytesIO()
    book.save(out)
    report = roster_import(actor=district_user, data=out.getvalue(), filename="a.xlsx")
    assert [error.column for error in report.refused] == ["国家或地区"]


def test_an_export_of_every_document_type_reimports_unchanged(areas, district_user):
    common = {"birth_date": BIRTH, "sex": "M"}
    register(areas, name="甲")
    register(areas, name="乙", document_type=D.TAIWAN_RESIDENCE, id_number=eighteen("830000"))
    register(areas, name="丙", document_type=D.HK_MACAO_PERMIT, id_number="M12345678", **common)
    register(areas, name="丁", document_type=D.TAIWAN_PERMIT, id_number="12345678", **common)
    register(
        areas,
        name="戊",
        document_type=D.PASSPORT,
        document_country="CAN",
        id_number="AB1234567",
        **common,
    )
    register(
        areas, name="己", document_type=D.FOREIGN_PERMANENT, id_number="CAN110080503001", **common
    )
    out = io.BytesIO()
    write_roster(roster_queryset(Member.objects.order_by("pk"), full=True), out, full=True)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(2)]
    assert [(row["证件类型"], row["证件号码"], row["国家或地区"]) for row in rows][3:5] == [
        ("台湾居民来往大陆通行证", "12345678", None),
        ("护照", "AB1234567", "加拿大"),
    ]
    report = roster_import(actor=district_user, data=out.getvalue(), filename="export.xlsx")
    assert (report.created, report.updated, report.unchanged, report.refused) == (0, 0, 6, [])


def test_the_template_offers_the_document_types_and_explains_them():
    book = load_workbook(io.BytesIO(write_template()))
    header = [cell.value for cell in book["统战对象"][1]]
    assert header.index("证件类型") < header.index("证件号码") < header.index("国家或地区")
    instructions = " ".join(str(row[0].value or "") for row in book["填写说明"].iter_rows())
    assert "港澳居民来往内地通行证（H或M加8位数字）" in instructions
    assert "证件类型不填即为居民身份证" in instructions
    options = [cell.value for row in book["选项"].iter_rows() for cell in row if cell.value]
    assert "外国人永久居留身份证" in options and "其他国家或地区" in options


def test_the_migration_gives_numbers_typed_as_id_cards_their_own_document(areas, member):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("members.migrations.0009_member_document_type")
    permit = register(areas, document_type=D.TAIWAN_RESIDENCE, id_number=eighteen("830000"))
    # As registered before document types: an ID card, hashed by the number alone.
    Member.objects.filter(pk=permit.pk).update(
        document_type=D.ID_CARD, id_number_hash=lookup_hash(permit.id_number)
    )
    migration._documents_of_other_types(apps, None)
    permit.refresh_from_db()
    member_hash = member.id_number_hash
    member.refresh_from_db()
    assert permit.document_type == D.TAIWAN_RESIDENCE
    assert permit.id_number_hash == lookup_hash(f"tw_residence:{permit.id_number}")
    assert (member.document_type, member.id_number_hash) == (D.ID_CARD, member_hash)
    migration._back_to_id_cards(apps, None)
    permit.refresh_from_db()
    assert permit.id_number_hash == lookup_hash(permit.id_number)
