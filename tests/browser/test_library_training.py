"""The study library and training on a phone: a street officer publishes and records, a
community worker reads, finds by a Chinese word and sees her hours."""

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from liaison.models import Attendance

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def set_value(browser, name: str, value: str) -> None:
    # A date input takes the digits as a phone's picker gives them.
    browser.execute_script(
        "document.querySelector(arguments[0]).value = arguments[1]", f"[name={name}]", value
    )


def test_publish_read_and_train_on_a_phone(
    browser, live_server, community_user, neighbour_user, street_user, screenshot
):
    year = datetime.date.today().year
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/liaison/library/new/")
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("政策")
    browser.find_element(By.NAME, "title").send_keys("民族宗教政策学习")
    browser.find_element(By.NAME, "body").send_keys("铸牢中华民族共同体意识，做好民族团结工作。")
    browser.find_element(By.NAME, "receipt_asked").click()
    screenshot("publish-phone")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "main", "学习资料已发布")

    browser.get(f"{live_server.url}/liaison/training/new/")
    browser.find_element(By.NAME, "title").send_keys("统战委员业务培训")
    set_value(browser, "date", f"{year}-01-15")
    browser.find_element(By.NAME, "hours").send_keys("3")
    browser.find_element(By.NAME, "place").send_keys("街道会议室")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "h1", "参训登记")
    # Ticked by name under each area; 五一二社区's worker stayed an hour and a half.
    browser.find_element(By.XPATH, "//label[contains(., '王丽')]").click()
    browser.find_element(By.XPATH, "//label[contains(., 'bob')]").click()
    browser.find_element(By.NAME, f"hours_{neighbour_user.pk}").send_keys("1.5")
    screenshot("attendance-phone")
    browser.set_window_size(*DESKTOP)
    screenshot("attendance-desktop")
    browser.set_window_size(*PHONE)
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "main", "参训名单已保存")
    assert sorted(Attendance.objects.values_list("hours", flat=True)) == [1.5, 3]

    browser.get(f"{live_server.url}/liaison/training/streets/?year={year}")
    rows = browser.find_element(By.CSS_SELECTOR, "table").text
    assert "王丽" in rows and "1.5" in rows and "4.5" in rows
    screenshot("street-hours-phone")

    browser.delete_all_cookies()
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/liaison/library/")
    wait_for_text(browser, "main", "有 1 份资料等待您阅读确认")
    search = browser.find_element(By.NAME, "q")
    search.send_keys("民族")
    search.submit()
    wait_for_text(browser, "table", "民族宗教政策学习")
    screenshot("library-phone")
    browser.find_element(By.LINK_TEXT, "民族宗教政策学习").click()
    wait_for_text(browser, "main", "记录您已读")
    browser.get(f"{live_server.url}/liaison/training/hours/?year={year}")
    wait_for_text(browser, "h1", f"{year} 年共 3.0 学时")
    screenshot("my-hours-phone")

    browser.delete_all_cookies()
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/liaison/library/")
    browser.find_element(By.LINK_TEXT, "民族宗教政策学习").click()
    browser.find_element(By.LINK_TEXT, "阅读情况").click()
    wait_for_text(browser, "h1", "已读 1 人，未读 1 人")
    screenshot("receipts-phone")
