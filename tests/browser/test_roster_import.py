"""A street officer imports a roster: upload, progress, preview, confirm, refused rows."""

import base64
import io
import re

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from members.models import ImportJob, Member
from members.tests.test_imports import person, roster
from tongzhan.tests.tasks import run_queued_tasks

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FETCH_AS_BASE64 = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: "same-origin"})
  .then(r => r.arrayBuffer().then(b => [r.status, r.headers.get("content-type"), b]))
  .then(([status, type, buffer]) => {
    let text = "";
    new Uint8Array(buffer).forEach(byte => { text += String.fromCharCode(byte); });
    done([status, type, btoa(text)]);
  });
"""


def test_upload_preview_confirm_and_download_the_refused_rows(
    browser, live_server, district_user, member, screenshot, settings, tmp_path
):
    # Workers, not the request, run the jobs: the page shows the queue and its progress
    # until the test runs the worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    path = tmp_path / "柳巷街道花名册.xlsx"
    path.write_bytes(roster(person("陈一"), person("陈二"), person("陈三", category="热心群众")))
    browser.set_window_size(*DESKTOP)
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/members/")
    browser.find_element(By.LINK_TEXT, "导入花名册").click()
    wait_for_text(browser, "h1", "导入花名册")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    screenshot("upload")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    # Queued: a progress bar and the waiting state.
    progress = browser.find_element(By.CSS_SELECTOR, "#job-progress progress")
    assert progress.is_displayed()
    assert browser.find_element(By.ID, "job-state").text == "等待检查"
    screenshot("queued")
    assert run_queued_tasks("browser-test") == 1

    # The page notices by itself and shows the preview.
    wait_for_text(browser, "main", "预览：导入将做什么")
    assert browser.find_element(By.ID, "count-created").text == "2"
    assert browser.find_element(By.ID, "count-refused").text == "1"
    # The people the import will register, with masked ID numbers and their community.
    people = browser.find_element(By.CSS_SELECTOR, ".import-rows tbody").text
    assert "陈一" in people and "陈二" in people and "桥东一社区" in people
    assert re.search(r"140106\*{8}[0-9]{3}[0-9X]", people)
    assert not re.search(r"[0-9]{17}[0-9X]", browser.page_source)
    assert list(Member.objects.values_list("name", flat=True)) == [member.name]
    screenshot("preview")
    browser.set_window_size(*PHONE)
    screenshot("preview-phone")
    browser.find_element(By.ID, "tab-refused").click()
    wait_for_text(browser, "#rows h2", "未通过的行")
    refused = browser.find_element(By.CSS_SELECTOR, ".import-rows tbody").text
    assert "陈三" in refused and "统战对象类别" in refused and "热心群众" in refused
    screenshot("preview-refused-phone")
    browser.set_window_size(*DESKTOP)
    screenshot("preview-refused")

    browser.find_element(By.ID, "confirm-import").click()
    wait_for_text(browser, "#job-state", "等待导入")
    assert browser.find_element(By.CSS_SELECTOR, "#job-progress progress").is_displayed()
    assert run_queued_tasks("browser-test") == 1
    wait_for_text(browser, "main", "导入结果")
    assert browser.find_element(By.ID, "job-state").text == "已导入"
    assert browser.find_element(By.ID, "count-created").text == "2"
    assert set(Member.objects.values_list("name", flat=True)) == {"陈一", "陈二", member.name}
    screenshot("result")
    browser.set_window_size(*PHONE)
    screenshot("result-phone")
    browser.set_window_size(*DESKTOP)

    # The refused rows, as an Excel file with the reason beside each row.
    link = browser.find_element(By.ID, "download-refused").get_attribute("href")
    status, content_type, body = browser.execute_async_script(FETCH_AS_BASE64, link)
    assert status == 200 and "spreadsheetml" in content_type
    sheet = load_workbook(io.BytesIO(base64.b64decode(body))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == "陈三" and "热心群众" in rows[1][-1]

    # The link from the result lists the members it registered, and nobody else.
    browser.find_element(By.ID, "imported-members").click()
    wait_for_text(browser, "h1", "统战对象")
    listed = browser.find_elements(By.CSS_SELECTOR, "table.members td.title a")
    assert sorted(link.text for link in listed) == ["陈一", "陈二"]
    screenshot("imported-members")
    browser.set_window_size(*PHONE)
    screenshot("imported-members-phone")
    browser.set_window_size(*DESKTOP)
    browser.back()

    # The history keeps the import.
    browser.find_element(By.LINK_TEXT, "导入记录").click()
    history = browser.find_element(By.CSS_SELECTOR, "table.imports").text
    assert "柳巷街道花名册.xlsx" in history and "已导入" in history
    assert ImportJob.objects.get().created_by == district_user
    screenshot("history")
