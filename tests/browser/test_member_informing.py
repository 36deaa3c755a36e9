"""The notice (告知): a member registered before being told, told later, and the dashboard's
count of people not yet told, at a phone's and a desktop's width."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members.models import Member
from members.tests.factories import id_number_for

from .conftest import DESKTOP, PHONE
from .helpers import log_in, record_notice, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_member_registered_before_being_told_is_told_later(
    browser, live_server, community_user, street_user, screenshot
):
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/new/")
    browser.find_element(By.NAME, "name").send_keys("刘待告")
    browser.find_element(By.NAME, "id_number").send_keys(id_number_for())
    Select(browser.find_element(By.NAME, "ethnicity")).select_by_visible_text("汉族")
    Select(browser.find_element(By.NAME, "political_status")).select_by_visible_text("群众")
    browser.find_element(By.CSS_SELECTOR, 'input[name=categories][value="intellectual"]').click()
    submit = ".form-actions button[type=submit]"
    browser.find_element(By.CSS_SELECTOR, submit).click()
    # Neither told nor a reason: the notice's fieldset says what is missing.
    wait_for_text(browser, "#informing", "未告知原因")
    assert "请填写告知方式和告知日期" in browser.find_element(By.ID, "informing").text
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(*size)
        browser.execute_script("document.getElementById('informing').scrollIntoView()")
        screenshot(f"form-{name}")
    browser.set_window_size(*PHONE)
    browser.find_element(By.NAME, "not_informed_reason").send_keys("本人外出务工，待返乡后告知")
    browser.find_element(By.CSS_SELECTOR, submit).click()
    wait_for_text(browser, "h1", "刘待告")
    assert browser.find_element(By.ID, "informing").text == "未告知：本人外出务工，待返乡后告知"

    # The dashboard counts her, and its card opens the list of people not yet told.
    browser.get(f"{live_server.url}/")
    card = browser.find_element(By.XPATH, "//a[@class='stat'][contains(., '尚未告知的人员')]")
    assert card.find_element(By.CLASS_NAME, "number").text == "1"
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(*size)
        screenshot(f"dashboard-{name}")
    browser.set_window_size(*PHONE)
    card.click()
    wait_for_text(browser, "main", "刘待告")

    # The street sees her community's count in the comparison by area, linked to her.
    browser.delete_all_cookies()
    log_in(browser, live_server, "charlie")
    cell = browser.find_element(
        By.XPATH, "//table[contains(@class, 'by-area')]//tr[th[.='桥东一社区']]/td[5]/a"
    )
    assert cell.text == "1"
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(*size)
        browser.execute_script("arguments[0].scrollIntoView()", cell)
        screenshot(f"by-area-{name}")
    browser.set_window_size(*PHONE)
    browser.execute_script("arguments[0].click()", cell)
    wait_for_text(browser, "main", "刘待告")
    browser.delete_all_cookies()
    log_in(browser, live_server, "alice")

    # Told on a visit: the reason goes, the page says how and when.
    member = Member.objects.get(name="刘待告")
    browser.get(f"{live_server.url}/members/{member.pk}/edit/")
    record_notice(browser, how="走访时口头告知")
    browser.find_element(By.CSS_SELECTOR, submit).click()
    wait_for_text(browser, "#informing", "已告知")
    assert browser.find_element(By.ID, "informing").text == "已告知：走访时口头告知，2026-03-05"
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        browser.set_window_size(*size)
        browser.execute_script("document.getElementById('informing').scrollIntoView()")
        screenshot(f"detail-{name}")
    member.refresh_from_db()
    assert member.not_informed_reason == ""
