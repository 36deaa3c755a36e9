"""Files within the upload limits that would take gigabytes to read are refused before
they are read (issue 12, hole 10); the largest roster the limits allow is still read."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.utils import translation

from members.roster_reader import (
    DEFAULT_MAX_CELLS,
    RosterFileError,
    find_header,
    iter_rows,
    read_table,
)
from members.tests.crafted import commas, far_cells, shared_text, widest, xls_far_cell

ROOT = Path(__file__).resolve().parents[2]
GOAL_MB = 500


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(RosterFileError) as caught:
        read_table(data, filename)
    return caught.value.message


@pytest.fixture(scope="module")
def issue_file() -> bytes:
    return far_cells(500_000)


def test_issue_file_of_13_million_mostly_empty_cells_is_refused(issue_file):
    data = issue_file
    assert len(data) < 10 * 1024 * 1024
    message = refusal(data, "far.xlsx")
    assert "13,000,026 cells" in message
    assert "Delete the unused rows and columns" in message


def test_one_long_text_shown_in_many_cells_is_refused():
    data = shared_text(20_000)
    assert len(data) < 200_000
    assert "too much text" in refusal(data, "shared.xlsx")


def test_xls_with_a_far_cell_is_refused():
    assert "16,777,216 cells" in refusal(xls_far_cell(), "far.xls")


def test_csv_of_commas_is_refused():
    assert "The sheet is too large" in refusal(commas(100_000), "commas.csv")


def test_the_widest_roster_the_limits_allow_is_read():
    # 100,000 people in 30 columns pass the cell limit; a small one is read here in full.
    assert DEFAULT_MAX_CELLS >= 100_002 * 30
    table = read_table(widest(50), "wide.xlsx")
    rows = list(iter_rows(table, find_header(table)))
    assert len(rows) == 50
    assert rows[0][1]["workplace"] == "某某有限公司2经理"


def test_checking_the_issue_file_stays_under_500_mb(tmp_path, issue_file):
    path = tmp_path / "far.xlsx"
    path.write_bytes(issue_file)
    child = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        os.environ["DJANGO_SETTINGS_MODULE"] = "tongzhan.settings.test"
        import django
        django.setup()
        from members.roster_reader import RosterFileError, read_table
        try:
            read_table(open({str(path)!r}, "rb").read(), "far.xlsx")
            print("read")
        except RosterFileError:
            print("refused")
        # Linux keeps ru_maxrss across exec (the test runner's own peak): VmHWM is the child's.
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
        print(int(status) // 1024)
        """
    )
    completed = subprocess.run(  # noqa: S603 (this interpreter, with a script of its own)
        [sys.executable, "-c", child], capture_output=True, text=True, check=True, cwd=ROOT
    )
    outcome, peak_mb = completed.stdout.split()
    assert int(peak_mb) < GOAL_MB
    assert outcome == "refused"
