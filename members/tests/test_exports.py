"""Exports of the roster and the import template: scope, filters, masking, logging, safety."""

import io
from urllib.parse import quote

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from members import exports
from members.models import Category, Member
from members.roster import COLUMNS
from tongzhan.models import AuditEvent
from tongzhan.tests.libreoffice import csv_rows, needs_libreoffice

from .factories import MemberFactory

pytestmark = pytest.mark.django_db

TITLES = [column.title for column in COLUMNS]
ID_COLUMN = TITLES.index("证件号码") + 1
PHONE_COLUMN = TITLES.index("联系电话") + 1


def _sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]


def _rows(sheet) -> list[dict]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _export(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("members:export"), query)
    assert response.status_code == 200
    return response, _sheet(b"".join(response.streaming_content))


def test_street_officer_exports_both_communities_of_the_street_only(
    client, street_user, member, neighbour_member, far_member
):
    _response, sheet = _export(client, street_user)
    assert {row["姓名"] for row in _rows(sheet)} == {"张三", "李四"}


def test_community_worker_exports_only_their_community(
    client, community_user, member, neighbour_member, far_member
):
    _response, sheet = _export(client, community_user)
    assert [row["姓名"] for row in _rows(sheet)] == ["张三"]


def test_export_applies_the_list_filters(client, district_user, member, areas):
    religious = Category.objects.get(slug="religious")
    MemberFactory(name="释某", community=areas["140106001002"], categories=[religious])
    moved = MemberFactory(name="迁出", community=areas["140106001001"], categories=[religious])
    Member.objects.filter(pk=moved.pk).update(status=Member.Status.MOVED_OUT)

    _response, sheet = _export(client, district_user, category=religious.code)
    assert [row["姓名"] for row in _rows(sheet)] == ["释某"]

    _response, sheet = _export(client, district_user, category=religious.code, status="")
    assert {row["姓名"] for row in _rows(sheet)} == {"释某", "迁出"}


def test_export_cells_read_back_as_the_roster(client, district_user, areas):
    categories = Category.objects.filter(slug__in=["intellectual", "overseas_chinese"])
    person = MemberFactory(
        name="王五",
        community=areas["140106001001"],
        grid=areas["140106001001001"],
        categories=list(categories),
        education=Member.Education.MASTER,
        is_representative=True,
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response, sheet = _export(client, district_user)
    assert response["Content-Language"] == "en"
    assert [cell.value for cell in sheet[1]] == TITLES
    (row,) = _rows(sheet)
    assert row["性别"] == "男"
    assert row["民族"] == "汉族"
    assert row["出生日期"] == person.birth_date.isoformat()
    assert row["政治面貌"] == "群众"
    assert row["学历"] == "硕士研究生"
    assert row["所属社区"] == "桥东一社区"
    assert row["所属网格"] == "桥东一社区第一网格"
    assert row["统战对象类别"] == "党外知识分子、华侨、归侨及侨眷"
    assert row["代表人士"] == "是"


def test_street_officer_gets_masked_numbers(client, street_user, member):
    response, sheet = _export(client, street_user)
    (row,) = _rows(sheet)
    assert row["证件号码"] == member.id_number_masked
    assert row["联系电话"] == member.phone_masked
    assert member.id_number not in str(row.values())
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).detail["full"] is False


def test_district_officer_gets_full_numbers(client, district_user, member):
    _response, sheet = _export(client, district_user)
    (row,) = _rows(sheet)
    assert row["证件号码"] == member.id_number
    assert row["联系电话"] == member.phone
    assert AuditEvent.objects.get(action=AuditEvent.Action.EXPORT).detail["full"] is True


def test_id_and_phone_are_text_cells(client, district_user, member):
    _response, sheet = _export(client, district_user)
    for column in (ID_COLUMN, PHONE_COLUMN):
        cell = sheet.cell(row=2, column=column)
        assert cell.data_type == "s"
        assert cell.number_format == "@"


def test_export_is_logged_with_filters_and_row_count(
    client, community_user, member, neighbour_member
):
    response, _sheet_ = _export(client, community_user, category="03", page="2")
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == community_user
    assert event.detail == {"filters": {"category": "03"}, "rows": 1, "full": True}
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('统战对象_')}" in disposition
    assert disposition.endswith(".xlsx")


def test_a_searched_id_number_is_masked_in_the_log(client, district_user, member):
    _export(client, district_user, q=member.id_number)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.detail["rows"] == 1
    assert event.detail["filters"]["q"] == member.id_number_masked
    assert member.id_number not in str(event.detail)


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://example.com","点我")',
        "+1",
        "-1+2",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "#N/A",
    ],
)
def test_text_that_looks_like_a_formula_stays_text(client, district_user, areas, text):
    MemberFactory(community=areas["140106001001"], workplace=text, notes=text)
    _response, sheet = _export(client, district_user)
    workplace = sheet.cell(row=2, column=TITLES.index("工作单位及职务") + 1)
    notes = sheet.cell(row=2, column=TITLES.index("备注") + 1)
    for cell in (workplace, notes):
        assert cell.data_type == "s"
        # openpyxl does not decode the _x000D_ escape Excel and calamine read as CR.
        assert cell.value == text.replace("\r", "_x000D_")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


@needs_libreoffice
def test_formula_like_names_addresses_and_notes_show_as_written(
    client, district_user, areas, tmp_path
):
    written = ["＝1+1", "+1", "@SUM(A1)", "\t=1", " =1"]
    for text in written:
        MemberFactory(community=areas["140106001001"], name=text, address=text, notes=text)
    client.force_login(district_user)
    content = b"".join(client.get(reverse("members:export")).streaming_content)
    sheet = _sheet(content)
    columns = [TITLES.index(title) + 1 for title in ("姓名", "现居住地址", "备注")]
    for row in range(2, 2 + len(written)):
        for column in columns:
            cell = sheet.cell(row=row, column=column)
            # Text, and quote-prefixed: an edit in Excel (which reads ＝ as =) keeps it text.
            assert cell.data_type == "s" and cell.quotePrefix, (cell.value, cell.coordinate)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    rows = csv_rows(content, tmp_path)
    shown = {tuple(row[column - 1] for column in columns) for row in rows[1:]}
    # A name is kept without the blanks around it (`plain_name`); the address and notes as typed.
    assert shown == {(text.strip(), text, text) for text in written}


def test_carriage_return_reads_back_unchanged_in_calamine(areas):
    python_calamine = pytest.importorskip("python_calamine")
    MemberFactory(community=areas["140106001001"], notes="\r=1+1", workplace="a_x0041_b")
    content = exports.roster_bytes(
        exports.roster_queryset(Member.objects.all(), full=True), full=True
    )
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    header, row = book.get_sheet_by_index(0).to_python()
    assert row[header.index("备注")] == "\r=1+1"
    assert row[header.index("工作单位及职务")] == "a_x0041_b"


def test_template_has_headers_lists_and_instructions(client, community_user):
    client.force_login(community_user)
    response = client.get(reverse("members:template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert [cell.value for cell in sheet[1]] == TITLES
    assert sheet.freeze_panes == "A2"
    assert sheet.cell(row=2, column=ID_COLUMN).number_format == "@"
    assert sheet.cell(row=1001, column=PHONE_COLUMN).number_format == "@"

    letter = {title: openpyxl.utils.get_column_letter(i) for i, title in enumerate(TITLES, 1)}
    lists = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        (title,) = [t for t, col in letter.items() if str(validation.sqref).startswith(col + "2")]
        lists[title] = validation
    assert set(lists) == {
        *("统战对象类别", "民族", "性别", "政治面貌", "学历", "代表人士", "证件类型", "国家或地区"),
        "告知方式",
    }
    assert lists["告知方式"].formula1 == '"告知书当面送达,走访时口头告知,短信或微信告知"'
    assert lists["性别"].formula1 == '"男,女"'
    assert lists["代表人士"].formula1 == '"是,否"'
    assert not lists["统战对象类别"].showErrorMessage
    assert lists["民族"].showErrorMessage

    options = book["选项"]
    assert options.sheet_state == "hidden"
    ethnicities = [c.value for c in options["B"] if c.value]
    assert len(ethnicities) == 56 and ethnicities[0] == "汉族"
    assert lists["民族"].formula1 == "'选项'!$B$1:$B$56"
    categories = [c.value for c in options["A"] if c.value]
    assert "华侨、归侨及侨眷" in categories and len(categories) == 13

    instructions = "\n".join(str(c.value or "") for c in book["填写说明"]["A"])
    assert "证件号码" in instructions and "文本" in instructions
    assert "、" in instructions and "；" in instructions


def test_list_links_to_export_with_the_query_and_to_the_import(client, district_user):
    client.force_login(district_user)
    html = client.get(reverse("members:list"), {"category": "03"}).content.decode()
    assert f"{reverse('members:export')}?category=03" in html
    assert reverse("members:import_create") in html
    html = client.get(reverse("members:import_create")).content.decode()
    assert reverse("members:template") in html


def test_a_community_worker_who_may_not_import_is_not_offered_the_import(client, community_user):
    client.force_login(community_user)
    html = client.get(reverse("members:list")).content.decode()
    assert reverse("members:export") in html
    assert reverse("members:import_create") not in html
    assert reverse("members:import_list") not in html


@pytest.mark.parametrize("name", ["members:export", "members:template"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_export_command_writes_full_values_of_every_status(
    tmp_path, capsys, member, neighbour_member, far_member
):
    Member.objects.filter(pk=far_member.pk).update(status=Member.Status.DECEASED)
    out = tmp_path / "all.xlsx"
    call_command("export_members", str(out))
    rows = _rows(_sheet(out.read_bytes()))
    # Ordered by community code: 坞城社区 (140105…) first.
    assert [row["姓名"] for row in rows] == ["赵六", "张三", "李四"]
    assert rows[1]["证件号码"] == member.id_number
    assert rows[1]["联系电话"] == member.phone
    assert "3" in capsys.readouterr().out
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert (event.actor, event.username) == (None, "manage.py")
    assert event.detail == {"area": None, "rows": 3, "file": "all.xlsx"}


def test_export_command_honours_the_area(tmp_path, member, neighbour_member, far_member):
    out = tmp_path / "street.xlsx"
    call_command("export_members", str(out), "--area", "140106001001")
    assert [row["姓名"] for row in _rows(_sheet(out.read_bytes()))] == ["张三"]
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.detail == {"area": "140106001001", "rows": 1, "file": "street.xlsx"}


def test_export_command_refuses_an_unknown_area(tmp_path, areas):
    with pytest.raises(CommandError, match="999"):
        call_command("export_members", str(tmp_path / "x.xlsx"), "--area", "999")
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()
