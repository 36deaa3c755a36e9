"""A community worker answers a task on a phone; the street reads its supervision table."""

import pytest
from selenium.webdriver.common.by import By

from liaison.models import TaskCopy
from liaison.tests.test_tasks import QIAODONG, WUYIER, send

from .conftest import DESKTOP
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_task_is_answered_on_a_phone_and_followed_on_the_table(
    browser, live_server, areas, community_user, street_user, screenshot
):
    task = send(street_user, areas[QIAODONG], areas[WUYIER], title="中秋走访")
    copy = TaskCopy.objects.get(task=task, area=areas[QIAODONG])
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/liaison/tasks/")
    browser.find_element(By.LINK_TEXT, "中秋走访").click()
    wait_for_text(browser, "h1", "下发")
    browser.find_element(By.ID, "receive").click()
    wait_for_text(browser, "#copy-state", "已接收")
    browser.find_element(By.ID, "start").click()
    wait_for_text(browser, "#copy-state", "办理中")
    browser.find_element(By.ID, "report").click()
    browser.find_element(By.NAME, "report").send_keys("走访 12 户")
    screenshot("report-form")
    browser.find_element(By.CSS_SELECTOR, "form.task-report-form button[type=submit]").click()
    wait_for_text(browser, "#copy-state", "已完成")
    assert "走访 12 户" in browser.find_element(By.ID, "copy-report").text
    screenshot("copy")
    copy.refresh_from_db()
    assert copy.state == "done"

    browser.delete_all_cookies()
    browser.set_window_size(*DESKTOP)
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/liaison/tasks/{task.pk}/")
    wait_for_text(browser, "table.supervision", "五一二社区")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.supervision tbody tr")
    assert [row.text.split()[0] for row in rows] == ["桥东一社区", "五一二社区"]
    screenshot("table")
