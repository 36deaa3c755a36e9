"""A community worker registers a member from a phone-sized window."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members.models import Member
from members.tests.factories import id_number_for
from tongzhan.models import AuditEvent

from .helpers import log_in, record_notice, wait_for_text

# Browser tests run against a live server: real transactions, so the reference data from
# the migrations is restored after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def section(browser, slug):
    return browser.find_element(By.CSS_SELECTOR, f'.category-section[data-categories~="{slug}"]')


def test_register_a_democratic_party_member_on_a_phone(
    browser, live_server, community_user, screenshot
):
    log_in(browser, live_server, "alice")
    assert "统战信息库" in browser.title
    browser.get(f"{live_server.url}/members/new/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "登记统战对象"

    # No category ticked yet: no category section shown.
    assert not section(browser, "democratic_party").is_displayed()
    number = id_number_for()
    browser.find_element(By.NAME, "name").send_keys("周明远")
    browser.find_element(By.NAME, "id_number").send_keys(number.lower())
    Select(browser.find_element(By.NAME, "ethnicity")).select_by_visible_text("汉族")
    Select(browser.find_element(By.NAME, "political_status")).select_by_visible_text(
        "中国民主同盟盟员"
    )
    tick = 'input[name=categories][value="democratic_party"]'
    browser.find_element(By.CSS_SELECTOR, tick).click()
    assert section(browser, "democratic_party").is_displayed()
    assert not section(browser, "religious").is_displayed()
    browser.find_element(By.NAME, "party_post").send_keys("支部委员")
    browser.find_element(By.NAME, "phone").send_keys("139 0351 2468")
    record_notice(browser)  # told on registering (告知): handed the notice letter
    screenshot("form")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    # The detail page: masked numbers, the party section, the history.
    wait_for_text(browser, "h1", "周明远")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert number[:6] + "********" + number[-4:] in page
    assert number not in page
    assert "支部委员" in page and "新增登记" in page
    screenshot("detail")

    browser.find_element(By.XPATH, "//button[contains(., '显示完整')]").click()
    wait_for_text(browser, "main", number)
    member = Member.objects.get(name="周明远")
    assert AuditEvent.objects.filter(action="reveal", object_id=str(member.pk)).count() == 1
