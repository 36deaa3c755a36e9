"""A small assessment period end to end: configure, log some work, score, finalize, export."""

import base64
import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from activities import services as activity_services
from activities.models import ActivityType
from assessment.models import Period
from assessment.tests.conftest import score_everywhere
from members.tests.factories import MemberFactory

from .conftest import DESKTOP
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then(r => r.arrayBuffer()).then(buffer => {
  let text = ''; new Uint8Array(buffer).forEach(b => text += String.fromCharCode(b));
  done(btoa(text));
});
"""


def log_out(browser):
    browser.find_element(By.CSS_SELECTOR, ".account form button").click()
    browser.find_element(By.NAME, "username")


def fill(browser, values: dict):
    """Type into inputs by name; dates are set directly (the picker's format varies)."""
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(str(value))
        elif field.get_attribute("type") == "date":
            browser.execute_script("arguments[0].value = arguments[1]", field, value)
        else:
            field.clear()
            field.send_keys(str(value))


def test_a_period_from_set_up_to_export(
    browser, live_server, areas, district_user, street_user, community_user, admin_user,
    screenshot,
):  # fmt: skip
    year = timezone.localdate().year
    for _ in range(3):
        MemberFactory(community=areas["140106001001"])
    browser.set_window_size(*DESKTOP)

    # The district sets the period up: one measured and one hand-scored indicator.
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/assessment/new/")
    fill(browser, {"name": f"{year}年度", "starts_on": f"{year}-01-01", "ends_on": f"{year}-12-31"})
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, ".messages", "请设置考核指标")
    fill(browser, {"indicator-name": "开展活动", "indicator-kind": "measured",
                   "indicator-metric": "activities", "indicator-weight": "60",
                   "indicator-rule": "tiers", "indicator-tiers": "0:1, 3:2"})  # fmt: skip
    browser.find_element(By.ID, "add-indicator").click()
    wait_for_text(browser, ".indicators", "开展活动")
    fill(browser, {"indicator-name": "工作制度健全", "indicator-kind": "scored",
                   "indicator-weight": "40", "indicator-scored_by": "street"})  # fmt: skip
    browser.find_element(By.ID, "add-indicator").click()
    wait_for_text(browser, ".indicators", "工作制度健全")
    browser.find_element(By.ID, "open-period").click()  # the page of its checks
    wait_for_text(browser, "#pre-checks", "指标分值合计 100 分")
    browser.find_element(By.ID, "confirm-step").click()
    wait_for_text(browser, ".messages", "各社区目标已确定")
    period = Period.objects.get()

    # The community logs its work: two activities, the target for its three members.
    for index in range(2):
        activity_services.activity_create(
            actor=community_user,
            data={"type": ActivityType.objects.get(code="consultation"), "title": f"座谈{index}",
                  "starts_at": timezone.now() - datetime.timedelta(days=index),
                  "area": areas["140106001001"]},
        )  # fmt: skip
    log_out(browser)
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/")
    wait_for_text(browser, ".assessment-progress", "开展活动")
    assert browser.find_element(By.ID, "assessment-total").text == "60.00"

    # The other communities' hand scores are in; the street scores this one with its evidence.
    score_everywhere(admin_user, period.indicators.get(kind="scored"), 0, "未建立制度")
    log_out(browser)
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/assessment/{period.pk}/140106001001/")
    fill(browser, {"points": "35", "evidence": "制度上墙，台账齐全"})
    browser.find_element(By.ID, "save-score").click()
    wait_for_text(browser, ".messages", "评分已保存")
    assert browser.find_element(By.ID, "total-score").text == "95.00"
    screenshot("scored")

    # The district finalizes and downloads the results.
    log_out(browser)
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/assessment/{period.pk}/")
    browser.find_element(By.ID, "finalize-period").click()
    wait_for_text(browser, "#grades-preview", "优秀 1")
    browser.find_element(By.ID, "confirm-step").click()
    wait_for_text(browser, ".messages", "已定稿并锁定")
    wait_for_text(browser, ".standings", "优秀")
    screenshot("finalized")
    href = browser.find_element(By.ID, "export-results").get_attribute("href")
    data = base64.b64decode(browser.execute_async_script(FETCH, href))
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    best = rows[2]
    assert best[:3] == ("桥东一社区", "柳巷街道", 95) and "优秀" in best
    assert Period.objects.get().state == Period.State.FINAL
