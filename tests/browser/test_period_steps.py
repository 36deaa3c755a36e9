"""Opening and finalizing a period in the browser: each step's page shows its checks first,
a period worth 110 points is not opened, and a hand-scored item nobody scored blocks the
finalizing, named with the communities that lack it. Desktop and phone."""

import datetime
from decimal import Decimal as D

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from assessment import services
from assessment.models import Period

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth"


def test_the_checks_before_opening_and_finalizing_a_period(
    browser, live_server, areas, district_user, screenshot
):
    period = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "2026年度",
              "starts_on": datetime.date(2026, 1, 1), "ends_on": datetime.date(2026, 12, 31)},
    )  # fmt: skip
    services.indicator_add(
        actor=district_user, period=period,
        data={"name": "开展活动", "kind": "measured", "metric": "activities", "weight": D(60),
              "rule": "tiers", "tiers": [[0, 1], [3, 2]]},
    )  # fmt: skip
    system = services.indicator_add(
        actor=district_user, period=period,
        data={"name": "工作制度健全", "kind": "scored", "weight": D(50), "scored_by": "street"},
    )  # fmt: skip
    detail = f"{live_server.url}/assessment/{period.pk}/"

    def look(name, focus="main"):
        """Screenshots at both widths, `focus` in view; nothing wider than the window."""
        for size, width in ((DESKTOP, "desktop"), (PHONE, "phone")):
            browser.set_window_size(*size)
            browser.execute_script("document.querySelector(arguments[0]).scrollIntoView()", focus)
            overflow = browser.execute_script(OVERFLOW)
            assert overflow <= 0, f"{name} ({width}): {overflow}px wider than the window"
            screenshot(f"{name}-{width}")
        browser.set_window_size(*DESKTOP)

    browser.set_window_size(*DESKTOP)
    log_in(browser, live_server, "erin")
    browser.get(detail)
    assert "超出 10 分" in browser.find_element(By.ID, "weight-total").text
    # The add form shows the fields of the chosen kind only.
    kind = Select(browser.find_element(By.NAME, "indicator-kind"))
    kind.select_by_value("scored")
    assert not browser.find_element(By.NAME, "indicator-metric").is_displayed()
    assert browser.find_element(By.NAME, "indicator-scored_by").is_displayed()
    kind.select_by_value("measured")
    assert browser.find_element(By.NAME, "indicator-metric").is_displayed()
    assert not browser.find_element(By.NAME, "indicator-scored_by").is_displayed()
    look("setup")

    # 110 points: the page of the step says so, and offers no confirmation.
    browser.find_element(By.ID, "open-period").click()
    wait_for_text(browser, "#pre-checks", "合计 110 分，不是 100 分")
    assert not browser.find_elements(By.ID, "confirm-step")
    look("open-refused", "#pre-checks")

    # Fixed on the indicator's page: 40 points.
    browser.get(detail)
    browser.find_element(
        By.CSS_SELECTOR, f"a[href='/assessment/{period.pk}/indicators/{system.pk}/']"
    ).click()
    weight = browser.find_element(By.NAME, "indicator-weight")
    assert not browser.find_element(By.NAME, "indicator-metric").is_displayed()
    look("indicator-edit")
    weight.clear()
    weight.send_keys("40")
    browser.find_element(By.ID, "save-indicator").click()
    wait_for_text(browser, "#weight-total", "正好 100 分")
    look("setup-exact", "#weight-total")  # the longest form of the total still wraps

    browser.find_element(By.ID, "open-period").click()
    wait_for_text(browser, "#what-happens", "将为全区 3 个社区设定考核目标")
    look("open-confirm")
    assert Period.objects.get().state == Period.State.DRAFT  # looking is not opening
    browser.find_element(By.ID, "confirm-step").click()
    wait_for_text(browser, ".messages", "各社区目标已确定")
    assert Period.objects.get().state == Period.State.OPEN

    # Nobody scored the hand-scored item: finalizing names it and the communities.
    browser.find_element(By.ID, "finalize-period").click()
    wait_for_text(
        browser, "#pre-checks", "工作制度健全：3 个社区未评分：桥东一社区、五一二社区、府东一社区"
    )
    assert "不合格 3" in browser.find_element(By.ID, "grades-preview").text
    assert not browser.find_elements(By.ID, "confirm-step")
    look("finalize-refused", "#pre-checks")
    assert Period.objects.get().state == Period.State.OPEN
