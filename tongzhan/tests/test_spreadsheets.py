"""The one spreadsheet writer: text stays text, numbers are numbers only when asked for."""

import ast
import datetime
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tongzhan import spreadsheets as xlsx

from .libreoffice import csv_rows, needs_libreoffice

# Every start a spreadsheet program takes for a formula, and how it hides (OWASP).
DANGEROUS = [
    "=2*21",
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1+2",
    "@SUM(A1)",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "\t=1",
    "\r=1",
    " =1",
    "   +1",
    "\u3000＝1+1",
]
HARMLESS = ["张三", "0351-1234567", "140106198001011234", "a=b", "1+1", "#N/A", "TRUE", "001"]


def _book(values, *, streaming):
    book = xlsx.Book(streaming=streaming)
    sheet = book.sheet("表")
    for value in values:
        sheet.append([value])
    return openpyxl.load_workbook(io.BytesIO(book.bytes())).active


@pytest.mark.parametrize("streaming", [True, False])
@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_starts_a_formula_is_a_quote_prefixed_text_cell(text, streaming):
    (cell,) = next(_book([text], streaming=streaming).iter_rows())
    assert cell.data_type == "s"
    # openpyxl does not decode the _x000D_ escape Excel and calamine read as CR.
    assert cell.value == text.replace("\r", "_x000D_")
    assert cell.quotePrefix


@pytest.mark.parametrize("streaming", [True, False])
def test_other_text_is_text_as_written_without_a_prefix(streaming):
    sheet = _book(HARMLESS, streaming=streaming)
    cells = [row[0] for row in sheet.iter_rows()]
    assert [cell.value for cell in cells] == HARMLESS
    assert all(cell.data_type == "s" and not cell.quotePrefix for cell in cells)


@pytest.mark.parametrize("streaming", [True, False])
def test_numbers_are_numbers_only_through_number(streaming):
    book = xlsx.Book(streaming=streaming)
    sheet = book.sheet("表")
    sheet.append(["42", xlsx.number(42), xlsx.number(Decimal("87.5")), xlsx.number(0.25)])
    sheet.append([xlsx.typed(datetime.date(2026, 5, 1)), xlsx.typed(1.0), xlsx.typed("=1")])
    first, second = openpyxl.load_workbook(io.BytesIO(book.bytes())).active.iter_rows()
    assert [(cell.value, cell.data_type) for cell in first] == [
        ("42", "s"),
        (42, "n"),
        (87.5, "n"),
        (0.25, "n"),
    ]
    assert second[0].value == datetime.datetime(2026, 5, 1) and second[0].is_date
    assert (second[1].value, second[1].data_type) == (1, "n")
    assert (second[2].value, second[2].data_type, second[2].quotePrefix) == ("=1", "s", True)


def test_a_number_is_never_guessed_nor_a_string_taken_for_one():
    sheet = xlsx.Book(streaming=True).sheet("表")
    with pytest.raises(TypeError):
        sheet.append([42])
    with pytest.raises(TypeError):
        xlsx.number("42")
    with pytest.raises(TypeError):
        xlsx.number(True)
    with pytest.raises(TypeError):
        xlsx.Book().sheet("表").write(1, 1, 1.5)


def test_control_characters_and_literal_escapes_read_back_unchanged():
    python_calamine = pytest.importorskip("python_calamine")
    values = ["a\x01b", "\r=1+1", "a_x0041_b", "行一\n行二"]
    book = xlsx.Book(streaming=True)
    sheet = book.sheet("表")
    sheet.append(values)
    read = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(book.bytes()))
    assert read.get_sheet_by_index(0).to_python() == [values]


@needs_libreoffice
def test_libreoffice_shows_each_dangerous_text_as_written(tmp_path):
    book = xlsx.Book(streaming=True)
    sheet = book.sheet("表")
    for value in [*DANGEROUS, *HARMLESS]:
        sheet.append([value, xlsx.number(7)])
    rows = csv_rows(book.bytes(), tmp_path)
    # LibreOffice's CSV keeps a CR inside a quoted field; csv.reader gives it back.
    assert [row[0] for row in rows] == [*DANGEROUS, *HARMLESS]
    assert {row[1] for row in rows} == {"7"}


def test_no_module_but_the_writer_imports_openpyxl_to_write():
    """One writer: the application's other modules may read spreadsheets, never write."""
    root = Path(__file__).resolve().parents[2]
    allowed = {
        "tongzhan/spreadsheets.py",
        "tongzhan/services.py",  # reads the area list an administrator loads
    }
    writers = []
    for top in root.iterdir():
        if not top.is_dir() or top.name.startswith(".") or top.name in {"benchmarks", "tests"}:
            continue
        for path in top.rglob("*.py"):
            relative = path.relative_to(root).as_posix()
            if "/tests/" in relative or relative in allowed:
                continue
            writers += _openpyxl_imports(path, relative)
    assert writers == []


def _openpyxl_imports(path: Path, relative: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        if any(module.split(".")[0] == "openpyxl" for module in modules):
            found.append(relative)
    return found


@pytest.mark.parametrize("streaming", [False, True])
def test_every_sheet_prints_a4_landscape_one_page_wide_with_its_header_and_page_numbers(
    streaming,
):
    book = xlsx.Book(streaming=streaming)
    table = book.sheet("表", title_rows=(1, 2))
    table.append(["标题"])
    table.append(["姓名", "社区"])
    book.sheet("说明").append(["说明"])
    read = openpyxl.load_workbook(io.BytesIO(book.bytes()))
    for sheet in read.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert read["表"].print_title_rows == "$1:$2"
    # A sheet handed out as one page (an import template's notes) prints one page tall.
    book = xlsx.Book(streaming=streaming)
    book.sheet("说明", pages_tall=1).append(["说明"])
    setup = openpyxl.load_workbook(io.BytesIO(book.bytes()))["说明"].page_setup
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 1)
    assert not read["说明"].print_title_rows


@pytest.mark.parametrize("streaming", [False, True])
def test_a_row_of_wrapped_text_is_as_high_as_its_lines(streaming):
    """Spreadsheet programs open a row one line high whatever its wrapped cells hold, and
    print the rest cut off: the writer gives the row the height of its lines."""
    wrapped = xlsx.Style(wrap=True)
    book = xlsx.Book(streaming=streaming)
    sheet = book.sheet("表", widths={1: 11, 2: 30})
    sheet.append([xlsx.text("短", wrapped), "不折行的长文字不折行的长文字不折行的长文字"])
    sheet.append([xlsx.text("五个汉字十个汉字的宽度", wrapped), "x"])  # 22 wide in 10: 3 lines
    sheet.append(["x", xlsx.text("第一行\n第二行", wrapped)])
    heights = openpyxl.load_workbook(io.BytesIO(book.bytes())).active.row_dimensions
    assert heights[1].height is None
    assert heights[2].height == pytest.approx(3 * xlsx.LINE_HEIGHT)
    assert heights[3].height == pytest.approx(2 * xlsx.LINE_HEIGHT)
