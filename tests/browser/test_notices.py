"""A notice from the street to its communities, sent on a phone, read and answered by a
community worker, and followed up by the street."""

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from liaison.models import NoticeCopy

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_notice_sent_read_answered_and_followed_up(
    browser, live_server, street_user, community_user, neighbour_user, screenshot
):
    reply_by = timezone.localdate() + datetime.timedelta(days=5)
    browser.delete_all_cookies()
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/liaison/notices/")
    browser.find_element(By.LINK_TEXT, "发通知").click()
    wait_for_text(browser, "h1", "发通知")
    browser.find_element(By.NAME, "title").send_keys("关于开展防汛排查的通知")
    browser.find_element(By.NAME, "body").send_keys("请各社区于本周内完成排查并回复。")
    browser.execute_script(
        "document.querySelector('[name=reply_by]').value = arguments[0]", reply_by.isoformat()
    )
    # To every community of the street: the sender's own area, already chosen.
    assert Select(browser.find_element(By.NAME, "area")).first_selected_option.text == "柳巷街道"
    browser.find_element(By.CSS_SELECTOR, ".recipients summary").click()
    browser.execute_script("document.querySelector('.recipients').scrollIntoView()")
    screenshot("form-phone")
    browser.set_window_size(*DESKTOP)
    screenshot("form-desktop")
    browser.set_window_size(*PHONE)
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "main", "通知已发送")
    assert "0 / 2" in browser.find_element(By.ID, "count-read").text

    browser.delete_all_cookies()
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/liaison/notices/")
    screenshot("received-phone")
    browser.find_element(By.PARTIAL_LINK_TEXT, "关于开展防汛排查的通知").click()
    wait_for_text(browser, "h1", "关于开展防汛排查的通知")
    browser.find_element(By.NAME, "reply").send_keys("已完成排查，未发现隐患。")
    screenshot("detail-phone")
    browser.find_element(By.CSS_SELECTOR, ".notice-reply button[type=submit]").click()
    wait_for_text(browser, "main", "回复已提交")

    browser.delete_all_cookies()
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/liaison/notices/")
    screenshot("sent-phone")
    browser.find_element(By.LINK_TEXT, "关于开展防汛排查的通知").click()
    wait_for_text(browser, "#count-read", "1 / 2")
    table = browser.find_element(By.CSS_SELECTOR, ".notice-copies").text
    assert "已完成排查，未发现隐患。" in table and "王丽" in table
    browser.find_element(By.XPATH, "//button[text()='催办未读社区']").click()
    wait_for_text(browser, "main", "已向1个未读社区催办")
    screenshot("status-phone")
    reminded = NoticeCopy.objects.get(area=neighbour_user.area)
    assert reminded.reminded_at is not None and reminded.read_at is None
