"""The one writer of the .xlsx files the application hands out.

Member exports, the import template, refused rows, statistical reports, assessment results and
the audit log are all written through `Book`, so one rule keeps every one of them safe from
formula injection (OWASP "CSV Injection"; issue 12):

- A string is always a text cell (inline string, type "s"): never a formula, never an error
  value, never a number guessed from its digits. Numbers, dates and truth values are written
  as such only when the caller says so, through `number()` or `typed()`.
- A string that a spreadsheet program would take for the start of a formula when someone edits
  the cell (= + - @, their full-width forms ＝ ＋ － ＠ that Chinese Excel also accepts, tab and
  carriage return, after any leading spaces) gets the quote-prefix style. The cell shows the
  text exactly as written, in Excel and LibreOffice, on screen, in print and in LibreOffice's
  CSV export (checked with LibreOffice 7); Excel's formula bar shows the leading ' it adds, and
  an edit keeps the cell text. We do not put an apostrophe into the text itself, as OWASP
  suggests for CSV: in a cell it would show, and an exported roster would no longer re-import
  as it was written.
- Control characters XML cannot hold are written as Excel's _xHHHH_ escapes, which Excel,
  LibreOffice and calamine read back as the characters.

Layout (widths, merged cells, fonts, borders, lists) goes through `Sheet`'s methods and
`Style`, so no other module needs openpyxl to write.

Every sheet is ready to print as offices file their tables (issue 13): A4 landscape, all
columns on one page width (as many pages down as it takes), the header rows a sheet names
repeated at the top of every page, and "第 1 页，共 3 页" in the footer. A streaming sheet
takes the same layout: openpyxl writes page setup, footer and print titles after the rows,
and only the fit-to-page flag before them, which `Book.sheet` sets before the first row.
"""

import dataclasses
import datetime
import io
import math
import re
from decimal import Decimal
from unicodedata import east_asian_width

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins

TEXT_FORMAT = "@"

# What spreadsheet programs read as the start of a formula, full-width forms included, or in
# CSV-style injection smuggle one in (tab, carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r")
# Spaces a program skips before it sees the formula: ASCII and the ideographic space.
LEADING_SPACES = " \u3000"
# _xHHHH_ already in a value would be read as an escape by Excel: escape its underscore.
_LITERAL_ESCAPE_RE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CONTROL_RE = re.compile(ILLEGAL_CHARACTERS_RE.pattern + r"|\r")

# The page footer: &P is the page number, &N the number of pages (ECMA-376 18.3.1.39).
PAGE_FOOTER = "第 &P 页，共 &N 页"
A4 = 9  # ECMA-376's paperSize code (18.3.1.63)
DEFAULT_WIDTH = 8.43  # characters: a column's width when none is set
LINE_HEIGHT = 15.6  # points: one line of 11-point text, Chinese included

_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def looks_like_formula(value: str) -> bool:
    """Whether a program could take `value`, typed into a cell, for a formula."""
    return value.lstrip(LEADING_SPACES).startswith(FORMULA_STARTS)


def _xml_text(value: str) -> str:
    """Control characters as OOXML escapes (_x000D_), as Excel writes them.

    XML cannot hold most control characters, and parsers turn a bare CR into LF; Excel,
    LibreOffice and calamine read the escapes back as the characters (openpyxl does not).
    """
    value = _LITERAL_ESCAPE_RE.sub(r"_x005F_\1", value)
    return _CONTROL_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)


# Any of these in a string means it is not written as it is (see `_store`).
_NOT_PLAIN_RE = re.compile(
    rf"\A[{LEADING_SPACES}]*[{re.escape(''.join(FORMULA_STARTS))}]|_x|{_CONTROL_RE.pattern}"
)


@dataclasses.dataclass(frozen=True)
class Style:
    """How a cell looks. Colours are "RRGGBB"."""

    bold: bool = False
    size: float | None = None
    color: str | None = None
    fill: str | None = None
    horizontal: str | None = None
    vertical: str | None = None
    wrap: bool = False
    border: bool = False  # a thin black box
    number_format: str | None = None

    def __post_init__(self):
        font = fill = alignment = None
        if self.bold or self.size or self.color:
            font = Font(bold=self.bold, size=self.size, color=self.color)
        if self.fill:
            fill = PatternFill("solid", fgColor=self.fill)
        if self.horizontal or self.vertical or self.wrap:
            alignment = Alignment(
                horizontal=self.horizontal, vertical=self.vertical, wrap_text=self.wrap or None
            )
        # openpyxl's objects, made once per style rather than once per cell.
        object.__setattr__(self, "_parts", (font, fill, alignment))

    def apply(self, cell) -> None:
        font, fill, alignment = self._parts
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if alignment is not None:
            cell.alignment = alignment
        if self.border:
            cell.border = _BOX
        if self.number_format:
            cell.number_format = self.number_format


@dataclasses.dataclass(frozen=True, slots=True)
class Cell:
    """A value with a style, or a value that is not text. Made by `text`, `number`, `typed`."""

    value: object
    style: Style | None = None


def text(value: str, style: Style | None = None) -> Cell:
    """`value` as a text cell with a style (a plain string in a row is a text cell too)."""
    if not isinstance(value, str):
        raise TypeError(f"text() takes a string, not {type(value).__name__}")
    return Cell(value, style)


def number(value, style: Style | None = None) -> Cell:
    """`value` as a number cell: totals, scores, row numbers. Strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"number() takes a number, not {type(value).__name__}")
    return Cell(value, style)


_TYPED = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


def typed(value) -> Cell | str | None:
    """A value read from an uploaded spreadsheet, written back with its own type.

    Numbers, dates, times and truth values stay what the reader made of them; text stays text
    (with the same protection as any other string).
    """
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, _TYPED):
        raise TypeError(f"typed() cannot write a {type(value).__name__}")
    return Cell(value)


class Book:
    """A workbook. `streaming` writes rows as they come (openpyxl's write-only mode): memory
    stays flat however many rows there are, but rows can only be appended."""

    def __init__(self, *, streaming: bool = False):
        self.streaming = streaming
        self._book = Workbook(write_only=streaming)
        self._fresh = not streaming  # the empty first sheet a normal workbook starts with

    def sheet(
        self,
        title: str,
        *,
        index: int | None = None,
        widths: dict[int, float] | None = None,
        freeze: str | None = None,
        hidden: bool = False,
        title_rows: tuple[int, int] | None = None,
        pages_tall: int = 0,
    ) -> "Sheet":
        """A new sheet; `widths` by column number (1 is A), `freeze` the first unfrozen cell,
        `title_rows` the first and last of the header rows printed at the top of every page,
        `pages_tall` the pages it prints on at most (0: as many as its rows need)."""
        if self._fresh and index is None:
            worksheet = self._book.active
            worksheet.title = title
            self._fresh = False
        else:
            worksheet = self._book.create_sheet(title, index)
        for column, width in (widths or {}).items():
            worksheet.column_dimensions[get_column_letter(column)].width = width
        if freeze:
            worksheet.freeze_panes = freeze
        if hidden:
            worksheet.sheet_state = "hidden"
        _print_layout(worksheet, title_rows, pages_tall)
        return Sheet(worksheet, streaming=self.streaming, widths=widths)

    def save(self, out) -> None:
        if not self.streaming:
            self._book.active = 0
        self._book.save(out)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.save(out)
        return out.getvalue()


class Sheet:
    """One sheet of a `Book`. Values are strings (text cells), None (no cell) or `Cell`s."""

    def __init__(self, worksheet, *, streaming: bool, widths: dict[int, float] | None = None):
        self._sheet = worksheet
        self.streaming = streaming
        self.title = worksheet.title
        self._last_row = 0
        self._widths = widths or {}
        self._spans: dict[tuple[int, int], int] = {}  # a merged cell's last column
        self._heights: dict[int, float] = {}
        self._height = 0.0  # of the streaming row being made

    # -- Values -------------------------------------------------------------------------------

    def append(self, values) -> None:
        """The next row."""
        if self.streaming:
            # The hot path of a 200,000-row export: a string openpyxl writes as text as it is
            # goes to it unwrapped; anything else becomes a cell here.
            search, errors, streamed = _NOT_PLAIN_RE.search, ERROR_CODES, self._streamed
            self._last_row += 1
            self._height = 0.0
            cells = [
                value
                if type(value) is str and value and search(value) is None and value not in errors
                else streamed(value, column)
                for column, value in enumerate(values, 1)
            ]
            if self._height:  # before the row is written: its height is part of it
                self.row_height(self._last_row, self._height)
            self._sheet.append(cells)
            return
        row = self._last_row + 1
        self._last_row = row
        for column, value in enumerate(values, 1):
            if value is not None:
                self.write(row, column, value)

    def write(self, row: int, column: int, value, style: Style | None = None) -> None:
        """`value` at row and column (numbered from 1); None with a style styles an empty
        cell. Not in a streaming book."""
        if self.streaming:
            raise TypeError("a streaming sheet is written row by row with append()")
        if isinstance(value, Cell):
            value, style = value.value, style or value.style
        elif value is not None and not isinstance(value, str):
            raise TypeError(_refused(value))
        self._last_row = max(self._last_row, row)
        cell = self._sheet.cell(row, column)
        if value is not None and value != "":
            _store(cell, value)
        if style is not None:
            style.apply(cell)
            height = self._fit(column, row, value, style)
            if height > self._heights.get(row, 0):
                self.row_height(row, height)

    def _fit(self, column: int, row: int, value, style: Style) -> float:
        """The height a wrapped text cell needs for all its lines (0 if it needs none):
        spreadsheet programs keep a row one line high when they open a file, whatever its
        wrapped cells hold, and print the rest of the text cut off."""
        if not style.wrap or not isinstance(value, str) or not value:
            return 0.0
        last = self._spans.get((row, column), column)
        width = sum(self._widths.get(index, DEFAULT_WIDTH) for index in range(column, last + 1))
        lines = _lines(value, width)
        return lines * LINE_HEIGHT * (style.size or 11) / 11 if lines > 1 else 0.0

    def _streamed(self, value, column: int = 0):
        if value is None:
            return None
        if type(value) is str:
            if not value:
                return None
            style = None
        elif isinstance(value, Cell):
            value, style = value.value, value.style
            if value is None or value == "":
                if style is None:
                    return None
                value = None
        else:
            raise TypeError(_refused(value))
        cell = WriteOnlyCell(self._sheet)
        if value is not None:
            _store(cell, value)
        if style is not None:
            style.apply(cell)
            self._height = max(self._height, self._fit(column, self._last_row, value, style))
        return cell

    # -- Layout -------------------------------------------------------------------------------

    def merge(self, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        self._spans[first_row, first_column] = last_column
        self._sheet.merge_cells(
            start_row=first_row,
            start_column=first_column,
            end_row=last_row,
            end_column=last_column,
        )

    def row_height(self, row: int, height: float) -> None:
        self._heights[row] = height
        self._sheet.row_dimensions[row].height = height

    def text_column(self, column: int, first_row: int, last_row: int) -> None:
        """Column `column` formatted as text, in rows first to last and, in Excel, below."""
        letter = get_column_letter(column)
        self._sheet.column_dimensions[letter].number_format = TEXT_FORMAT
        for row in range(first_row, last_row + 1):
            self._sheet[f"{letter}{row}"].number_format = TEXT_FORMAT

    def list_range(self, column: int, count: int) -> str:
        """The first `count` cells of `column` of this sheet, as a list of choices for
        `choose_from`."""
        letter = get_column_letter(column)
        return f"{quote_sheetname(self.title)}!${letter}$1:${letter}${count}"

    def choose_from(
        self,
        column: int,
        first_row: int,
        last_row: int,
        choices: str | list[str],
        *,
        error: str = "",
        error_title: str = "",
        warn: bool = False,
    ) -> None:
        """A drop-down list on the cells of `column`: `choices` is a `list_range` or a few
        values. Without `error` any value may be typed; with it, others are refused (or, with
        `warn`, questioned) with that message."""
        if isinstance(choices, list):
            choices = '"' + ",".join(choices) + '"'
        validation = DataValidation(type="list", formula1=choices, allow_blank=True)
        validation.showErrorMessage = bool(error)
        if error:
            validation.errorStyle = "warning" if warn else "stop"
            validation.errorTitle = error_title
            validation.error = error
        letter = get_column_letter(column)
        validation.add(f"{letter}{first_row}:{letter}{last_row}")
        self._sheet.add_data_validation(validation)


def _print_layout(worksheet, title_rows: tuple[int, int] | None, pages_tall: int) -> None:
    """A4 landscape, one page wide and `pages_tall` pages down (0: as many as the rows need),
    `title_rows` on every page, page numbers in the footer."""
    setup = worksheet.page_setup
    setup.paperSize = A4
    setup.orientation = "landscape"
    setup.fitToWidth = 1
    setup.fitToHeight = pages_tall
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    # Excel's "narrow" margins: more of the page for the columns.
    worksheet.page_margins = PageMargins(left=0.25, right=0.25, top=0.75, bottom=0.75)
    worksheet.print_options.horizontalCentered = True
    worksheet.oddFooter.center.text = PAGE_FOOTER
    if title_rows:
        first, last = title_rows
        worksheet.print_title_rows = f"{first}:{last}"


def _lines(value: str, width: float) -> int:
    """How many lines `value` takes wrapped in a column `width` characters wide, where a
    Chinese character (East Asian wide or full-width) takes two."""
    room = max(width - 1, 1)  # the cell's padding
    return sum(
        max(1, math.ceil(sum(2 if east_asian_width(c) in "WF" else 1 for c in line) / room))
        for line in value.split("\n")
    )


def _refused(value) -> str:
    return (
        f"a spreadsheet cell takes a string, None or a Cell, not {type(value).__name__}: "
        "numbers go through number()"
    )


def _store(cell, value) -> None:
    """Put `value` in the openpyxl `cell`: a string as text, never a formula."""
    if isinstance(value, str):
        # openpyxl would make a formula of "=..." and an error value of "#N/A": set the type.
        cell.value = _xml_text(value)
        cell.data_type = "s"
        if looks_like_formula(value):
            cell.quotePrefix = True
    elif isinstance(value, _TYPED):
        cell.value = value
    else:
        raise TypeError(_refused(value))
