"""The roster as an .xlsx file: exports of members and the blank import template.

Both use `roster.COLUMNS`, titles and order, with the header on row 1, so an exported file
re-imports as it is. Cell contents are data for Chinese offices, not interface text: choice
labels are written in Chinese whatever the language of the request.

Notes for whoever reads these files back:

- 统战对象类别 holds the full category names joined with "、". One name, 华侨、归侨及侨眷,
  itself contains "、"; the import matches full names before it splits on separators, so the
  cell still reads back as the categories written.
- Without ``full`` (the web export for roles without ``members.reveal_member``) the ID
  number and phone are masked. Such a file cannot be re-imported as it is: the import
  finds members by their full ID number, so a re-import needs a full export.
- Every file is written by `tongzhan.spreadsheets`: text is never a formula.
"""

import dataclasses
import io
from collections.abc import Iterable

from django.db.models import Prefetch
from django.utils import translation

from tongzhan import spreadsheets as xlsx

from . import reference
from .models import Category, Ethnicity, Member, PoliticalArrangement, PoliticalStatus
from .roster import COLUMNS
from .services import arrangements_text

CATEGORY_SEPARATOR = "、"
# Columns kept as text so Excel neither rounds 18 digits nor drops a leading 0.
TEXT_COLUMNS = ("id_number", "phone")
TEXT_CELL = xlsx.Style(number_format=xlsx.TEXT_FORMAT)
HEADER = xlsx.Style(bold=True)
TEMPLATE_ROWS = 1000
CHUNK = 2000

WIDTHS = {
    "name": 10,
    "sex": 6,
    "ethnicity": 10,
    "birth_date": 12,
    "document_type": 16,
    "id_number": 21,
    "document_country": 12,
    "political_status": 22,
    "education": 12,
    "native_place": 12,
    "workplace": 28,
    "professional_title": 14,
    "social_positions": 24,
    "phone": 15,
    "address": 30,
    "community": 14,
    "grid": 18,
    "categories": 26,
    "is_representative": 9,
    "specialty": 20,
    "notes": 30,
    "informed_how": 16,
    "informed_on": 12,
    "not_informed_reason": 24,
}


def _widths() -> dict[int, float]:
    return {index: WIDTHS.get(column.key, 12) for index, column in enumerate(COLUMNS, 1)}


def _values(member: Member, *, full: bool, labels: dict) -> dict[str, str]:
    birth = member.birth_date
    return {
        "name": member.name,
        "sex": labels["sex"].get(member.sex, ""),
        "ethnicity": member.ethnicity.name,
        "birth_date": birth.isoformat() if birth else "",
        "document_type": labels["document_type"].get(member.document_type, ""),
        "id_number": member.id_number if full else member.id_number_masked,
        "document_country": labels["document_country"].get(member.document_country, ""),
        "political_status": member.political_status.name,
        "education": labels["education"].get(member.education, ""),
        "native_place": member.native_place,
        "workplace": member.workplace,
        "professional_title": member.professional_title,
        # The arrangements in office as rosters write them, then the other positions: the
        # import reads the arrangements back into rows and keeps the rest as text.
        "social_positions": arrangements_text(_arrangements_of(member), member.social_positions),
        "phone": (member.phone if full else member.phone_masked) or "",
        "address": member.address,
        "community": member.community.name,
        "grid": member.grid.name if member.grid_id else "",
        "categories": CATEGORY_SEPARATOR.join(c.name for c in member.categories.all()),
        "is_representative": "是" if member.is_representative else "否",
        "specialty": member.specialty,
        "notes": member.notes,
        "informed_how": labels["informed_how"].get(member.informed_how, ""),
        "informed_on": member.informed_on.isoformat() if member.informed_on else "",
        "not_informed_reason": member.not_informed_reason,
    }


def _arrangements_of(member: Member):
    held = getattr(member, "exported_arrangements", None)
    return held if held is not None else member.arrangements.in_office()


def _choice_labels() -> dict:
    with translation.override("zh-hans"):
        return {
            "sex": {value: str(label) for value, label in Member.Sex.choices},
            "education": {value: str(label) for value, label in Member.Education.choices},
            "document_type": {value: str(label) for value, label in Member.DocumentType.choices},
            "document_country": {value: str(label) for value, label in Member.Country.choices},
            "informed_how": {value: str(label) for value, label in Member.InformedHow.choices},
        }


def roster_queryset(members, *, full: bool):
    """`members` with what a roster row reads, in a fixed number of queries per chunk."""
    members = members.select_related("community", "grid", "ethnicity", "political_status")
    members = members.prefetch_related(
        "categories",
        Prefetch(
            "arrangements",
            queryset=PoliticalArrangement.objects.in_office(),
            to_attr="exported_arrangements",
        ),
    )
    if not full:
        # Masked values only: nothing to decrypt.
        members = members.defer("id_number", "phone")
    return members


def write_roster(members: Iterable[Member], out, *, full: bool) -> int:
    """Write `members` as a roster to the binary file `out`; return the number of rows.

    Streams (openpyxl write-only mode), so memory stays flat however many members there
    are; pass a queryset from `roster_queryset` to read it in chunks. Without `full`, ID
    numbers and phones are masked.
    """
    if hasattr(members, "iterator"):
        members = members.iterator(chunk_size=CHUNK)
    labels = _choice_labels()
    book = xlsx.Book(streaming=True)
    sheet = book.sheet("统战对象", widths=_widths(), freeze="A2", title_rows=(1, 1))
    sheet.append([xlsx.text(column.title, HEADER) for column in COLUMNS])
    text_columns = [column.key in TEXT_COLUMNS for column in COLUMNS]
    rows = 0
    for member in members:
        values = _values(member, full=full, labels=labels)
        sheet.append([
            xlsx.text(values[column.key], TEXT_CELL) if as_text else values[column.key]
            for column, as_text in zip(COLUMNS, text_columns, strict=True)
        ])  # fmt: skip
        rows += 1
    book.save(out)
    return rows


def roster_bytes(members, *, full: bool) -> bytes:
    out = io.BytesIO()
    write_roster(members, out, full=full)
    return out.getvalue()


# -- The import template ----------------------------------------------------------------------

LISTS_SHEET = "选项"
INSTRUCTIONS_SHEET = "填写说明"

INSTRUCTIONS = [
    "统战对象花名册填写说明",
    "",
    "1. 第一行是表头，请勿修改、删除或调换各列标题；不需要的列可以留空。",
    "2. 必填列（表头红字）："
    + "、".join(c.title for c in COLUMNS if c.required)
    + "；统战对象类别至少填写一项。",
    "3. 证件号码、联系电话两列已设为文本：粘贴时请选“只粘贴数值”，或在号码前加英文单引号（'），"
    "按数字录入的证件号码会丢失末尾数字。手机号11位，固定电话可带区号（如 0351-1234567）。",
    "4. 证件类型不填即为居民身份证；其他可选：港澳/台湾居民居住证（18位）、港澳居民来往内地通行证"
    "（H或M加8位数字）、台湾居民来往大陆通行证（8位数字）、护照（5至20位字母数字，须填“国家或地区”）、"
    "外国人永久居留身份证（9开头18位，或3个字母加12位数字）。",
    "5. 性别、出生日期：18位号码的证件可不填（由号码得出，填写须一致）；"
    "其他证件必填，出生日期写完整年月日。",
    "6. 出生日期可写作 1980-01-01、1980/1/1、1980.1.1、19800101、1980年1月1日，或 Excel 日期格式；"
    "只有年月时写作 1980.05 或 1980年5月。",
    "7. 统战对象类别请写全称（下拉列表可选一项）；一人属于多个类别时，用顿号“、”"
    "或分号“；”分隔，例如：党外知识分子、少数民族人士。",
    "8. 所属社区填写社区名称或12位区划代码；所属网格填写该社区下的网格名称，可不填。",
    "9. 民族、政治面貌、学历、代表人士请从下拉列表中选择，政治面貌写全称（如“中国民主同盟盟员”）；"
    "代表人士填“是”或“否”，不填视为“否”；填“是”的非代表人士导入后为提名人选，经入选评价和区委统战部决定方为代表人士。",
    "10. 社会职务/政治安排：多项用顿号“、”分隔，写明层级，"
    "如“区政协委员、市工商联执委、区知联会理事”或“市、区两级人大代表”；已卸任的写“原区人大代表”。"
    "能识别的人大、政协、工商联、统战社团职务和特约人员登记为政治安排，其余保留为“其他社会职务”。",
    "11. 告知：新登记的人员须填写告知方式（告知书当面送达、走访时口头告知、短信或微信告知）"
    "和告知日期，尚未告知的填写未告知原因（如“本人外出务工，待返乡后告知”）。已告知的人员不再填写未告知原因。",
    "",
    "统战对象类别（全称）：",
    *(f"　{code} {name}" for code, _slug, name, _short in reference.CATEGORIES),
]


TEMPLATE_HEADER = xlsx.Style(bold=True, fill="DDEBF7", horizontal="center", vertical="center")
REQUIRED_HEADER = dataclasses.replace(TEMPLATE_HEADER, color="C00000")
INSTRUCTION = xlsx.Style(wrap=True, vertical="top")
INSTRUCTIONS_TITLE = dataclasses.replace(INSTRUCTION, bold=True, size=14)


def write_template() -> bytes:
    """The blank roster to fill in: standard headers, text columns and drop-down lists."""
    with translation.override("zh-hans"):
        education = [str(label) for _value, label in Member.Education.choices]
        document_types = [str(label) for _value, label in Member.DocumentType.choices]
        countries = [str(label) for _value, label in Member.Country.choices]
        informed_how = [str(label) for _value, label in Member.InformedHow.choices]
    lists = [
        [c.name for c in Category.objects.order_by("code")]
        or [name for _code, _slug, name, _short in reference.CATEGORIES],
        [e.name for e in Ethnicity.objects.order_by("code")]
        or [name for _code, name in reference.ETHNICITIES],
        [p.name for p in PoliticalStatus.objects.order_by("code")]
        or [name for _code, name, _short, _party in reference.POLITICAL_STATUSES],
        education,
        document_types,
        countries,
    ]

    book = xlsx.Book()
    sheet = book.sheet("统战对象", widths=_widths(), freeze="A2", title_rows=(1, 1))
    sheet.append([
        xlsx.text(column.title, REQUIRED_HEADER if column.required else TEMPLATE_HEADER)
        for column in COLUMNS
    ])  # fmt: skip
    columns = {column.key: index for index, column in enumerate(COLUMNS, 1)}
    last = TEMPLATE_ROWS + 1
    for key in TEXT_COLUMNS:
        sheet.text_column(columns[key], 2, last)

    options = book.sheet(LISTS_SHEET, hidden=True)
    for list_column, values in enumerate(lists, 1):
        for row, value in enumerate(values, 1):
            options.write(row, list_column, value)
    categories, ethnicities, statuses, educations, document_types, countries = (
        options.list_range(list_column, len(values)) for list_column, values in enumerate(lists, 1)
    )

    def validate(key, choices, *, warn=False, error=""):
        sheet.choose_from(
            columns[key], 2, last, choices, error=error, error_title="输入有误", warn=warn
        )

    # An Excel list offers one value; several categories are typed, so any value is allowed.
    validate("categories", categories)
    validate("ethnicity", ethnicities, error="请从列表中选择民族的全称，如“汉族”。")
    validate("sex", ["男", "女"], error="请填写“男”或“女”。")
    validate(
        "political_status",
        statuses,
        warn=True,
        error="政治面貌宜写全称，如“中国民主同盟盟员”。",
    )
    validate("education", educations, warn=True, error="请从列表中选择学历。")
    validate("is_representative", ["是", "否"], error="请填写“是”或“否”。")
    validate("document_type", document_types, error="请从列表中选择证件类型，不填即为居民身份证。")
    validate("document_country", countries, error="请从列表中选择护照的签发国家或地区。")
    validate(
        "informed_how",
        informed_how,
        error="请从列表中选择告知方式；尚未告知的留空，并填写未告知原因。",
    )

    # The notes print as one page, as a sheet of instructions is handed out.
    notes = book.sheet(INSTRUCTIONS_SHEET, index=1, widths={1: 110}, pages_tall=1)
    for row, line in enumerate(INSTRUCTIONS, 1):
        notes.append([xlsx.text(line, INSTRUCTIONS_TITLE if row == 1 else INSTRUCTION)])
    return book.bytes()


# -- Refused rows -----------------------------------------------------------------------------

REASON_HEADER = "错误原因"
ROW_HEADER = "原行号"
REASON_TITLE = xlsx.Style(bold=True, color="B42318")
REASON = xlsx.Style(wrap=True, vertical="top")


def refused_rows_bytes(data: bytes, filename: str, refused) -> bytes:
    """The refused rows of an imported file, as they were, with why each was refused.

    Same header as the file (plus the row number in the file and the reason, both columns
    the import ignores), so the office fixes the rows and uploads this file again. Empty
    bytes when no row was refused.
    """
    if not refused:
        return b""
    from .roster_reader import find_header, read_table

    table = read_table(data, filename)
    header = find_header(table)
    reasons: dict[int, list[str]] = {}
    for error in refused:
        text = f"{error.column}：{error.message}" if error.column else error.message
        reasons.setdefault(error.row, []).append(text)
    header_cells = next(cells for number, cells in table if number == header.row)
    width = max(len(header_cells), max(header.columns) + 1)
    # The ID number and phone columns are text, empty cells too: a number typed there to fix
    # the row stays its 18 digits instead of Excel's 1.10105E+17.
    text_at = {index for index, column in header.columns.items() if column.key in TEXT_COLUMNS}

    def cell(index: int, value):
        if index not in text_at:
            return xlsx.typed(value)
        typed = xlsx.typed(value)
        if isinstance(typed, xlsx.Cell):  # a number or date as uploaded, shown as it was
            return dataclasses.replace(typed, style=TEXT_CELL)
        return xlsx.text(typed or "", TEXT_CELL)

    book = xlsx.Book(streaming=True)
    # The roster's widths for the columns the import recognised, whatever the office calls
    # them (身份证号 as well as 身份证号码), so a row shows whole ID numbers and dates.
    widths = dict.fromkeys(range(1, width + 1), 12)
    widths |= {index + 1: WIDTHS.get(column.key, 12) for index, column in header.columns.items()}
    widths |= {width + 1: 8, width + 2: 60}
    sheet = book.sheet("未导入的行", widths=widths, freeze="A2", title_rows=(1, 1))
    sheet.append([
        *(xlsx.typed(value) for value in _padded(header_cells, width)),
        xlsx.text(ROW_HEADER, HEADER),
        xlsx.text(REASON_HEADER, REASON_TITLE),
    ])  # fmt: skip
    for number, cells in table:
        if number not in reasons:
            continue
        sheet.append([
            *(cell(index, value) for index, value in enumerate(_padded(cells, width))),
            xlsx.number(number),
            xlsx.text("；".join(reasons[number]), REASON),
        ])  # fmt: skip
    return book.bytes()


def _padded(cells: list, width: int) -> list:
    return list(cells[:width]) + [""] * (width - len(cells))
