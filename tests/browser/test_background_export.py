"""A district officer exports more members than a request may write: the file is made in the
background, its page shows the progress, then offers the file; My downloads keeps it."""

import base64
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from selenium.webdriver.common.by import By

from members.tests.factories import MemberFactory
from tongzhan.downloads import download_run
from tongzhan.models import Download

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text
from .test_roster_import import FETCH_AS_BASE64

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_large_export_shows_its_progress_and_offers_the_file(
    browser, live_server, district_user, areas, screenshot, settings
):
    # Above a threshold lowered for the test; the test runs the worker's task itself.
    settings.MEMBER_EXPORT_INLINE_MAX = 2
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    people = [MemberFactory(community=areas["140106001001"]) for _ in range(3)]
    MemberFactory(community=areas["140105001001"], name="别区的人")
    browser.set_window_size(*DESKTOP)
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/members/")
    browser.find_element(By.LINK_TEXT, "导出 Excel").click()

    # Queued: its page, with the bar and the waiting state.
    wait_for_text(browser, "#job-state", "排队中")
    assert browser.find_element(By.CSS_SELECTOR, "#job-progress progress").is_displayed()
    assert "可以离开本页" in browser.find_element(By.CSS_SELECTOR, "main").text
    download = Download.objects.get()
    screenshot("queued")

    # A worker takes it and writes its progress: the page follows by itself.
    Download.objects.filter(pk=download.pk).update(
        state="running", done=1, total=3, heartbeat=timezone.now()
    )
    wait_for_text(browser, "#job-progress-text", "已处理 1 / 3 行")
    assert browser.find_element(By.ID, "job-state").text == "正在生成"
    assert (
        browser.find_element(By.CSS_SELECTOR, "#job-progress progress").get_attribute("value")
        == "33"
    )
    screenshot("progress")
    browser.set_window_size(*PHONE)
    screenshot("progress-phone")
    browser.set_window_size(*DESKTOP)

    Download.objects.filter(pk=download.pk).update(state="queued")
    download_run.call(download.pk)
    wait_for_text(browser, "#job-state", "已生成")
    link = browser.find_element(By.ID, "download-file")
    assert "共 3 行" in browser.find_element(By.CSS_SELECTOR, "main").text
    screenshot("done")
    browser.set_window_size(*PHONE)
    screenshot("done-phone")
    browser.set_window_size(*DESKTOP)

    status, content_type, body = browser.execute_async_script(
        FETCH_AS_BASE64, link.get_attribute("href")
    )
    assert status == 200 and "spreadsheetml" in content_type
    rows = list(
        load_workbook(io.BytesIO(base64.b64decode(body))).active.iter_rows(values_only=True)
    )
    assert sorted(row[0] for row in rows[1:]) == sorted(person.name for person in people)

    # My downloads, from the account menu, keeps it with its rows and how long it is kept.
    browser.find_element(By.LINK_TEXT, "我的下载").click()
    wait_for_text(browser, "h1", "我的下载")
    listed = browser.find_element(By.CSS_SELECTOR, "table.downloads tbody").text
    assert download.title in listed and "已生成" in listed
    screenshot("list")
    browser.set_window_size(*PHONE)
    screenshot("list-phone")


def test_a_user_with_files_waiting_is_told_why_another_is_not_queued(
    browser, live_server, district_user, areas, screenshot, settings
):
    settings.MEMBER_EXPORT_INLINE_MAX = 0
    settings.DOWNLOAD_BUSY_MAX = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    MemberFactory(community=areas["140106001001"], name="张三")
    MemberFactory(community=areas["140106001002"], name="李四")
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/members/export/")
    wait_for_text(browser, "#job-state", "排队中")
    browser.get(f"{live_server.url}/members/export/?q=张")
    assert browser.current_url == f"{live_server.url}/downloads/"
    text = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "您已有1个文件正在生成" in text
    assert Download.objects.count() == 1
    screenshot("phone")
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/members/export/?q=李")
    assert "您已有1个文件正在生成" in browser.find_element(By.CSS_SELECTOR, "main").text
    screenshot("desktop")
