"""A 不合格 community's rectification through to acceptance: the district sends the notice,
the community reports with evidence on a phone, the street passes it on, the district returns
it once, the community reports again, the street passes it on again and the district accepts,
the street and the district each confirming their one-way step first;
the district's table then shows 已验收. Pages at desktop and phone width, none wider than the
window."""

import pytest
from selenium.webdriver.common.by import By

from followup.models import Rectification
from followup.tests.conftest import PDF, published_period

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OVERFLOW = "return document.documentElement.scrollWidth - window.innerWidth"


def test_a_failing_communitys_rectification_through_to_acceptance(
    browser, live_server, areas, community_user, street_user, district_user, screenshot,
    tmp_path,
):  # fmt: skip
    period = published_period(areas, district_user)
    table = f"{live_server.url}/followup/periods/{period.pk}/"

    def look(name):
        """Screenshots at both widths; nothing wider than the window; the page in Chinese."""
        for size, width in ((DESKTOP, "desktop"), (PHONE, "phone")):
            browser.set_window_size(*size)
            overflow = browser.execute_script(OVERFLOW)
            assert overflow <= 0, f"{name} ({width}): {overflow}px wider than the window"
            screenshot(f"{name}-{width}")
        browser.set_window_size(*DESKTOP)

    def as_user(username):
        browser.delete_all_cookies()
        browser.set_window_size(*DESKTOP)
        log_in(browser, live_server, username)

    def state_is(text):
        wait_for_text(browser, "#rectification-state", text)

    # The district sends the notices from the period's table, with a deadline.
    as_user("erin")
    browser.get(f"{live_server.url}/assessment/{period.pk}/")
    browser.find_element(By.CSS_SELECTOR, "#result-followup a").click()
    wait_for_text(browser, "h1", "考核结果运用")
    assert "还有 2 个需整改的社区未发出整改通知" in browser.find_element(By.ID, "due").text
    look("table-before")
    browser.find_element(By.ID, "notify").click()
    wait_for_text(browser, "#confirm-subject", "桥东一社区")
    assert "五一二社区" not in browser.find_element(By.ID, "confirm-subject").text
    notice = browser.find_element(By.NAME, "notice")
    notice.clear()
    notice.send_keys("台账不全、活动开展不足，限期整改。")
    look("notify")
    browser.find_element(By.ID, "confirm").click()
    wait_for_text(browser, "#rectifications", "桥东一社区")
    assert "整改中" in browser.find_element(By.ID, "rectifications").text
    rectification = Rectification.objects.get(community=areas["140106001001"])
    detail = f"{live_server.url}/followup/{rectification.pk}/"

    # The community finds it on its home page and reports on a phone, with a photo of it.
    as_user("alice")
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/")
    browser.find_element(By.CSS_SELECTOR, "#rectifications-on-dashboard a").click()
    state_is("整改中")
    assert "台账不全" in browser.find_element(By.ID, "notice").text
    browser.find_element(By.ID, "report-rectification").click()
    browser.find_element(By.NAME, "report").send_keys("已补齐台账，开展活动 3 次。")
    proof = tmp_path / "整改台账.pdf"
    proof.write_bytes(PDF)
    browser.find_element(By.NAME, "files").send_keys(str(proof))
    look("report-form")
    browser.find_element(By.ID, "save").click()
    state_is("已报告，待街道审核")
    assert "整改台账.pdf" in browser.find_element(By.ID, "evidence").text
    look("reported")

    # The street checks it and passes it on, confirming first: the community can no longer
    # change its report.
    as_user("charlie")
    browser.get(detail)
    state_is("已报告，待街道审核")
    look("street-check")
    browser.find_element(By.ID, "pass-on").click()
    wait_for_text(browser, "#what-happens", "社区不能再修改整改报告")
    assert "已补齐台账" in browser.find_element(By.ID, "confirm-subject").text
    look("street-pass")
    browser.find_element(By.ID, "confirm").click()
    state_is("街道已审核，待区验收")

    # The district returns it once, with the reason.
    as_user("erin")
    browser.get(detail)
    browser.find_element(By.NAME, "reason").send_keys("活动记录缺少签到表。")
    look("district-check")
    browser.find_element(By.ID, "return-button").click()
    state_is("已退回")

    # The community sees why and reports again: the evidence sent before still counts.
    as_user("alice")
    browser.get(detail)
    assert "活动记录缺少签到表" in browser.find_element(By.ID, "returned-reason").text
    browser.find_element(By.ID, "report-rectification").click()
    report = browser.find_element(By.NAME, "report")
    report.clear()
    report.send_keys("已补签到表。")
    browser.find_element(By.ID, "save").click()
    state_is("已报告，待街道审核")

    as_user("charlie")
    browser.get(detail)
    browser.find_element(By.ID, "pass-on").click()
    wait_for_text(browser, "#confirm-subject", "已补签到表")
    browser.find_element(By.ID, "confirm").click()
    state_is("街道已审核，待区验收")

    # The district accepts it, confirming first; its table shows 已验收.
    as_user("erin")
    browser.get(detail)
    browser.find_element(By.ID, "accept").click()
    wait_for_text(browser, "#what-happens", "不能撤销")
    look("accept")
    browser.find_element(By.ID, "confirm").click()
    state_is("已验收")
    history = browser.find_element(By.CSS_SELECTOR, ".rectification-history").text
    assert history.count("报告整改情况") == 2 and "区退回整改" in history
    look("accepted")
    browser.get(table)
    rows = browser.find_element(By.ID, "rectifications").text
    assert "桥东一社区" in rows and "已验收" in rows
    look("table-after")
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.ACCEPTED
