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
- Every text cell is a string cell, never a formula (see `_text_cell`).
"""

import io
import re
from collections.abc import Iterable

from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from . import reference
from .models import Category, Ethnicity, Member, PoliticalStatus
from .roster import COLUMNS

CATEGORY_SEPARATOR = "、"
TEXT_FORMAT = "@"
# Columns kept as text so Excel neither rounds 18 digits nor drops a leading 0.
TEXT_COLUMNS = ("id_number", "phone")
TEMPLATE_ROWS = 1000
CHUNK = 2000

# What spreadsheet programs read as the start of a formula (=, +, -, @) or, in CSV-style
# injection, smuggle one in (tab, carriage return). OWASP "CSV Injection".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# _xHHHH_ already in a value would be read as an escape by Excel: escape its underscore.
_LITERAL_ESCAPE_RE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CONTROL_RE = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|\r")

WIDTHS = {
    "name": 10,
    "sex": 6,
    "ethnicity": 10,
    "birth_date": 12,
    "id_number": 21,
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
}


def _xml_text(value: str) -> str:
    """Control characters as OOXML escapes (_x000D_), as Excel writes them.

    XML cannot hold most control characters, and parsers turn a bare CR into LF; Excel,
    LibreOffice and calamine read the escapes back as the characters (openpyxl does not).
    """
    value = _LITERAL_ESCAPE_RE.sub(r"_x005F_\1", value)
    return _CONTROL_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)


def _text_cell(sheet, value: str, *, number_format: str | None = None):
    """A cell that holds `value` as a string, never as a formula.

    openpyxl makes a formula of any string that starts with "="; the data type is set back
    to string, which is written as an inline string that no program evaluates. The quote
    prefix style keeps it text when someone edits the cell in Excel.
    """
    cell = WriteOnlyCell(sheet, _xml_text(value))
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    if number_format:
        cell.number_format = number_format
    return cell


def _needs_cell(value: str) -> bool:
    return (
        value.startswith(FORMULA_STARTS)
        or value in ERROR_CODES
        or _CONTROL_RE.search(value) is not None
        or "_x" in value
    )


def _values(member: Member, *, full: bool, labels: dict) -> dict[str, str]:
    birth = member.birth_date
    return {
        "name": member.name,
        "sex": labels["sex"].get(member.sex, ""),
        "ethnicity": member.ethnicity.name,
        "birth_date": birth.isoformat() if birth else "",
        "id_number": member.id_number if full else member.id_number_masked,
        "political_status": member.political_status.name,
        "education": labels["education"].get(member.education, ""),
        "native_place": member.native_place,
        "workplace": member.workplace,
        "professional_title": member.professional_title,
        "social_positions": member.social_positions,
        "phone": (member.phone if full else member.phone_masked) or "",
        "address": member.address,
        "community": member.community.name,
        "grid": member.grid.name if member.grid_id else "",
        "categories": CATEGORY_SEPARATOR.join(c.name for c in member.categories.all()),
        "is_representative": "是" if member.is_representative else "否",
        "specialty": member.specialty,
        "notes": member.notes,
    }


def _choice_labels() -> dict:
    with translation.override("zh-hans"):
        return {
            "sex": {value: str(label) for value, label in Member.Sex.choices},
            "education": {value: str(label) for value, label in Member.Education.choices},
        }


def roster_queryset(members, *, full: bool):
    """`members` with what a roster row reads, in a fixed number of queries per chunk."""
    members = members.select_related("community", "grid", "ethnicity", "political_status")
    members = members.prefetch_related("categories")
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
    book = Workbook(write_only=True)
    sheet = book.create_sheet("统战对象")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column.key, 12)
    bold = Font(bold=True)
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, column.title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    rows = 0
    for member in members:
        values = _values(member, full=full, labels=labels)
        row = []
        for column in COLUMNS:
            value = values[column.key]
            if column.key in TEXT_COLUMNS:
                row.append(_text_cell(sheet, value, number_format=TEXT_FORMAT))
            elif value and _needs_cell(value):
                row.append(_text_cell(sheet, value))
            else:
                row.append(value or None)
        sheet.append(row)
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
    "3. 公民身份号码须为18位，以文本格式填写：本模板已将该列设为文本，"
    "从其他表格粘贴时请选择“只粘贴数值”，或在号码前加英文单引号（'）。"
    "按数字录入的号码会被 Excel 改为科学计数法并丢失末尾数字，无法导入。",
    "4. 联系电话同样以文本填写，手机号11位，固定电话可带区号（如 0351-1234567）。",
    "5. 性别、出生日期可以不填，导入时由公民身份号码得出；填写时须与号码一致。",
    "6. 出生日期可写作 1980-01-01、1980/1/1、1980.1.1、19800101、1980年1月1日，或 Excel 日期格式；"
    "只有年月时写作 1980.05 或 1980年5月。",
    "7. 统战对象类别请写全称（下拉列表可选一项）；一人属于多个类别时，用顿号“、”"
    "或分号“；”分隔，例如：党外知识分子、少数民族人士。",
    "8. 所属社区填写社区名称或12位区划代码；所属网格填写该社区下的网格名称，可不填。",
    "9. 民族、政治面貌、学历、代表人士请从下拉列表中选择，政治面貌写全称（如“中国民主同盟盟员”）。",
    "10. 代表人士填“是”或“否”，不填视为“否”。",
    "",
    "统战对象类别（全称）：",
    *(f"　{code} {name}" for code, _slug, name, _short in reference.CATEGORIES),
]


def _list_range(sheet_title: str, column: str, count: int) -> str:
    return f"{quote_sheetname(sheet_title)}!${column}$1:${column}${count}"


def write_template() -> bytes:
    """The blank roster to fill in: standard headers, text columns and drop-down lists."""
    with translation.override("zh-hans"):
        education = [str(label) for _value, label in Member.Education.choices]
    lists = {
        "A": [c.name for c in Category.objects.order_by("code")]
        or [name for _code, _slug, name, _short in reference.CATEGORIES],
        "B": [e.name for e in Ethnicity.objects.order_by("code")]
        or [name for _code, name in reference.ETHNICITIES],
        "C": [p.name for p in PoliticalStatus.objects.order_by("code")]
        or [name for _code, name, _short, _party in reference.POLITICAL_STATUSES],
        "D": education,
    }

    book = Workbook()
    sheet = book.active
    sheet.title = "统战对象"
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    letters = {}
    for index, column in enumerate(COLUMNS, 1):
        letter = get_column_letter(index)
        letters[column.key] = letter
        cell = sheet.cell(row=1, column=index, value=column.title)
        cell.font = Font(bold=True, color="C00000" if column.required else None)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.column_dimensions[letter].width = WIDTHS.get(column.key, 12)
    sheet.freeze_panes = "A2"
    last = TEMPLATE_ROWS + 1
    for key in TEXT_COLUMNS:
        letter = letters[key]
        # The column style covers rows typed beyond the formatted ones in Excel.
        sheet.column_dimensions[letter].number_format = TEXT_FORMAT
        for row in range(2, last + 1):
            sheet[f"{letter}{row}"].number_format = TEXT_FORMAT

    options = book.create_sheet(LISTS_SHEET)
    for letter, values in lists.items():
        for row, value in enumerate(values, 1):
            options[f"{letter}{row}"] = value
    options.sheet_state = "hidden"

    def validate(key, formula, *, strict=True, warn=False, error=""):
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.showErrorMessage = strict
        if strict:
            validation.errorStyle = "warning" if warn else "stop"
            validation.errorTitle = "输入有误"
            validation.error = error
        validation.add(f"{letters[key]}2:{letters[key]}{last}")
        sheet.add_data_validation(validation)

    # An Excel list offers one value; several categories are typed, so any value is allowed.
    validate("categories", _list_range(LISTS_SHEET, "A", len(lists["A"])), strict=False)
    validate(
        "ethnicity",
        _list_range(LISTS_SHEET, "B", len(lists["B"])),
        error="请从列表中选择民族的全称，如“汉族”。",
    )
    validate("sex", '"男,女"', error="请填写“男”或“女”。")
    validate(
        "political_status",
        _list_range(LISTS_SHEET, "C", len(lists["C"])),
        warn=True,
        error="政治面貌宜写全称，如“中国民主同盟盟员”。",
    )
    validate(
        "education",
        _list_range(LISTS_SHEET, "D", len(lists["D"])),
        warn=True,
        error="请从列表中选择学历。",
    )
    validate("is_representative", '"是,否"', error="请填写“是”或“否”。")

    notes = book.create_sheet(INSTRUCTIONS_SHEET, 1)
    notes.column_dimensions["A"].width = 110
    for row, text in enumerate(INSTRUCTIONS, 1):
        cell = notes.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    notes["A1"].font = Font(bold=True, size=14)

    book.active = 0
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- Refused rows -----------------------------------------------------------------------------

REASON_HEADER = "错误原因"
ROW_HEADER = "原行号"


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
    book = Workbook(write_only=True)
    sheet = book.create_sheet("未导入的行")
    sheet.freeze_panes = "A2"
    sheet.column_dimensions[get_column_letter(width + 2)].width = 60
    bold = Font(bold=True)
    red = Font(bold=True, color="B42318")
    titles = [_cell_value(sheet, value) for value in _padded(header_cells, width)]
    for cell_font, title in ((bold, ROW_HEADER), (red, REASON_HEADER)):
        cell = WriteOnlyCell(sheet, title)
        cell.font = cell_font
        titles.append(cell)
    sheet.append(titles)
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, cells in table:
        if number not in reasons:
            continue
        reason = WriteOnlyCell(sheet, _xml_text("；".join(reasons[number])))
        reason.data_type = "s"
        reason.alignment = wrap
        sheet.append(
            [*(_cell_value(sheet, value) for value in _padded(cells, width)), number, reason]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _padded(cells: list, width: int) -> list:
    return list(cells[:width]) + [""] * (width - len(cells))


def _cell_value(sheet, value):
    """A cell of the uploaded file written back: text never as a formula, numbers as numbers."""
    if isinstance(value, str):
        if not value:
            return None
        return _text_cell(sheet, value) if _needs_cell(value) else value
    return value
