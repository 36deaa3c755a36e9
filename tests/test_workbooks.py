"""Every workbook the application writes: in Chinese, and ready to print as offices file them.

Member export, import template, refused rows, the three statistical reports, assessment
results and the audit log: A4 landscape, one page wide, the header rows on every page, page
numbers in the footer, and no English word in any cell (issue 13).
"""

import io
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessment import services as assessment_services
from assessment.models import EvaluationTemplate
from assessment.tests.conftest import indicators, period  # noqa: F401 (fixtures)
from conftest import _user
from dashboards.tests.conftest import build_world
from members.exports import INSTRUCTIONS_SHEET
from members.models import ImportJob
from members.tests.test_import_jobs import good_and_bad, upload
from tongzhan.models import User
from tongzhan.tests.libreoffice import convert, needs_libreoffice

pytestmark = pytest.mark.django_db

# Latin words a Chinese office reads as they are: the product named in the template's notes,
# and the Latin letters of data rather than of the interface (account and file names).
ALLOWED = {"Excel", "xlsx", "alice", "charlie", "erin", "frank", "ivan"}
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
HEX = re.compile(r"\A[0-9a-f-]{8,}\Z")  # request ids


@pytest.fixture
def workbooks(client, areas, street_user, district_user, other_district_user, period, indicators):  # noqa: F811
    """Each workbook as a user downloads it, by name, with its expected print title rows."""
    build_world(areas, street_user, district_user, other_district_user)
    assessment_services.period_open(actor=district_user, period=period)
    today = timezone.localdate()
    client.force_login(district_user)
    files = {}

    def get(name, url, rows, **query):
        response = client.get(url, query)
        assert response.status_code == 200, (name, response.status_code)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        files[name] = (content, rows)

    get("roster", reverse("members:export"), "$1:$1")
    get("template", reverse("members:template"), "$1:$1")
    for key in ("members", "activities", "needs"):
        get(f"report-{key}", reverse("dashboards:report", args=[key]), "$3:$4",
            since=f"{today:%Y}-01-01", until=f"{today}")  # fmt: skip
    get("assessment", reverse("assessment:export", args=[period.pk]), "$2:$2")
    get("compare", reverse("dashboards:compare_export"), "$2:$2")
    get("score-grid", reverse("assessment:scores_download", args=[period.pk]), "$2:$2")
    get("training-hours", reverse("liaison:training_street_hours_export"), "$2:$2",
        year=today.year)  # fmt: skip
    evaluation_round = assessment_services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip
    get("round-grid", reverse("assessment:round_scores_download", args=[evaluation_round.pk]),
        "$2:$2", source="superior")  # fmt: skip
    upload(client, good_and_bad())
    job = ImportJob.objects.get()
    client.post(reverse("members:import_confirm", args=[job.pk]))
    get("refused", reverse("members:import_refused", args=[job.pk]), "$1:$1")
    client.force_login(_user("ivan", User.Role.AUDITOR, None))
    get("audit", reverse("audit_export"), "$1:$1")
    return files


def english_words(content: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(content))
    words = [sheet.title for sheet in book.worksheets]
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            words += [str(value) for value in row if isinstance(value, str)]
    found = []
    for text in words:
        for token in re.split(r"[\s:：;；,，、（）()]+", text):
            if HEX.match(token):
                continue
            found += [word for word in LATIN_WORD.findall(token) if word not in ALLOWED]
    return found


def test_every_workbook_prints_a4_landscape_one_page_wide_with_titles_and_page_numbers(
    workbooks,
):
    assert len(workbooks) == 12
    for name, (content, title_rows) in workbooks.items():
        book = load_workbook(io.BytesIO(content))
        for sheet in book.worksheets:
            setup = sheet.page_setup
            assert setup.orientation == "landscape", name
            assert int(setup.paperSize) == 9, name  # A4
            # As many pages down as the rows need; the template's notes on one page.
            pages_tall = 1 if sheet.title == INSTRUCTIONS_SHEET else 0
            assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == pages_tall, name
            assert sheet.sheet_properties.pageSetUpPr.fitToPage, name
            assert sheet.oddFooter.center.text == "第 &P 页，共 &N 页", name
        # The sheet people print (the first) repeats its header on every page.
        assert book.worksheets[0].print_title_rows == title_rows, name


def test_no_workbook_has_an_english_word(workbooks):
    for name, (content, _rows) in workbooks.items():
        assert english_words(content) == [], name


def test_the_assessment_results_name_each_indicators_columns_in_chinese(workbooks):
    rows = list(load_workbook(io.BytesIO(workbooks["assessment"][0])).active.values)
    assert rows[0][0].endswith("考核结果")
    assert {"开展活动：目标值", "开展活动：完成值", "开展活动：得分"} <= set(rows[1])


def test_the_audit_export_details_read_in_chinese(workbooks):
    rows = list(load_workbook(io.BytesIO(workbooks["audit"][0])).active.values)
    assert rows[0][0] == "时间（协调世界时）"
    details = [row[-1] or "" for row in rows[1:]]
    assert any("报表：统战活动分类统计表" in detail for detail in details), details
    assert any("步骤：上传" in detail for detail in details), details


# Pages of the first sheet as these few rows print: the template's notes are a page of their
# own, and the audit log of the test's actions runs onto a second page.
PAGES = {"template": 1, "audit": 2}


def page_text(pdf, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def first_and_last_headers(content: bytes, title_rows: str) -> tuple[str, str]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    first, last = (int(row) for row in title_rows.replace("$", "").split(":"))
    rows = list(sheet.iter_rows(min_row=first, max_row=last, values_only=True))
    last_column = max(len(row) for row in rows)
    return rows[0][0], next(row[last_column - 1] for row in rows if row[last_column - 1])


def pdf_pages(path) -> list[tuple[float, float]]:
    """Each page's width and height in points, as pdfinfo reads them."""
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [
        (float(width), float(height))
        for width, height in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    ]


@needs_libreoffice
def test_libreoffice_prints_every_workbook_one_page_wide(workbooks, tmp_path):
    """LibreOffice converts each workbook to PDF: A4 landscape pages, every column on the
    first page (no page of only the last columns), pages rendered as pictures for a look."""
    for name, (content, title_rows) in workbooks.items():
        folder = tmp_path / name
        folder.mkdir()
        pdf = convert(content, folder, to="pdf", name=f"{name}.xlsx")
        pages = pdf_pages(pdf)
        assert pages, name
        for width, height in pages:
            # A4 landscape is 842 × 595 points.
            assert abs(width - 842) < 2 and abs(height - 595) < 2, (name, width, height)
        # Every column on one page width: each page of the first sheet starts with its header
        # rows, and they hold the first and the last column (wrapped labels: their first
        # characters). A sheet cut into page widths would print its last columns on pages
        # of their own, without the first.
        first, last = first_and_last_headers(content, title_rows)
        sheet_pages = PAGES.get(name, 1)
        assert len(pages) == sheet_pages + (name == "template"), (name, len(pages))
        for page in range(1, sheet_pages + 1):
            text = page_text(pdf, page).replace(" ", "")
            assert first[:2] in text and last[:2] in text, (name, page, first, last)
            assert f"第{page}页，共{len(pages)}页" in text, name
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(pdf), str(folder / name)],
            check=True,
        )
        if os.environ.get("SCREENSHOT_DIR"):  # for a person to look at
            shots = Path(os.environ["SCREENSHOT_DIR"])
            shots.mkdir(parents=True, exist_ok=True)
            for png in folder.glob("*.png"):
                (shots / f"workbook-{png.name}").write_bytes(png.read_bytes())
