"""The statistical reports: the dates changed on the page and a report downloaded at once
give a file of those dates (issue 13), at desktop and phone width."""

import io
import time

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from dashboards.tests.conftest import build_world

from .conftest import DESKTOP, PHONE
from .helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What a person does with the date picker: a new value, and the events the page hears.
SET_DAY = """
arguments[0].value = arguments[1];
arguments[0].dispatchEvent(new Event('input', {bubbles: true}));
arguments[0].dispatchEvent(new Event('change', {bubbles: true}));
"""


def download(browser, button_id, folder, timeout=20) -> list[tuple]:
    """Press the download button and read the first sheet of the file the browser saved."""
    for old in folder.glob("*.xlsx"):  # a file of the same name would be replaced
        old.unlink()
    button = browser.find_element(By.ID, button_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = list(folder.glob("*.xlsx"))
        if done and not list(folder.glob("*.crdownload")):
            (path,) = done
            return path.name, list(load_workbook(io.BytesIO(path.read_bytes())).active.values)
        time.sleep(0.2)
    raise AssertionError(f"nothing downloaded into {folder}")


def test_the_report_downloaded_right_after_changing_the_dates_is_of_those_dates(
    browser, live_server, areas, street_user, district_user, other_district_user, screenshot,
    tmp_path,
):  # fmt: skip
    build_world(areas, street_user, district_user, other_district_user)
    browser.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    log_in(browser, live_server, "erin")
    for (size, name), (since, until) in zip(
        ((DESKTOP, "desktop"), (PHONE, "phone")),
        (("2001-01-01", "2001-12-31"), ("2002-03-01", "2002-05-31")),
        strict=True,
    ):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/reports/")
        main = browser.find_element(By.TAG_NAME, "main").text
        assert "统计时段" in main and "本季度" in main and "设定时段" not in main
        # New dates, then straight to a download button: no other button pressed.
        browser.execute_script(SET_DAY, browser.find_element(By.ID, "id_since"), since)
        browser.execute_script(SET_DAY, browser.find_element(By.ID, "id_until"), until)
        screenshot(f"{name}-dates-changed")
        name_of_file, rows = download(browser, "download-activities", tmp_path)
        assert f"统计时段：{since} 至 {until}" in rows[1], rows[1]
        assert name_of_file.endswith(f"{since.replace('-', '')}-{until.replace('-', '')}.xlsx")
        # The page stays as it was, the dates still on it.
        assert browser.find_element(By.ID, "id_since").get_attribute("value") == since
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"

        # A preset fills in its dates; the next download is of them.
        browser.find_element(By.LINK_TEXT, "上年").click()
        since = browser.find_element(By.ID, "id_since").get_attribute("value")
        until = browser.find_element(By.ID, "id_until").get_attribute("value")
        assert since.endswith("-01-01") and until.endswith("-12-31") and since[:4] == until[:4]
        assert browser.find_element(By.LINK_TEXT, "上年").get_attribute("aria-current") == "true"
        screenshot(f"{name}-last-year")
        _name, rows = download(browser, "download-needs", tmp_path)
        assert f"统计时段：{since} 至 {until}" in rows[1], rows[1]

    # Days out of bounds: nothing downloaded, the reason beside the field.
    browser.get(f"{live_server.url}/reports/?since=1800-01-01&until=2001-01-01&report=members")
    error = browser.find_element(By.CSS_SELECTOR, ".field.invalid .error").text
    assert "1900-01-01" in error
    screenshot("phone-wrong-day")
