"""On a phone: a community sends a report up and its street adopts it; a need referred up is
accepted by the street."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from activities import services as activity_services
from liaison.models import Report

from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits_the_phone(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


def log_out(browser, live_server):
    browser.delete_all_cookies()


def test_a_report_sent_and_adopted_on_a_phone(
    browser, live_server, community_user, street_user, screenshot
):
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/liaison/reports/new/")
    wait_for_text(browser, "h1", "报送信息")
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("社情民意")
    browser.find_element(By.NAME, "title").send_keys("居民反映停车难")
    browser.find_element(By.NAME, "body").send_keys("小区停车位不足。")
    assert fits_the_phone(browser)
    screenshot("form")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, "#report-decision", "待审")
    report = Report.objects.get()
    assert report.to_area.name == "柳巷街道"

    log_out(browser, live_server)
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/liaison/reports/")
    wait_for_text(browser, "#box-received", "1")
    assert fits_the_phone(browser)
    browser.find_element(By.LINK_TEXT, "居民反映停车难").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=decision][value=adopted]").click()
    browser.find_element(By.NAME, "comment").send_keys("已转区统战部")
    browser.find_element(By.ID, "save-decision").click()
    # A decision is final: a page says what follows before it is saved.
    wait_for_text(browser, "#what-happens", "决定后不能更改")
    assert fits_the_phone(browser)
    screenshot("decide-confirm")
    browser.find_element(By.ID, "confirm").click()
    wait_for_text(browser, "#report-decision", "采用")
    assert fits_the_phone(browser)
    browser.get(f"{live_server.url}/liaison/reports/counts/")
    wait_for_text(browser, "h1", "各单位信息报送统计")
    screenshot("counts")


def test_a_need_referred_up_and_accepted_on_a_phone(
    browser, live_server, community_user, street_user, member, screenshot
):
    need = activity_services.need_create(
        actor=community_user, member=member, data={"kind": "legal", "description": "房屋纠纷"}
    )
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/activities/needs/{need.pk}/")
    browser.find_element(By.NAME, "note").send_keys("涉及产权，社区无法协调")
    assert fits_the_phone(browser)
    browser.find_element(By.ID, "refer-need").click()
    wait_for_text(browser, "#need-held", "柳巷街道")
    screenshot("referred")

    log_out(browser, live_server)
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/activities/needs/{need.pk}/")
    browser.find_element(By.ID, "accept-need").click()
    wait_for_text(browser, "#need-held", "由柳巷街道承办")
    wait_for_text(browser, ".need-history", "已受理")
    assert fits_the_phone(browser)
