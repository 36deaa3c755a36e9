"""Rosters made to take memory when read (issue 12, hole 10), for the tests and
benchmarks/roster_memory.py. Each is within the upload limits; sizes scale with the arguments."""

import io
import struct
import zipfile
from pathlib import Path

from members.xls_size import BOUNDSHEET, LABELSST, _records, _workbook_stream

FILES = Path(__file__).resolve().parent / "files"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
# The header of the widest roster: the template's 19 columns, the 5 ignored ones and aliases
# of 6 of them, 30 in all.
WIDE_HEADER = [
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "政治面貌",
    "学历",
    "籍贯",
    "工作单位及职务",
    "职称",
    "社会职务/政治安排",
    "联系电话",
    "现居住地址",
    "所属社区",
    "所属网格",
    "统战对象类别",
    "代表人士",
    "专业特长",
    "备注",
    "序号",
    "编号",
    "年龄",
    "原行号",
    "错误原因",
    "手机",
    "电话",
    "身份证号",
    "名字",
    "住址",
    "特长",
]


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def inline(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx(rows, shared: list[str] = ()) -> bytes:
    """A workbook whose first sheet's rows are given as XML (an iterable of strings)."""
    strings = "".join(f"<si><t>{text}</t></si>" for text in shared)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://'
            f'schemas.openxmlformats.org/spreadsheetml/2006/main">{strings}</sst>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
                b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for row in rows:
                sheet.write(row.encode())
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def header_row(titles) -> str:
    cells = "".join(inline(f"{column_letters(i)}1", title) for i, title in enumerate(titles))
    return f'<row r="1">{cells}</row>'


def far_cells(rows: int) -> bytes:
    """Issue 12's file: a few filled cells per row, the last in column Z, so that reading
    holds 26 cells per row: 13 million for 500,000 rows, in a file of 3 MB."""
    titles = ["姓名", "民族", "公民身份号码", "政治面貌", "所属社区", "统战对象类别"]

    def body():
        yield header_row(titles)
        for row in range(2, rows + 2):
            yield f'<row r="{row}"><c r="A{row}"><v>1</v></c><c r="Z{row}"><v>1</v></c></row>'

    return xlsx(body())


def shared_text(cells: int) -> bytes:
    """One shared string of 10,000 characters shown in `cells` cells: 40 kB at 20,000."""
    titles = ["姓名", "民族", "公民身份号码", "政治面貌", "所属社区", "备注"]

    def body():
        yield header_row(titles)
        for index in range(cells):
            row = index + 2
            yield f'<row r="{row}"><c r="F{row}" t="s"><v>0</v></c></row>'

    return xlsx(body(), shared=["长" * 10_000])


def widest(rows: int) -> bytes:
    """The largest roster the limits let through: 30 columns, every cell filled with a value
    the reader accepts. Checked where no community is known, each row is refused once (the
    community), so the report holds as many refusals as the check allows."""

    def values(row: int) -> list[str]:
        phone = f"138{row:08d}"
        number = f"14010619800503{row % 10_000:04d}"
        return [
            *("王某某", "男", "汉族", "1980.05", number, "群众", "本科", "山西太原"),
            *(f"某某有限公司{row}经理", "工程师", "区政协委员", phone, f"迎泽大街{row}号"),
            *("桥东一社区", "", "党外知识分子", "否", "书法", f"备注{row}", str(row)),
            *(str(row), "45", str(row), "", phone, phone, number, "王某某", f"迎泽大街{row}号"),
            "书法",
        ]

    def body():
        yield header_row(WIDE_HEADER)
        for row in range(2, rows + 2):
            cells = "".join(
                inline(f"{column_letters(i)}{row}", value)
                for i, value in enumerate(values(row))
                if value
            )
            yield f'<row r="{row}">{cells}</row>'

    return xlsx(body())


def commas(rows: int) -> bytes:
    """A CSV of nothing but commas: 40 empty cells a row."""
    return ("姓名,民族,公民身份号码,政治面貌\n" + ("," * 40 + "\n") * rows).encode()


def xls_far_cell() -> bytes:
    """The suite's .xls with one cell moved to IV65536, the last an .xls has: 16.8 million
    cells to hold from A1, in a file of a few kB."""
    data = bytearray((FILES / "roster.xls").read_bytes())
    stream = _workbook_stream(bytes(data))
    # xlwt writes the stream in consecutive sectors: found once, its offsets are the file's.
    base = bytes(data).find(stream[:512])
    sheet = None
    for kind, start, _end in _records(stream):
        if kind == BOUNDSHEET and sheet is None:
            sheet = struct.unpack_from("<I", stream, start)[0]
    for kind, start, _end in _records(stream, sheet):
        if kind == LABELSST:
            struct.pack_into("<HH", data, base + start, 65535, 255)
            break
    return bytes(data)
