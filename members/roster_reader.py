"""Reading a roster (花名册) file: its table, its header row and its rows as normalised values.

Pure parsing, no database: names of communities and grids stay text, the ID number is only
normalised, and each row comes back with the problems found in it. Checking the values against
the registry (areas, duplicates, the ID number's check character) is the importer's job.
"""

import csv
import datetime
import functools
import hashlib
import io
import itertools
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from tongzhan import documents

from .reference import CATEGORIES, ETHNICITIES, POLITICAL_STATUSES
from .roster import COLUMNS, COLUMNS_BY_KEY, IGNORED_HEADERS, READ_COLUMNS, Column
from .validators import normalize_phone

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MB
DEFAULT_MAX_UNCOMPRESSED = 200 * MB
# Cells of the first sheet, empty ones included, counted as the reader holds them: from A1 to
# the last row and column that hold anything. 100,000 people in 30 columns pass; a file of a
# few MB whose one far-away cell makes 13 million empty ones does not (read, it took 1 GB).
DEFAULT_MAX_CELLS = 3_200_000
# Text of the sheet's cells once read: a shared string counts at every cell that shows it, as
# the reader copies it into each (one 10,000-character string in 20,000 cells of a 40 kB
# file took 600 MB).
DEFAULT_MAX_TEXT = 100 * MB
MAX_ZIP_ENTRIES = 10_000
# A zip entry this large that inflates more than MAX_RATIO times is a zip bomb: real sheet XML
# compresses about 10-30 times.
LARGE_ENTRY = 10 * MB
MAX_RATIO = 200
HEADER_SCAN_ROWS = 20

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Office keeps a password-protected .xlsx as an OLE file with these two streams (MS-OFFCRYPTO).
ENCRYPTION_STREAMS = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
CSV_EXTENSIONS = (".csv", ".txt")
CSV_DELIMITERS = (",", ";", "\t")

# Excel's day 0; serials after 60 are right from this origin (Excel counts a 29 Feb 1900).
EXCEL_EPOCH = datetime.date(1899, 12, 30)
EARLIEST_BIRTH = datetime.date(1900, 1, 1)


class RosterFileError(Exception):
    """The file cannot be read as a roster; the message says why, for the person uploading it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Table:
    """The rows of a roster's first sheet: (row number as Excel shows it, cell values).

    Iterated as often as needed, one row at a time: the rows never exist all at once as
    Python objects. `len()` is the number of rows, empty ones included.
    """

    def __init__(self, rows: Callable[[], Iterable[list]], height: int):
        self._rows = rows
        self.height = height

    def __iter__(self) -> Iterator[tuple[int, list]]:
        return enumerate(self._rows(), start=1)

    def __len__(self) -> int:
        return self.height


@dataclass
class Header:
    row: int  # the row number as Excel shows it
    columns: dict[int, Column]  # cell index → the roster column it holds
    titles: dict[int, str]  # cell index → the header as written, for messages
    unknown: list[str] = field(default_factory=list)  # headers neither known nor ignored
    missing: list[Column] = field(default_factory=list)  # required columns not found
    # A field found under two or more headers (联系电话 and 手机): the first one's index → the
    # others'. Every row takes the field from whichever is filled; filled differently, the row
    # is refused naming both, so no column's data is dropped without a word.
    twins: dict[int, list[int]] = field(default_factory=dict)
    # Every header of the row as written, in order: what a saved column mapping is keyed by.
    written: list[str] = field(default_factory=list)
    # The unknown headers a column mapping told what to do with (normalised), to find the
    # mapping's entries that name no column of the file.
    mapped: set[str] = field(default_factory=set)


# Slots: a large file of wrong values yields a million of these, 100 bytes each fewer.
@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str  # the header as written in the file
    message: str


# -- Reading the file -----------------------------------------------------------------------


def _setting(name: str, default: int) -> int:
    return getattr(settings, name, default)


def read_table(
    data: bytes,
    filename: str,
    *,
    max_bytes: int | None = None,
    max_uncompressed: int | None = None,
    max_cells: int | None = None,
    max_text: int | None = None,
) -> Table:
    """The rows of the first sheet as (row number as Excel shows it, cell values).

    Cells keep their type: numbers are floats (calamine reads every number as one, so an ID
    typed as a number stays visibly numeric), dates are `date`/`datetime`, text is `str`, empty
    cells are "". CSV cells are all text. Raise RosterFileError for anything not a readable,
    reasonable spreadsheet, and for one whose cells (ROSTER_MAX_CELLS) or text
    (ROSTER_MAX_TEXT) would take more memory to read than a roster needs, before reading it.
    """
    if max_uncompressed is None:
        max_uncompressed = _setting("ROSTER_MAX_UNCOMPRESSED", DEFAULT_MAX_UNCOMPRESSED)
    limits = _Limits(
        cells=max_cells
        if max_cells is not None
        else _setting("ROSTER_MAX_CELLS", DEFAULT_MAX_CELLS),
        text=max_text if max_text is not None else _setting("ROSTER_MAX_TEXT", DEFAULT_MAX_TEXT),
    )
    check_size(len(data), max_bytes)
    extension = PurePath(filename or "").suffix.lower()
    if data.startswith(ZIP_MAGICS):
        _check_zip(data, max_uncompressed)
        _check_xlsx_size(data, limits)
        rows = _read_workbook(data)
    elif data.startswith(OLE_MAGIC):
        if any(stream in data for stream in ENCRYPTION_STREAMS):
            raise _encrypted_error()
        _check_xls_size(data, limits)
        rows = _read_workbook(data, ole_extension=extension)
    elif extension in CSV_EXTENSIONS:
        rows = _read_csv(data, limits)
    else:
        raise _not_a_spreadsheet_error()
    if not any(_has_value(cells) for _number, cells in rows):
        # 表格里没有内容：请检查是否选错了文件，或数据不在第一个工作表。
        raise RosterFileError(
            _(
                "The table has no content: check that this is the right file and that the "
                "roster is on the first sheet."
            )
        )
    return rows


def check_size(size: int, max_bytes: int | None = None) -> None:
    """Refuse an empty file and one above `max_bytes` (ROSTER_MAX_BYTES), before reading it."""
    if max_bytes is None:
        max_bytes = _setting("ROSTER_MAX_BYTES", DEFAULT_MAX_BYTES)
    if not size:
        # 文件是空的：请选择填好的花名册。
        raise RosterFileError(_("The file is empty: choose a filled-in roster."))
    if size > max_bytes:
        raise RosterFileError(
            # 文件太大（%(size)s MB），上限为 %(limit)s MB：请分成几个文件分别导入。
            _(
                "The file is too large (%(size)s MB; the limit is %(limit)s MB): split the "
                "roster into several files and import them one by one."
            )
            % {"size": _megabytes(size), "limit": _megabytes(max_bytes)}
        )


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


def _not_a_spreadsheet_error() -> RosterFileError:
    # 这不是电子表格文件：请上传 Excel 文件（.xlsx 或 .xls）或 CSV 文件。
    return RosterFileError(
        _("This is not a spreadsheet: upload an Excel file (.xlsx or .xls) or a CSV file.")
    )


def _encrypted_error() -> RosterFileError:
    # 工作簿设置了密码：请在 Excel 中取消密码（文件→信息→保护工作簿）后另存，再上传。
    return RosterFileError(
        _(
            "The workbook is protected with a password: remove the password in Excel "
            "(File → Info → Protect Workbook), save it and upload it again."
        )
    )


def _corrupt_error() -> RosterFileError:
    # 文件已损坏，无法读取：请在 Excel 中打开，另存为 .xlsx 后再上传。
    return RosterFileError(
        _("The file is damaged and cannot be read: open it in Excel, save it as .xlsx and retry.")
    )


def _zip_bomb_error() -> RosterFileError:
    # 文件解压后过大或结构异常，不像正常的花名册：请在 Excel 中另存为 .xlsx 后再上传。
    return RosterFileError(
        _(
            "The file unpacks to an abnormal size or structure and does not look like a "
            "roster: save it again as .xlsx in Excel and retry."
        )
    )


def _check_zip(data: bytes, max_uncompressed: int) -> None:
    """Refuse a zip bomb before the workbook reader inflates anything.

    The sizes in the central directory are what the archive declares; the reader below is
    only handed an archive whose declarations are sane, and Python's zipfile, which stops at
    the declared size and checks the CRC, is what verifies them.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _corrupt_error() from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise _zip_bomb_error()
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > max_uncompressed:
            raise _zip_bomb_error()
        if entry.file_size > LARGE_ENTRY and entry.file_size > MAX_RATIO * max(
            entry.compress_size, 1
        ):
            raise _zip_bomb_error()


# -- What reading would cost ----------------------------------------------------------------
#
# calamine reads a whole sheet at once, into one slot per cell from A1 to the last used row
# and column (about 32 bytes each, empty or not) plus a copy of its text per cell (a shared
# string is copied into every cell that shows it). The figures are worked out from the file
# first, cheaply, so a file within the size limits cannot make the server read gigabytes.


@dataclass(frozen=True)
class _Limits:
    cells: int
    text: int


def _too_many_cells_error(cells: int, limit: int) -> RosterFileError:
    return RosterFileError(
        # 表格太大：第一个工作表从A1到最后一个有内容的单元格共 %(cells)s 个单元格（含空白），
        # 上限为 %(limit)s 个：请删除表格下方和右侧多余的行和列（包括远处只有格式或空格的单元格），
        # 或分成几个文件分别导入。
        _(
            "The sheet is too large: from A1 to the last cell with content it spans "
            "%(cells)s cells (empty ones included), and the limit is %(limit)s. Delete the "
            "unused rows and columns below and to the right of the table (including far-away "
            "cells holding only a space or formatting), or split the roster into several "
            "files."
        )
        % {"cells": f"{cells:,}", "limit": f"{limit:,}"}
    )


def _too_much_text_error(size: int, limit: int) -> RosterFileError:
    return RosterFileError(
        # 表格中的文字太多（读出后约 %(size)s MB，上限为 %(limit)s MB）：请检查是否有很长的内容被
        # 复制到了大量单元格中，或分成几个文件分别导入。
        _(
            "The sheet holds too much text (about %(size)s MB once read; the limit is "
            "%(limit)s MB): check whether a long text was copied into many cells, or split "
            "the roster into several files."
        )
        % {"size": _megabytes(size), "limit": _megabytes(limit)}
    )


def _check_counts(cells: int, count: int, text: int, limits: _Limits) -> None:
    """`cells` the slots from A1 to the last used cell, `count` the cells the file writes."""
    if max(cells, count) > limits.cells:
        raise _too_many_cells_error(max(cells, count), limits.cells)
    if text > limits.text:
        raise _too_much_text_error(text, limits.text)


_SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SCAN_BLOCK = 4 * MB
_ROOT_PREFIX = re.compile(rb"<(\w+:)?worksheet\b")


def _check_xlsx_size(data: bytes, limits: _Limits) -> None:
    """Refuse a workbook whose first sheet would take too much memory to read."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheet, shared = _xlsx_parts(archive)
            sizes = _shared_string_sizes(archive, shared, limits) if shared else []
            cells, count, text = _xlsx_sheet_size(archive, sheet, sizes)
    except (zipfile.BadZipFile, etree.LxmlError, KeyError, IndexError, ValueError):
        raise _corrupt_error() from None
    _check_counts(cells, count, text, limits)


def _xlsx_parts(archive: zipfile.ZipFile) -> tuple[str, str | None]:
    """The first sheet's part and the shared strings' part, as the workbook names them."""
    names = set(archive.namelist())
    workbook = _parse_part(archive, "xl/workbook.xml")
    first = workbook.find(f"{{{_SPREADSHEET_NS}}}sheets/{{{_SPREADSHEET_NS}}}sheet")
    relation = first.get(f"{{{_RELATIONSHIPS_NS}}}id") if first is not None else None
    targets: dict[str, str] = {}
    shared = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else None
    if "xl/_rels/workbook.xml.rels" in names:
        relations = _parse_part(archive, "xl/_rels/workbook.xml.rels")
        for item in relations.iter(f"{{{_PACKAGE_RELATIONSHIPS_NS}}}Relationship"):
            target = item.get("Target", "")
            path = (
                target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
            )
            targets[item.get("Id", "")] = path
            if item.get("Type", "").endswith("/sharedStrings") and path in names:
                shared = path
    sheet = targets.get(relation or "")
    if sheet not in names:
        raise KeyError(sheet)
    return sheet, shared


def _parse_part(archive: zipfile.ZipFile, name: str):
    """A small XML part of the workbook, its entities left unexpanded."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(archive.read(name), parser)


def _shared_string_sizes(archive: zipfile.ZipFile, name: str, limits: _Limits) -> list[int]:
    """The UTF-8 size of each shared string, in order."""
    from lxml import etree

    sizes: list[int] = []
    text = f"{{{_SPREADSHEET_NS}}}t"
    with archive.open(name) as stream:
        items = etree.iterparse(
            stream, tag=f"{{{_SPREADSHEET_NS}}}si", resolve_entities=False, no_network=True
        )
        for _event, element in items:
            sizes.append(sum(len((part.text or "").encode()) for part in element.iter(text)))
            element.clear()
            if len(sizes) > limits.cells:
                # The reader keeps every shared string, used or not.
                raise _too_many_cells_error(len(sizes), limits.cells)
    return sizes


def _xlsx_sheet_size(
    archive: zipfile.ZipFile, name: str, shared_sizes: list[int]
) -> tuple[int, int, int]:
    """(cells from A1 to the last used cell, cells written, text in the cells) of a sheet.

    A pass over the sheet's XML with byte searches, in blocks: about a second for 100,000
    rows, against several for reading it.
    """
    count = 0
    last_row = 0
    columns: set[bytes] = set()
    text = 0
    with archive.open(name) as stream:
        head = stream.peek(4096)[:4096]
        match = _ROOT_PREFIX.search(head)
        if match is None or b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise ValueError(name)
        prefix = match.group(1) or b""
        starts = (b"<" + prefix + b"c ", b"<" + prefix + b"c>", b"<" + prefix + b"c/>")
        positioned = b"<" + prefix + b'c r="'
        letters = re.compile(re.escape(positioned) + rb"([A-Z]{1,3})")
        digits = re.compile(re.escape(positioned) + rb"[A-Z]{1,3}(\d{1,7})\"")
        shared = re.compile(
            re.escape(positioned)
            + rb'[^>]*?\st="s"[^>]*>\s*<'
            + re.escape(prefix)
            + rb"v>\s*(\d+)\s*<"
        )
        cut_at = starts[0]
        tail = b""
        while True:
            block = stream.read(_SCAN_BLOCK)
            chunk = tail + block
            if block:
                # Keep the last cell, which may go on in the next block, for the next round.
                cut = chunk.rfind(cut_at)
                if cut <= 0:
                    cut = chunk.rfind(b"<")
                chunk, tail = chunk[: max(cut, 0)], chunk[max(cut, 0) :]
            cells = sum(chunk.count(start) for start in starts)
            if chunk.count(positioned) != cells:
                # Cells without their position, or with attributes before it: not what Excel,
                # WPS or LibreOffice write, and the reader would place them where it can.
                raise ValueError(name)
            count += cells
            if cells:
                columns.update(letters.findall(chunk))
                last_row = max(last_row, max(map(int, set(digits.findall(chunk))), default=0))
                if shared_sizes:
                    for index, times in Counter(shared.findall(chunk)).items():
                        text += shared_sizes[int(index)] * times
            if not block:
                break
    last_column = max((_column_number(letters) for letters in columns), default=0)
    return last_row * last_column, count, text


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_xls_size(data: bytes, limits: _Limits) -> None:
    """Refuse an .xls whose first sheet would take too much memory to read."""
    from .xls_size import XlsSizeError, xls_sheet_size

    try:
        cells, count, text = xls_sheet_size(data)
    except XlsSizeError:
        # Not an .xls the check understands: calamine says what it is (damaged, encrypted).
        return
    _check_counts(cells, count, text, limits)


def _read_workbook(data: bytes, ole_extension: str | None = None) -> Table:
    # Imported here: only workbook uploads need the extension module.
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            sheet = workbook.get_sheet_by_index(0)
        finally:
            workbook.close()
    except PasswordError:
        raise _encrypted_error() from None
    except Exception:
        # An OLE file named .xlsx that is no .xls either is what Excel makes of an encrypted
        # .xlsx whose streams we did not recognise; anything else is damaged.
        if ole_extension is not None and ole_extension != ".xls":
            raise _encrypted_error() from None
        raise _corrupt_error() from None
    except BaseException as error:
        # A panic in the Rust reader surfaces as pyo3's PanicException, a BaseException.
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise _corrupt_error() from None
    if sheet.end is None:
        return Table(list, 0)
    # iter_rows() hands rows over one at a time (to_python() built all of them at once: 500 MB
    # for 13 million empty cells). Its rows start at row 1 but at the first used column, so
    # they are padded to start at column A as Excel numbers them.
    padding = [""] * sheet.start[1]

    def rows():
        if not padding:
            return sheet.iter_rows()
        return (padding + cells for cells in sheet.iter_rows())

    return Table(rows, sheet.end[0] + 1)


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" is UTF-16 with a byte order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _not_a_spreadsheet_error() from None
    if b"\x00" in data[:8192]:
        raise _not_a_spreadsheet_error()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel writes on a Chinese Windows; a superset of GBK and GB2312.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _not_a_spreadsheet_error() from None


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    counts = {delimiter: sample.count(delimiter) for delimiter in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _read_csv(data: bytes, limits: _Limits) -> Table:
    text = _decode_text(data)
    delimiter = _sniff_delimiter(text)

    def rows():
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    # A first pass counts, so that a file of nothing but commas is refused like the workbook
    # of empty cells: the rows are read again, one at a time, by whoever uses the table.
    height = cells = 0
    try:
        for row in rows():
            height += 1
            cells += len(row)
            if cells > limits.cells:
                raise _too_many_cells_error(cells, limits.cells)
    except csv.Error:
        raise _corrupt_error() from None
    return Table(rows, height)


def _has_value(cells: list) -> bool:
    return any(cell is not None and cell != "" for cell in cells)


# -- The header -----------------------------------------------------------------------------

_HEADER_DROP = re.compile(r"[\s*＊]+")
_HEADER_HINT = re.compile(r"[(（\[【].*?[)）\]】]$")


def normalize_header(text) -> str:
    """Header text as compared: NFKC, without spaces (also full-width), line breaks and '*'."""
    return _HEADER_DROP.sub("", unicodedata.normalize("NFKC", str(text or "")))


_HEADERS: dict[str, Column] = {
    normalize_header(header): column for column in READ_COLUMNS for header in column.headers
}
_IGNORED = frozenset(normalize_header(header) for header in IGNORED_HEADERS)


def _match_header(text: str) -> Column | None:
    column = _HEADERS.get(text)
    if column is None and text.endswith((")", "）", "]", "】")):
        # A hint after the name: 身份证号码(18位), 出生年月(如1980.01).
        column = _HEADERS.get(_HEADER_HINT.sub("", text))
    return column


def find_header(rows: Iterable[tuple[int, list]], mapping: dict | None = None) -> Header:
    """The header row among the first rows: the one naming the most known columns.

    `mapping` says what columns no rule knows hold: header as written → a column key, or ""
    for a column not to import (the browser's mapping step, the command's --map/--ignore).
    A header it names that is still in the file is unknown no longer; the others stay
    `unknown` and stop the import, so nothing is dropped without a word.
    """
    mapping = {normalize_header(text): key for text, key in (mapping or {}).items()}
    best: Header | None = None
    best_score = 0
    for number, cells in itertools.islice(rows, HEADER_SCAN_ROWS):
        columns: dict[int, Column] = {}
        titles: dict[int, str] = {}
        unknown: list[str] = []
        twins: dict[int, list[int]] = {}
        first_of: dict[Column, int] = {}
        written_all: list[str] = []
        mapped: set[str] = set()
        for index, cell in enumerate(cells):
            if not isinstance(cell, str):
                continue
            text = normalize_header(cell)
            if not text:
                continue
            column = _match_header(text)
            written = " ".join(cell.split())
            written_all.append(written)
            if column is None and text in mapping:
                mapped.add(text)
                column = COLUMNS_BY_KEY.get(mapping[text])
                if column is None:
                    continue  # not to import
            if column is None:
                if text not in _IGNORED and _HEADER_HINT.sub("", text) not in _IGNORED:
                    unknown.append(written)
            elif column in first_of:
                twins.setdefault(first_of[column], []).append(index)
                titles[index] = written
            else:
                columns[index] = column
                titles[index] = written
                first_of[column] = index
        if len(columns) > best_score:
            best_score = len(columns)
            best = Header(
                number, columns, titles, unknown, twins=twins, written=written_all, mapped=mapped
            )
    if best is None or best_score < 2:
        required = "、".join(column.title for column in COLUMNS if column.required)
        raise RosterFileError(
            # 未找到表头：前 %(rows)s 行中应有一行写明列名，至少包括：%(required)s。
            _(
                "No header row found: one of the first %(rows)s rows must name the columns, "
                "at least: %(required)s."
            )
            % {"rows": HEADER_SCAN_ROWS, "required": required}
        )
    found = set(best.columns.values())
    best.missing = [column for column in COLUMNS if column.required and column not in found]
    return best


def column_named(text: str) -> Column | None:
    """The roster column `text` names: its key (phone) or one of its headers (联系电话, 手机)."""
    column = COLUMNS_BY_KEY.get(str(text).strip())
    return column if column is not None else _match_header(normalize_header(text))


def mapping_key(headers: Iterable[str]) -> str:
    """What a saved column mapping is keyed by: the set of a header row's headers, so the
    same template is recognised whatever the order of its columns (a hash, of fixed length)."""
    joined = "\n".join(sorted({normalize_header(text) for text in headers}))
    return hashlib.sha256(joined.encode()).hexdigest()


# -- Values ---------------------------------------------------------------------------------

# Middle dots of names such as 阿依古丽·买买提, typed with whatever the keyboard had.
_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "･": "·", "．": "·", "∙": "·"})


class _Refused(Exception):
    """A value that cannot be used; the message says why."""


def _number_text(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return repr(value)


def _text(value) -> str:
    """A cell as text: NFKC (full-width digits and letters to ASCII), spaces collapsed."""
    if isinstance(value, str):
        if not value:
            return ""
        if not value.isascii():
            value = unicodedata.normalize("NFKC", value)
        # split() also takes the full-width space (NFKC made it a plain one anyway).
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if not value.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def _compact(value) -> str:
    """A cell as text without any white space, for codes and names looked up in a table."""
    text = _text(value)
    return text.replace(" ", "") if " " in text else text


def _name(value) -> str:
    text = _text(value).translate(_DOTS)
    # Offices pad two-character names (王  伟); a Latin name keeps its single spaces.
    if " " in text and not any("a" <= char.lower() <= "z" for char in text):
        text = text.replace(" ", "")
    return text


def _lookup(table: dict[str, str], value) -> tuple[str, str | None]:
    """The value as compact text, and what the table maps it to ("" for empty, None unknown)."""
    text = _compact(value)
    if not text:
        return text, ""
    found = table.get(text)
    if found is None:
        found = table.get(text.upper())
    return text, found


_SEXES = {"男": "M", "男性": "M", "M": "M", "MALE": "M", "女": "F", "女性": "F", "F": "F"}
_SEXES["FEMALE"] = "F"


def _sex(value) -> str:
    text, found = _lookup(_SEXES, value)
    if found is None:
        # “%(value)s”不是性别：请填写“男”或“女”。
        raise _Refused(_("“%(value)s” is not a sex: write 男 or 女.") % {"value": text})
    return found


_ETHNICITIES: dict[str, str] = {}
for _code, _group in ETHNICITIES:
    _ETHNICITIES[_group] = _code
    _ETHNICITIES[_group.removesuffix("族")] = _code


def _ethnicity(value) -> str:
    text, found = _lookup(_ETHNICITIES, value)
    if found is None:
        raise _Refused(
            # “%(value)s”不是56个民族之一：请填写民族的标准名称，如“汉族”“回族”。
            _(
                "“%(value)s” is not one of the 56 ethnic groups: write the standard name, "
                "such as 汉族 or 回族."
            )
            % {"value": text}
        )
    return found


_POLITICAL_STATUSES: dict[str, str] = {}
for _code, _full, _short, _party in POLITICAL_STATUSES:
    _POLITICAL_STATUSES[_full] = _POLITICAL_STATUSES[_short] = _code
# The short forms rosters write, after the standard's own short names.
for _code, _forms in {
    "01": ("党员", "共产党员", "中国共产党员", "中共正式党员"),
    "02": ("预备党员", "中共预备党员"),
    "03": ("团员", "共青团员"),
    "04": ("民革", "民革党员", "民革会员"),
    "05": ("民盟", "民盟盟员"),
    "06": ("民建", "民建会员"),
    "07": ("民进", "民进会员"),
    "08": ("农工党", "农工党党员", "农工民主党", "农工民主党党员"),
    "09": ("致公党", "致公党党员"),
    "10": ("九三学社", "九三", "九三学社社员"),
    "11": ("台盟", "台盟盟员"),
    "12": ("无党派", "无党派人士", "无党派民主人士"),
    "13": ("群众",),
}.items():
    for _form in _forms:
        _POLITICAL_STATUSES[_form] = _code


def _political_status(value) -> str:
    text, found = _lookup(_POLITICAL_STATUSES, value)
    if found is None:
        raise _Refused(
            # “%(value)s”不是政治面貌：请填写如“中共党员”“民盟盟员”“无党派人士”“群众”。
            _(
                "“%(value)s” is not a political status: write, for example, 中共党员, 民盟盟员, "
                "无党派人士 or 群众."
            )
            % {"value": text}
        )
    return found


_EDUCATION = {
    form: code
    for code, forms in {
        "11": ("博士", "博士研究生", "博士研究生毕业"),
        "14": ("硕士", "研究生", "硕士研究生", "硕士研究生毕业", "研究生毕业"),
        "21": ("本科", "大学本科", "大学", "大学本科毕业", "本科毕业"),
        "31": ("大专", "专科", "大学专科", "大学专科毕业", "大专毕业"),
        "41": ("中专", "中职", "中技", "职高", "技校", "中等专科", "中等职业教育"),
        "61": ("高中", "普通高中", "高中毕业"),
        "71": ("初中", "初中毕业"),
        "81": ("小学", "小学及以下", "小学毕业"),
    }.items()
    for form in forms
}


def _education(value) -> str:
    text, found = _lookup(_EDUCATION, value)
    if found is None:
        raise _Refused(
            # “%(value)s”不是学历：请填写博士、硕士、本科、大专、中专、高中、初中或小学。
            _(
                "“%(value)s” is not a level of education: write 博士, 硕士, 本科, 大专, 中专, "
                "高中, 初中 or 小学."
            )
            % {"value": text}
        )
    return found


_REPRESENTATIVE = {
    **dict.fromkeys(("是", "Y", "YES", "√", "✓", "✔", "1", "TRUE", "是的"), True),
    **dict.fromkeys(("否", "N", "NO", "0", "FALSE", "×", "✗", "不是", "无"), False),
}


def _is_representative(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _compact(value)
    if not text:
        return False
    found = _REPRESENTATIVE.get(text.upper())
    if found is None:
        # “%(value)s”无法识别：“代表人士”一列请填写“是”或“否”（空白视为否）。
        raise _Refused(
            _("“%(value)s” is not understood: write 是 or 否 in this column (empty means 否).")
            % {"value": text}
        )
    return found


_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$", re.IGNORECASE)


def _numeric_id_error(shown: str) -> _Refused:
    return _Refused(
        # 身份证号码被存成了数字（显示为 %(value)s），Excel 只保留15位有效数字，后几位已丢失：
        # 请把这一列设置为“文本”格式，再重新输入完整号码。
        _(
            "The ID number was stored as a number (%(value)s) and Excel keeps only 15 "
            "significant digits, so its last digits are lost: format the column as text and "
            "type the full number again."
        )
        % {"value": shown}
    )


def _id_number(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Even a number that looks right is refused: its last digits were rounded by Excel.
        raise _numeric_id_error(_number_text(value) if value < 1e21 else repr(value))
    text = documents.normalize(value).lstrip("'")
    if _SCIENTIFIC.match(text):
        raise _numeric_id_error(text)
    return text


D = documents.DocumentType
# The names offices write for each document, short forms included. The common name of both
# residence permits says nothing of which: the number's prefix tells (`RESIDENCE`).
RESIDENCE = "residence"
_DOCUMENT_TYPES = {
    **dict.fromkeys(("居民身份证", "身份证", "二代身份证", "中华人民共和国居民身份证"), D.ID_CARD),
    **dict.fromkeys(("港澳台居民居住证", "居住证"), RESIDENCE),
    **dict.fromkeys(("港澳居民居住证", "香港居民居住证", "澳门居民居住证"), D.HK_MACAO_RESIDENCE),
    "台湾居民居住证": D.TAIWAN_RESIDENCE,
    **dict.fromkeys(
        ("港澳居民来往内地通行证", "回乡证", "港澳居民往来内地通行证", "往来内地通行证"),
        D.HK_MACAO_PERMIT,
    ),
    **dict.fromkeys(
        ("台湾居民来往大陆通行证", "台胞证", "台湾居民往来大陆通行证"), D.TAIWAN_PERMIT
    ),
    **dict.fromkeys(("护照", "外国护照", "普通护照"), D.PASSPORT),
    **dict.fromkeys(
        ("外国人永久居留身份证", "外国人永久居留证", "永居证", "绿卡"), D.FOREIGN_PERMANENT
    ),
    **{code: code for code in D.values},
}


def _document_type(value) -> str:
    text, found = _lookup(_DOCUMENT_TYPES, value)
    if found is None:
        # “%(value)s”不是可用的证件类型：请填写居民身份证、港澳居民居住证、台湾居民居住证、
        # 港澳居民来往内地通行证、台湾居民来往大陆通行证、护照或外国人永久居留身份证。
        raise _Refused(
            _(
                "“%(value)s” is not a document type the registry takes: write 居民身份证, "
                "港澳居民居住证, 台湾居民居住证, 港澳居民来往内地通行证, 台湾居民来往大陆通行证, "
                "护照 or 外国人永久居留身份证."
            )
            % {"value": text}
        )
    return found


@functools.cache
def _countries() -> dict[str, str]:
    # Names in Chinese whatever the language of the process that reads the file.
    with translation.override("zh-hans"):
        table = {str(label): code for code, label in documents.Country.choices}
    return {**table, **{code: code for code in documents.Country.values}}


def _document_country(value) -> str:
    text, found = _lookup(_countries(), value)
    if found is None:
        # “%(value)s”不在国家或地区列表中：请从模板的下拉列表中选择，
        # 其他国家或地区填写“其他国家或地区”。
        raise _Refused(
            _(
                "“%(value)s” is not in the list of countries and regions: choose from the "
                "template's list, or write 其他国家或地区 for any other."
            )
            % {"value": text}
        )
    return found


def _phone(value) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        # Excel stores a mobile number typed in as a number; it has only 11 digits, so nothing
        # was lost.
        value = _number_text(value)
    try:
        return normalize_phone(_text(value))
    except ValidationError as error:
        raise _Refused(" ".join(error.messages)) from None


# -- Dates

_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*(?:[.\-/月]\s*(?:(\d{1,2})\s*日?)?|月)?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")


def _birth_date_error(text: str) -> _Refused:
    return _Refused(
        # “%(value)s”不是有效的出生日期：请写成 1980.05、1980年5月3日 或 1980-05-03 等形式。
        _(
            "“%(value)s” is not a valid date of birth: write it as 1980.05, 1980年5月3日 "
            "or 1980-05-03."
        )
        % {"value": text}
    )


def _make_date(text: str, year: int, month: int, day: int | None) -> tuple[datetime.date, str]:
    try:
        date = datetime.date(year, month, day or 1)
    except ValueError:
        raise _birth_date_error(text) from None
    if not EARLIEST_BIRTH <= date <= datetime.date.today():
        raise _birth_date_error(text)
    return date, ("day" if day else "month")


def _birth_date(value) -> tuple[datetime.date, str] | None:
    """(date, "day" or "month"); a month-only value gives the first of the month."""
    if isinstance(value, datetime.datetime):
        return _make_date(value.isoformat(), value.year, value.month, value.day)
    if isinstance(value, datetime.date):
        return _make_date(value.isoformat(), value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _birth_date_number(value)
    text = _text(value)
    if not text:
        return None
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if match is None:
        raise _birth_date_error(text)
    year, month, day = match.groups()
    return _make_date(text, int(year), int(month), int(day) if day else None)


def _birth_date_number(value: float) -> tuple[datetime.date, str]:
    text = _number_text(value)
    if value == int(value):
        number = int(value)
        if 19000101 <= number <= 21001231 or 190001 <= number <= 210012:
            # 19800503 or 198005 typed into a number cell.
            return _birth_date(text)
        if 1 <= number <= 100_000:
            # An Excel serial date in a cell not formatted as a date (dates before 1 March
            # 1900 are off by Excel's phantom 29 February; no one alive was born then).
            date = EXCEL_EPOCH + datetime.timedelta(days=number)
            return _make_date(text, date.year, date.month, date.day)
        raise _birth_date_error(text)
    if 1900 <= value < 2101:
        # 1980.05 typed into a number cell: the month is the decimals, but Excel dropped a
        # trailing zero, so 1980.1 may have been 1980.10.
        year, decimals = text.split(".")
        if decimals == "1":
            raise _Refused(
                # “%(value)s”可能是1月也可能是10月（Excel 去掉了末尾的0）：请把这一列设置为
                # “文本”格式，写成 %(year)s.01 或 %(year)s.10。
                _(
                    "“%(value)s” may mean January or October (Excel dropped a trailing zero): "
                    "format the column as text and write %(year)s.01 or %(year)s.10."
                )
                % {"value": text, "year": year}
            )
        if len(decimals) <= 2:
            return _make_date(text, int(year), int(decimals), None)
        raise _birth_date_error(text)
    if 1 <= value <= 100_000:
        # A date with a time of day.
        date = EXCEL_EPOCH + datetime.timedelta(days=int(value))
        return _make_date(text, date.year, date.month, date.day)
    raise _birth_date_error(text)


# -- Categories

_CATEGORY_SUFFIXES = ("人士", "人员", "成员")
_CATEGORIES: dict[str, str] = {}
for _code, _slug, _full, _short in CATEGORIES:
    _CATEGORIES[_full] = _CATEGORIES[_short] = _slug
for _slug, _forms in {
    "democratic_party": ("民主党派", "民主党派成员", "民主党派人士"),
    "non_party": ("无党派", "无党派人士"),
    "intellectual": ("党外知识分子",),
    "ethnic_minority": ("少数民族", "少数民族人士"),
    "religious": ("宗教界", "宗教界人士", "宗教人士"),
    "private_economy": ("非公经济人士", "非公有制经济人士", "非公", "非公经济", "非公有制经济"),
    "new_stratum": ("新阶层", "新阶层人士", "新的社会阶层", "新的社会阶层人士", "新社会阶层"),
    "overseas_study": ("留学人员", "出国和归国留学人员", "归国留学人员", "留学归国人员"),
    "hong_kong": ("港胞", "香港同胞"),
    "macao": ("澳胞", "澳门同胞"),
    "taiwan": ("台胞", "台属", "台胞台属", "台湾同胞", "台湾同胞及其在大陆的亲属"),
    "overseas_chinese": ("华侨", "归侨", "侨眷", "归侨侨眷", "归侨及侨眷", "华侨归侨及侨眷"),
    "other": ("其他", "其它", "其他需要联系和团结的人员"),
}.items():
    for _form in _forms:
        _CATEGORIES[_form] = _slug
for _form, _slug in list(_CATEGORIES.items()):
    for _suffix in _CATEGORY_SUFFIXES:
        if _form.endswith(_suffix) and len(_form) > len(_suffix) + 1:
            _CATEGORIES.setdefault(_form.removesuffix(_suffix), _slug)
_CATEGORY_SEPARATORS = re.compile(r"[、,;/\s]+")
# Names that contain a separator themselves (华侨、归侨及侨眷): matched whole before splitting.
_CATEGORY_WHOLE = sorted(
    (name for name in _CATEGORIES if _CATEGORY_SEPARATORS.search(name)), key=len, reverse=True
)
_CATEGORY_MARK = "\x00"


def _categories(value) -> list[str]:
    text = _text(value)
    if not text:
        return []
    for name in _CATEGORY_WHOLE:
        if name in text:
            text = text.replace(name, f",{_CATEGORY_MARK}{_CATEGORIES[name]},")
    slugs: list[str] = []
    unknown: list[str] = []
    for item in _CATEGORY_SEPARATORS.split(text):
        if not item:
            continue
        if item.startswith(_CATEGORY_MARK):
            slug = item[1:]
        else:
            slug = _CATEGORIES.get(item)
            if slug is None:
                for suffix in _CATEGORY_SUFFIXES:
                    if item.endswith(suffix):
                        slug = _CATEGORIES.get(item.removesuffix(suffix))
                        break
        if slug is None:
            unknown.append(item)
        elif slug not in slugs:
            slugs.append(slug)
    if unknown:
        raise _Refused(
            # “%(value)s”不是统战对象类别：请使用13类之一的名称或简称，如“民主党派成员”
            # “非公经济人士”“新阶层”，多个类别用顿号分隔。
            _(
                "“%(value)s” is not a member category: use the name or short name of one of "
                "the 13 categories, such as 民主党派成员, 非公经济人士 or 新阶层, and separate "
                "several with 、."
            )
            % {"value": "、".join(unknown)}
        )
    return slugs


def _community(value) -> str:
    return _compact(value)


# -- The notice (告知)

# What rosters write for each way of telling: the choice's own words and their short forms.
_INFORMED_HOW = {
    **dict.fromkeys(
        ("告知书当面送达", "当面送达告知书", "当面送达", "告知书", "送达告知书", "书面告知"),
        "letter",
    ),
    **dict.fromkeys(("走访时口头告知", "走访告知", "口头告知", "走访", "当面口头告知"), "visit"),
    **dict.fromkeys(
        ("短信或微信告知", "短信告知", "微信告知", "短信", "微信", "短信或微信", "短信微信告知"),
        "message",
    ),
}


def _informed_how(value) -> str:
    text = _compact(value)
    found = _INFORMED_HOW.get(text)
    if found is None:
        raise _Refused(
            # “%(value)s”不是告知方式：请填写“告知书当面送达”“走访时口头告知”或“短信或微信告知”。
            _(
                "“%(value)s” is not a way of telling: write 告知书当面送达, 走访时口头告知 "
                "or 短信或微信告知."
            )
            % {"value": text}
        )
    return found


def _informed_on_error(text: str) -> _Refused:
    return _Refused(
        # “%(value)s”不是有效的告知日期：请写成 2026-03-05 或 2026年3月5日 等形式。
        _("“%(value)s” is not a valid date told: write it as 2026-03-05 or 2026年3月5日.")
        % {"value": text}
    )


def _informed_on(value) -> datetime.date:
    """A whole date (year, month and day); whether it lies in the future or before her birth
    is the model's rule (`Member.clean`)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = _number_text(value)
        if value == int(value) and 19000101 <= int(value) <= 21001231:
            return _informed_on(text)
        if 1 <= value <= 100_000:
            return EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise _informed_on_error(text)
    text = _text(value)
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if match is None or match.group(3) is None:
        raise _informed_on_error(text)
    year, month, day = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise _informed_on_error(text) from None


_PARSERS = {
    "name": _name,
    "sex": _sex,
    "ethnicity": _ethnicity,
    "birth_date": _birth_date,
    "document_type": _document_type,
    "id_number": _id_number,
    "document_country": _document_country,
    "political_status": _political_status,
    "education": _education,
    "phone": _phone,
    "community": _community,
    "grid": _community,
    "street": _community,
    "categories": _categories,
    "is_representative": _is_representative,
    "informed_how": _informed_how,
    "informed_on": _informed_on,
}
# What a column with a refused value holds in the row, so the dict always has every key.
_EMPTY = {
    "birth_date": None,
    "categories": (),
    "is_representative": False,
    "informed_on": None,
}


def _empty(key: str):
    value = _EMPTY.get(key, "")
    return [] if value == () else value


# -- Rows -----------------------------------------------------------------------------------

# Lines offices write under the table: 注：…, 填表人：…, 制表日期：…, 合计：60人.
_NOTE_PREFIXES = (
    "注",
    "附注",
    "备注",
    "说明",
    "填表说明",
    "填表人",
    "填报人",
    "填表日期",
    "填报日期",
    "填报单位",
    "制表",
    "审核",
    "审核人",
    "负责人",
    "合计",
    "总计",
)


# Columns whose few distinct values recur down a roster (a district has a few dozen
# communities, 56 ethnic groups, some hundreds of birth months): each value is parsed once per
# file, refusals included. Names, numbers and addresses differ by row and are parsed as met.
_MEMOISED = frozenset(
    {
        "sex",
        "ethnicity",
        "birth_date",
        "document_type",
        "document_country",
        "political_status",
        "education",
        "community",
        "grid",
        "street",
        "categories",
        "is_representative",
        "informed_how",
        "informed_on",
    }
)
# Distinct values remembered per column: a column that varies more is parsed as met past it.
_MEMO_SIZE = 10_000
_MEMO_TYPES = (str, float, int, bool, datetime.date, datetime.datetime)


def _memoised(parser):
    """`parser` remembering its answer (or its refusal's message) for each value it is given."""
    memo: dict = {}

    def parse(value):
        if value.__class__ not in _MEMO_TYPES:
            return parser(value)
        # The type is part of the key: True == 1 == 1.0, but each reads differently.
        key = (value.__class__, value)
        found = memo.get(key)
        if found is None:
            try:
                found = (True, parser(value))
            except _Refused as refused:
                found = (False, str(refused))
            if len(memo) < _MEMO_SIZE:
                memo[key] = found
        parsed, result = found
        if not parsed:
            raise _Refused(result)
        # A list (the categories) is the row's own: whoever takes it may change it.
        return list(result) if result.__class__ is list else result

    return parse


def _plan(header: Header) -> list[tuple[int, str, object, list[int]]]:
    """(cell index, key, parser, indexes of the same field's other columns) per known
    column, worked out once per header (once per file read)."""
    plan = header.__dict__.get("_plan")
    if plan is None:
        plan = []
        for index, column in header.columns.items():
            parser = _PARSERS.get(column.key, _text)
            if column.key in _MEMOISED:
                parser = _memoised(parser)
            plan.append((index, column.key, parser, header.twins.get(index, [])))
        header.__dict__["_plan"] = plan
    return plan


def parse_row(number: int, cells: list, header: Header) -> tuple[dict, list[RowError]]:
    """The row's values, normalised, and what is wrong with them.

    Keys are the roster column keys the header found. A blank row (nothing in the known
    columns) gives ({}, []). Values: text fields a str ("" when empty); sex "M"/"F"/"";
    ethnicity, political_status and education their codes or ""; birth_date (date, "day" or
    "month") or None; categories a list of category slugs; is_representative a bool.
    """
    values: dict = {}
    errors: list[RowError] = []
    blank = True
    length = len(cells)
    for index, key, parser, twins in _plan(header):
        value = cells[index] if index < length else ""
        if twins:
            found = len(errors)
            index, value = _one_of_twins(number, cells, header, index, twins, parser, errors)
            blank = blank and len(errors) == found
        if value == "" or value is None or (value.__class__ is str and value.isspace()):
            values[key] = _empty(key)
            continue
        blank = False
        try:
            values[key] = parser(value)
        except _Refused as refused:
            values[key] = _empty(key)
            errors.append(RowError(number, header.titles[index], str(refused)))
    if blank:
        return {}, []
    return values, errors


def _one_of_twins(number, cells, header, index, twins, parser, errors) -> tuple[int, object]:
    """The cell a field is read from when several columns hold it: the filled one.

    Filled in several, they must say the same once read (138 1234 5678 is 13812345678);
    otherwise the row is refused naming both columns, and the field is left empty.
    """
    filled = []
    for candidate in (index, *twins):
        value = cells[candidate] if candidate < len(cells) else ""
        if not (value == "" or value is None or (isinstance(value, str) and value.isspace())):
            filled.append((candidate, value))
    if len(filled) < 2:
        return filled[0] if filled else (index, "")
    read = {}
    for candidate, value in filled:
        try:
            read[candidate] = parser(value)
        except _Refused:
            # Its own error is reported when it is parsed below, if it is the one kept.
            return candidate, value
    first, *others = read
    for other in others:
        if read[other] != read[first]:
            errors.append(
                RowError(
                    number,
                    header.titles[first],
                    # 「%(first)s」与「%(second)s」是同一项，本行内容不一致：请只保留正确的一个。
                    _(
                        "%(first)s and %(second)s are the same field and disagree in this "
                        "row: keep only the right one."
                    )
                    % {"first": header.titles[first], "second": header.titles[other]},
                )
            )
            return first, ""
    return first, filled[0][1]


def _note_like(cells: list, header: Header, in_notes: bool) -> tuple[bool, int]:
    """Whether every value in the known columns starts like a note, and how many there are.

    Outside the notes the count is only exact when it is 0: the first value that is no note
    settles the question.
    """
    filled = 0
    notes = 0
    length = len(cells)
    for index in itertools.chain(header.columns, *header.twins.values()):
        value = cells[index] if index < length else ""
        if value == "" or value is None:
            continue
        filled += 1
        if isinstance(value, str) and value.lstrip().startswith(_NOTE_PREFIXES):
            notes += 1
        elif not in_notes:
            return False, filled
    return filled > 0 and notes == filled, filled


def _repeats_header(cells: list, name_index: int) -> bool:
    value = cells[name_index] if name_index < len(cells) else ""
    if not isinstance(value, str) or len(value) > 10:
        return False
    column = _HEADERS.get(normalize_header(value))
    return column is not None and column.key == "name"


def iter_rows(rows: Iterable[tuple[int, list]], header: Header):
    """(row number, values, errors) for each data row below the header.

    Blank rows are skipped (a row with only a 序号 is blank). Notes below the data are not
    data: a row whose values all start like a note (注：…, 填表人：…), and after such a row
    any row with a single value (the numbered lines of a 说明). A row after the notes with
    more values is data again, so nothing real is dropped silently.
    """
    id_index = next((i for i, c in header.columns.items() if c.key == "id_number"), None)
    name_index = next((i for i, c in header.columns.items() if c.key == "name"), None)
    in_notes = False
    for number, cells in rows:
        if number <= header.row:
            continue
        noted, filled = _note_like(cells, header, in_notes)
        if filled == 0:
            continue
        if name_index is not None and _repeats_header(cells, name_index):
            # Printed rosters repeat the header on every page.
            continue
        has_id = id_index is not None and id_index < len(cells) and cells[id_index] != ""
        if not has_id and (noted or (in_notes and filled == 1)):
            in_notes = True
            continue
        in_notes = False
        values, errors = parse_row(number, cells, header)
        if values:
            yield number, values, errors
