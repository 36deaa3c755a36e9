"""A transfer from end to end: alice asks on a desktop for her member's transfer into bob's
community, bob accepts it on a phone into one of his grids, and she is then in bob's list with
the request and the acceptance in her history."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tongzhan.models import Area

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser, name: str) -> None:
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def test_an_incoming_transfer_accepted(
    browser, live_server, areas, community_user, neighbour_user, member, screenshot
):
    wuyier = areas["140106001002"]
    Area.objects.create(code="140106001002001", name="五一二第一网格", level="grid", parent=wuyier)

    browser.set_window_size(*DESKTOP)
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    browser.find_element(By.LINK_TEXT, "转移").click()
    wait_for_text(browser, "h1", "转移张三")
    Select(browser.find_element(By.NAME, "to_community")).select_by_visible_text(
        "柳巷街道 · 五一二社区"
    )
    browser.find_element(By.NAME, "reason").send_keys("随子女居住")
    screenshot("request-desktop")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, ".transfer-pending", "迁往五一二社区，待接收（王丽，")
    fits(browser, "member page")
    screenshot("pending-desktop")
    browser.get(f"{live_server.url}/members/")
    assert "迁往五一二社区，待接收" in browser.find_element(By.CSS_SELECTOR, "table.members").text
    screenshot("member-list-desktop")
    browser.set_window_size(*PHONE)
    fits(browser, "member list")
    screenshot("member-list-phone")

    browser.delete_all_cookies()
    browser.set_window_size(*PHONE)
    log_in(browser, live_server, "bob")
    browser.get(f"{live_server.url}/")
    todo = browser.find_element(By.ID, "todo-transfers")
    assert todo.find_element(By.CSS_SELECTOR, ".number").text == "1"
    screenshot("home-phone")
    todo.click()
    wait_for_text(browser, "h1", "转移")
    fits(browser, "transfer list")
    screenshot("list-phone")
    browser.find_element(By.CSS_SELECTOR, "table.incoming").find_element(
        By.LINK_TEXT, "张三"
    ).click()
    wait_for_text(browser, ".transfer-person", member.id_number_masked)
    assert "知识分子" in browser.find_element(By.CSS_SELECTOR, ".transfer-person").text
    fits(browser, "transfer page")
    screenshot("decide-phone")
    Select(browser.find_element(By.NAME, "grid")).select_by_visible_text("五一二第一网格")
    button = browser.find_element(By.ID, "accept-transfer")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    screenshot("accept-form-phone")
    button.click()
    wait_for_text(browser, "main", "张三已转入五一二社区。")
    timeline = browser.find_element(By.CSS_SELECTOR, ".member-timeline").text
    assert (
        "转入" in timeline and "申请迁出" in timeline and "迁往五一二社区：随子女居住" in timeline
    )
    fits(browser, "member page after acceptance")
    screenshot("accepted-phone")
    browser.execute_script(
        "document.querySelector('.member-timeline').scrollIntoView({block: 'start'})"
    )
    screenshot("history-phone")

    browser.get(f"{live_server.url}/members/")
    rows = browser.find_element(By.CSS_SELECTOR, "table.members").text
    assert "张三" in rows and "五一二第一网格" in rows and "待接收" not in rows
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/members/transfers/")
    assert "已接收" in browser.find_element(By.CSS_SELECTOR, "table.decided").text
    screenshot("decided-desktop")
