import datetime
import io
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.test import override_settings
from django.utils import translation

from members.roster_reader import (
    RosterFileError,
    RowError,
    find_header,
    iter_rows,
    parse_row,
    read_table,
)

FILES = Path(__file__).resolve().parent / "files"
SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "samples" / "roster_sample.xlsx"


@pytest.fixture(autouse=True)
def english():
    # The assertions read the msgids, whatever translations the catalogue holds.
    with translation.override("en"):
        yield


def xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse(data: bytes, filename: str):
    rows = read_table(data, filename)
    header = find_header(rows)
    return header, list(iter_rows(rows, header))


def by_number(parsed):
    return {number: (values, errors) for number, values, errors in parsed}


# -- The shared sample ----------------------------------------------------------------------


@pytest.fixture
def sample():
    if not SAMPLE.exists():
        pytest.skip("the shared sample is not beside the repository")
    return parse(SAMPLE.read_bytes(), SAMPLE.name)


def test_sample_header_below_the_merged_title(sample):
    header, _parsed = sample
    assert header.row == 3
    assert header.missing == []
    assert header.unknown == []
    assert {column.key for column in header.columns.values()} >= {
        "name",
        "id_number",
        "categories",
        "community",
    }


def test_sample_rows(sample):
    _header, parsed = sample
    assert len(parsed) == 60
    assert [number for number, _values, _errors in parsed] == list(range(4, 64))


def test_sample_numeric_ids_refused_with_their_rows(sample):
    _header, parsed = sample
    id_errors = [e for _n, _v, errors in parsed for e in errors if e.column == "身份证号码"]
    assert [error.row for error in id_errors] == [7, 21]
    assert all("stored as a number" in error.message for error in id_errors)


def test_sample_unknown_category(sample):
    _header, parsed = sample
    errors = by_number(parsed)[16][1]
    assert errors == [RowError(16, "统战对象类别", errors[0].message)]
    assert "“热心群众”" in errors[0].message


def test_sample_full_width_semicolon_separates_categories(sample):
    _header, parsed = sample
    values = by_number(parsed)[8][0]
    assert values["categories"] == ["intellectual", "hong_kong"]
    assert values["birth_date"] == (datetime.date(1984, 8, 1), "month")
    assert values["political_status"] == "13"
    assert values["education"] == "21"


def test_sample_other_rows_are_clean(sample):
    _header, parsed = sample
    with_errors = sorted(n for n, _v, errors in parsed if errors)
    assert with_errors == [7, 16, 21]


# -- Legacy .xls and CSV --------------------------------------------------------------------


def test_legacy_xls():
    header, parsed = parse((FILES / "roster.xls").read_bytes(), "roster.xls")
    assert header.row == 2
    rows = by_number(parsed)
    assert sorted(rows) == [3, 4, 5]
    first = rows[3][0]
    assert first["id_number"] == "140106198005030011"
    assert first["categories"] == ["democratic_party", "private_economy"]
    second, errors = rows[4]
    assert second["birth_date"] == (datetime.date(1975, 3, 8), "day")
    assert second["phone"] == "13912345678"
    assert second["political_status"] == "05"
    assert [(e.row, e.column) for e in errors] == [(4, "身份证号")]
    third = rows[5][0]
    assert third["ethnicity"] == "11"
    assert third["categories"] == ["overseas_chinese", "hong_kong"]
    assert third["birth_date"] == (datetime.date(1990, 12, 1), "month")


def test_gbk_csv():
    _header, parsed = parse((FILES / "roster_gbk.csv").read_bytes(), "roster.csv")
    rows = by_number(parsed)
    assert rows[2][0]["name"] == "张三"
    assert rows[3][0]["categories"] == ["new_stratum", "hong_kong"]
    # Excel wrote the number-formatted ID in scientific notation.
    assert [(e.row, e.column) for e in rows[4][1]] == [(4, "身份证号")]
    assert "stored as a number" in rows[4][1][0].message


def test_utf8_bom_csv_with_semicolons_and_columns_in_another_order():
    header, parsed = parse((FILES / "roster_utf8_bom.csv").read_bytes(), "roster.csv")
    assert header.row == 1
    assert header.missing == []
    rows = by_number(parsed)
    assert rows[2] == (
        {
            "phone": "13812345678",
            "categories": ["taiwan"],
            "id_number": "140106198005030011",
            "name": "赵六",
            "political_status": "09",
            "ethnicity": "08",
            "birth_date": (datetime.date(1980, 5, 3), "day"),
        },
        [],
    )
    assert rows[3][0]["categories"] == ["religious"]
    assert rows[3][0]["political_status"] == "12"
    assert rows[3][0]["birth_date"] == (datetime.date(1975, 3, 8), "day")


# -- An untidy workbook ---------------------------------------------------------------------


@pytest.fixture
def untidy():
    return parse(
        xlsx(
            [
                ["某社区统战对象花名册"],
                ["填报单位：某社区"],
                [
                    "序号",
                    " *名字 ",
                    "身份证件号码",
                    "社区（村）",
                    "出生\n日期",
                    "手机号",
                    "民 族",
                    "政治面貌",
                    "爱好",
                    "是否代表人士",
                    "人员类别",
                ],
                [1, "　王　伟　", "１４０１０６１９８００５０３００１ｘ", "五一二社区",
                 "1980年5月3日",
                 "１３８ １２３４ ５６７８", "汉", "党员", "书法", "是", "新阶层、台属"],
                [2, "张三", 140106198005030011, "五一二社区", datetime.date(1980, 5, 3),
                 13812345678, "蒙古", "九三学社", "", "", "非公有制经济人士 港胞"],
                [3],
                [],
                [4, "阿依古丽•买买提", "140106198005030011", "五一二社区", 29344, "", "维吾尔",
                 "无党派", "", "否", "华侨、归侨及侨眷、少数民族"],
                ["注：本表由社区统战委员填写。"],
                [None, "填表人：李四"],
                [None, "1. 身份证号码请设置为文本格式"],
            ]
        ),
        "untidy.xlsx",
    )  # fmt: skip


def test_untidy_header(untidy):
    header, _parsed = untidy
    assert header.row == 3
    assert header.unknown == ["爱好"]
    assert {column.key for column in header.columns.values()} == {
        "name",
        "id_number",
        "community",
        "birth_date",
        "phone",
        "ethnicity",
        "political_status",
        "is_representative",
        "categories",
    }
    assert header.missing == []


def test_untidy_rows_skip_blanks_and_notes(untidy):
    _header, parsed = untidy
    assert [number for number, _v, _e in parsed] == [4, 5, 8]


def test_full_width_and_stray_spaces(untidy):
    _header, parsed = untidy
    values, errors = by_number(parsed)[4]
    assert errors == []
    assert values["name"] == "王伟"
    assert values["id_number"] == "14010619800503001X"
    assert values["phone"] == "13812345678"
    assert values["ethnicity"] == "01"
    assert values["political_status"] == "01"
    assert values["is_representative"] is True
    assert values["categories"] == ["new_stratum", "taiwan"]
    assert values["birth_date"] == (datetime.date(1980, 5, 3), "day")


def test_numeric_cells(untidy):
    _header, parsed = untidy
    values, errors = by_number(parsed)[5]
    # openpyxl wrote the ID as a number: refused though all its digits survived here.
    assert [(e.row, e.column) for e in errors] == [(5, "身份证件号码")]
    assert values["id_number"] == ""
    assert values["phone"] == "13812345678"
    assert values["birth_date"] == (datetime.date(1980, 5, 3), "day")
    assert values["ethnicity"] == "02"
    assert values["political_status"] == "10"
    assert values["is_representative"] is False
    assert values["categories"] == ["private_economy", "hong_kong"]


def test_serial_date_dot_name_and_category_with_its_own_separator(untidy):
    _header, parsed = untidy
    values, errors = by_number(parsed)[8]
    assert errors == []
    assert values["name"] == "阿依古丽·买买提"
    assert values["birth_date"] == (datetime.date(1980, 5, 3), "day")
    assert values["ethnicity"] == "05"
    assert values["categories"] == ["overseas_chinese", "ethnic_minority"]


def test_repeated_header_row_is_skipped():
    data = xlsx([["姓名", "身份证号"], ["张三", "140106198005030011"], ["姓名", "身份证号"]])
    _header, parsed = parse(data, "r.xlsx")
    assert [number for number, _v, _e in parsed] == [2]


def test_data_after_notes_is_not_dropped():
    data = xlsx(
        [
            ["姓名", "身份证号", "民族"],
            ["张三", "140106198005030011", "汉族"],
            ["注：下面还有"],
            ["李四", "140106197503080028", "回族"],
        ]
    )
    _header, parsed = parse(data, "r.xlsx")
    assert [number for number, _v, _e in parsed] == [2, 4]


# -- Values, one by one ---------------------------------------------------------------------


def parse_one(key_header: str, value):
    header = find_header([(1, ["姓名", key_header])])
    values, errors = parse_row(2, ["某人", value], header)
    return values[header.columns[1].key], errors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1980.05", (datetime.date(1980, 5, 1), "month")),
        ("1980.5", (datetime.date(1980, 5, 1), "month")),
        ("1980.10", (datetime.date(1980, 10, 1), "month")),
        ("1980年5月", (datetime.date(1980, 5, 1), "month")),
        ("1980年5月3日", (datetime.date(1980, 5, 3), "day")),
        ("19800503", (datetime.date(1980, 5, 3), "day")),
        ("198005", (datetime.date(1980, 5, 1), "month")),
        ("1980-05-03", (datetime.date(1980, 5, 3), "day")),
        ("1980/5/3", (datetime.date(1980, 5, 3), "day")),
        ("1980-5", (datetime.date(1980, 5, 1), "month")),
        ("１９８０．０５", (datetime.date(1980, 5, 1), "month")),
        ("1980-05-03 00:00:00", (datetime.date(1980, 5, 3), "day")),
        (datetime.datetime(1980, 5, 3), (datetime.date(1980, 5, 3), "day")),
        (29344.0, (datetime.date(1980, 5, 3), "day")),
        (19800503.0, (datetime.date(1980, 5, 3), "day")),
        (1980.05, (datetime.date(1980, 5, 1), "month")),
        (1980.12, (datetime.date(1980, 12, 1), "month")),
        ("", None),
    ],
)
def test_birth_dates(raw, expected):
    assert parse_one("出生年月", raw) == (expected, [])


@pytest.mark.parametrize("raw", ["1980.13", "1980年2月30日", "八十年代", "2999.01", "1850-01-01"])
def test_bad_birth_dates(raw):
    value, errors = parse_one("出生年月", raw)
    assert value is None
    assert len(errors) == 1
    assert "not a valid date of birth" in errors[0].message


def test_number_1980_1_is_ambiguous():
    value, errors = parse_one("出生年月", 1980.1)
    assert value is None
    assert "January or October" in errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("男", "M"), ("男性", "M"), ("m", "M"), ("女", "F"), (" 女性 ", "F"), ("F", "F"), ("", "")],
)
def test_sex(raw, expected):
    assert parse_one("性别", raw) == (expected, [])


def test_bad_sex():
    value, errors = parse_one("性别", "未知")
    assert value == ""
    assert errors[0].column == "性别"
    assert "“未知”" in errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("汉族", "01"),
        ("汉", "01"),
        ("蒙古", "02"),
        ("蒙古族", "02"),
        ("土家", "15"),
        ("基诺族", "56"),
    ],
)
def test_ethnicity(raw, expected):
    assert parse_one("民族", raw) == (expected, [])


def test_unknown_ethnicity():
    value, errors = parse_one("民族", "穿青人")
    assert value == ""
    assert "“穿青人”" in errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("中国共产党党员", "01"),
        ("中共党员", "01"),
        ("党员", "01"),
        ("预备党员", "02"),
        ("团员", "03"),
        ("共青团员", "03"),
        ("民革", "04"),
        ("民革党员", "04"),
        ("民革会员", "04"),
        ("民盟", "05"),
        ("民盟盟员", "05"),
        ("民建", "06"),
        ("民建会员", "06"),
        ("民进", "07"),
        ("民进会员", "07"),
        ("农工党", "08"),
        ("农工党党员", "08"),
        ("致公党", "09"),
        ("致公党党员", "09"),
        ("九三学社", "10"),
        ("九三学社社员", "10"),
        ("台盟", "11"),
        ("台盟盟员", "11"),
        ("无党派", "12"),
        ("无党派人士", "12"),
        ("群众", "13"),
    ],
)
def test_political_status(raw, expected):
    assert parse_one("政治面貌", raw) == (expected, [])


def test_unknown_political_status():
    _value, errors = parse_one("政治面貌", "国民党")
    assert "“国民党”" in errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("博士", "11"),
        ("博士研究生", "11"),
        ("硕士", "14"),
        ("研究生", "14"),
        ("硕士研究生", "14"),
        ("本科", "21"),
        ("大学本科", "21"),
        ("大学", "21"),
        ("大专", "31"),
        ("专科", "31"),
        ("大学专科", "31"),
        ("中专", "41"),
        ("中职", "41"),
        ("中技", "41"),
        ("职高", "41"),
        ("高中", "61"),
        ("初中", "71"),
        ("小学", "81"),
        ("小学及以下", "81"),
    ],
)
def test_education(raw, expected):
    assert parse_one("文化程度", raw) == (expected, [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("民主党派", ["democratic_party"]),
        ("无党派", ["non_party"]),
        ("非公经济人士/非公有制经济人士，非公", ["private_economy"]),
        ("新阶层;新的社会阶层人士", ["new_stratum"]),
        ("留学人员 归国留学人员", ["overseas_study"]),
        ("香港同胞,澳胞", ["hong_kong", "macao"]),
        ("台胞、台属、台湾同胞", ["taiwan"]),
        ("华侨、归侨及侨眷", ["overseas_chinese"]),
        ("归侨侨眷／归侨及侨眷", ["overseas_chinese"]),
        ("宗教界；少数民族人士", ["religious", "ethnic_minority"]),
        ("党外知识分子、其他", ["intellectual", "other"]),
        ("其他需要联系和团结的人员", ["other"]),
        ("", []),
    ],
)
def test_categories(raw, expected):
    assert parse_one("统战对象类别", raw) == (expected, [])


def test_unknown_categories_are_named():
    value, errors = parse_one("统战对象类别", "热心群众、新阶层、志愿者")
    assert value == []
    assert "“热心群众、志愿者”" in errors[0].message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("是", True), ("Y", True), ("√", True), (1.0, True), ("true", True), (True, True)]
    + [("否", False), ("", False), ("n", False), ("0", False), (0.0, False)],
)
def test_is_representative(raw, expected):
    assert parse_one("代表人士", raw) == (expected, [])


def test_bad_is_representative():
    value, errors = parse_one("代表人士", "政协委员")
    assert value is False
    assert "“政协委员”" in errors[0].message


def test_bad_phone():
    value, errors = parse_one("联系电话", "12345")
    assert value == ""
    assert errors[0].column == "联系电话"
    assert "is not a phone number" in errors[0].message


def test_community_as_code_or_name():
    assert parse_one("所属社区", 140106001001.0) == ("140106001001", [])
    assert parse_one("所属社区", " 五一二 社区 ") == ("五一二社区", [])


def test_text_fields_collapse_spaces():
    assert parse_one("工作单位", "明腾网络有限公司  总经理 ") == ("明腾网络有限公司 总经理", [])


def test_blank_row():
    header = find_header([(1, ["序号", "姓名", "身份证号"])])
    assert parse_row(5, [12, "", "  "], header) == ({}, [])


# -- Files refused --------------------------------------------------------------------------


def refused(data: bytes, filename: str, **kwargs) -> str:
    with pytest.raises(RosterFileError) as caught:
        read_table(data, filename, **kwargs)
    return caught.value.message


def test_pdf_named_xlsx():
    assert "not a spreadsheet" in refused(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "r.xlsx")


def test_text_named_xls():
    assert "not a spreadsheet" in refused("姓名,身份证号\n张三,1\n".encode(), "r.xls")


def test_binary_named_csv():
    assert "not a spreadsheet" in refused(b"MZ\x90\x00\x03\x00\x00\x00", "r.csv")


def test_empty_file():
    assert "empty" in refused(b"", "r.xlsx")


def test_sheet_without_content():
    assert "no content" in refused(xlsx([]), "r.xlsx")
    assert "no content" in refused(b"\r\n,,\r\n", "r.csv")


def test_truncated_xlsx():
    assert "damaged" in refused(xlsx([["姓名"]])[:500], "r.xlsx")


def test_encrypted_workbook():
    junk = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    assert "password" in refused(junk, "r.xlsx")
    streams = junk + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64
    assert "password" in refused(streams, "r.xls")


def test_damaged_xls():
    junk = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    assert "damaged" in refused(junk, "r.xls")


def test_too_large():
    data = xlsx([["姓名", "身份证号"]])
    assert "too large" in refused(data, "r.xlsx", max_bytes=1000)
    with override_settings(ROSTER_MAX_BYTES=1000):
        assert "too large" in refused(data, "r.xlsx")


def test_zip_bomb_declaring_a_huge_size():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<x/>" * 100)
    data = bytearray(buffer.getvalue())
    central = data.index(b"PK\x01\x02")
    # The central directory's uncompressed size (offset 24) is what the archive declares.
    data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)
    assert "abnormal size" in refused(bytes(data), "r.xlsx")


def test_zip_bomb_over_the_uncompressed_cap():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(1024 * 1024))
    assert "abnormal size" in refused(buffer.getvalue(), "r.xlsx", max_uncompressed=64 * 1024)
    with override_settings(ROSTER_MAX_UNCOMPRESSED=64 * 1024):
        assert "abnormal size" in refused(buffer.getvalue(), "r.xlsx")


def test_zip_bomb_by_ratio():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", bytes(11 * 1024 * 1024))
    assert "abnormal size" in refused(buffer.getvalue(), "r.xlsx")


def test_zip_with_too_many_entries():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(10_001):
            archive.writestr(f"x/{number}", b"")
    assert "abnormal size" in refused(buffer.getvalue(), "r.xlsx")


def test_no_header_row():
    rows = read_table(xlsx([["甲", "乙"], ["1", "2"]]), "r.xlsx")
    with pytest.raises(RosterFileError) as caught:
        find_header(rows)
    assert "No header row found" in caught.value.message
    assert "姓名、民族、证件号码、政治面貌" in caught.value.message


def test_missing_required_columns():
    header = find_header([(1, ["姓名", "性别", "电话"])])
    assert [column.key for column in header.missing] == [
        "ethnicity",
        "id_number",
        "political_status",
    ]
