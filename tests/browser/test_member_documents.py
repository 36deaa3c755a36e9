"""A community worker registers a Hong Kong resident who holds only a 回乡证 (issue 14)."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members.models import Member

from .conftest import DESKTOP, PHONE
from .helpers import log_in, record_notice, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def label_of(browser, name):
    return browser.find_element(By.CSS_SELECTOR, f'label[for="id_{name}"]').text


def fits(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


def test_register_a_hong_kong_resident_with_a_travel_permit(
    browser, live_server, community_user, screenshot
):
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/new/")
    document = Select(browser.find_element(By.NAME, "document_type"))
    country = browser.find_element(By.NAME, "document_country")
    # The ID card by default: its number's label, and no country asked.
    assert label_of(browser, "id_number").startswith("居民身份证号码")
    assert not country.is_displayed()

    document.select_by_visible_text("护照")
    assert label_of(browser, "id_number").startswith("护照号码")
    assert country.is_displayed()
    Select(country).select_by_visible_text("新加坡")
    assert fits(browser)
    screenshot("passport-phone")
    document.select_by_visible_text("港澳居民来往内地通行证")
    assert label_of(browser, "id_number").startswith("港澳居民来往内地通行证号码")
    assert not country.is_displayed()

    browser.find_element(By.NAME, "name").send_keys("陈家明")
    browser.find_element(By.NAME, "id_number").send_keys("h1234567801")
    Select(browser.find_element(By.NAME, "ethnicity")).select_by_visible_text("汉族")
    Select(browser.find_element(By.NAME, "political_status")).select_by_visible_text("群众")
    browser.find_element(By.CSS_SELECTOR, 'input[name=categories][value="hong_kong"]').click()
    record_notice(browser)
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    # The permit does not carry the date of birth or the sex: both are asked for.
    wait_for_text(browser, ".errors", "请")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "该证件号码不含出生日期" in page and "该证件号码不含性别" in page
    assert label_of(browser, "id_number").startswith("港澳居民来往内地通行证号码")
    assert fits(browser)
    screenshot("form-phone")
    browser.set_window_size(*DESKTOP)
    assert fits(browser)
    screenshot("form-desktop")
    browser.set_window_size(*PHONE)

    Select(browser.find_element(By.NAME, "sex")).select_by_visible_text("男")
    birth = browser.find_element(By.NAME, "birth_date")
    browser.execute_script("arguments[0].value = '1968-03-04'", birth)
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    wait_for_text(browser, "h1", "陈家明")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "港澳居民来往内地通行证" in page and "H******78" in page
    assert "H12345678" not in page
    assert fits(browser)
    screenshot("detail-phone")
    browser.set_window_size(*DESKTOP)
    assert fits(browser)
    screenshot("detail-desktop")
    member = Member.objects.get(name="陈家明")
    assert (member.document_type, member.id_number) == ("hm_permit", "H12345678")
