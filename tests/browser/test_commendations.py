"""A 最美居民 campaign from nomination to publication: the district names it, a community
nominates a member and a resident who is not one, the street recommends both (confirming each,
going back once to change the opinion), the district ends the nominating and decides (each
confirmed) and publishes, and the member's page shows the commendation. On a phone, and the
campaign's page once more at desktop width."""

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from commendations.models import Campaign, Nomination

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


def switch_to(browser, live_server, username):
    browser.delete_all_cookies()
    log_in(browser, live_server, username)


def choose(browser, name, value):
    browser.find_element(By.CSS_SELECTOR, f'input[name={name}][value="{value}"]').click()


def test_a_most_beautiful_resident_campaign_from_nomination_to_publication(
    browser, live_server, community_user, street_user, district_user, member, screenshot
):
    # The district names the campaign.
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/commendations/")
    browser.find_element(By.ID, "create-campaign").click()
    wait_for_text(browser, "h1", "新建表彰活动")
    browser.find_element(By.NAME, "title").send_keys("2026年度最美居民评选")
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("最美居民")
    browser.execute_script(
        "document.querySelector('[name=deadline]').value = arguments[0]",
        (datetime.date.today() + datetime.timedelta(days=14)).isoformat(),
    )
    browser.find_element(By.NAME, "quota").send_keys("5")
    assert fits(browser)
    screenshot("campaign-form")
    browser.find_element(By.ID, "save-campaign").click()
    wait_for_text(browser, "#campaign-state", "征集中")
    campaign = Campaign.objects.get()

    # The community nominates one of its members, then a resident who is not one.
    switch_to(browser, live_server, "alice")
    browser.get(f"{live_server.url}/commendations/{campaign.pk}/")
    browser.find_element(By.ID, "nominate").click()
    browser.find_element(By.NAME, "q").send_keys(member.name)
    browser.find_element(By.CSS_SELECTOR, "form.search-bar button").click()
    choose(browser, "member", member.pk)
    browser.find_element(By.NAME, "deeds").send_keys("十年如一日照顾独居老人。")
    assert fits(browser)
    screenshot("nominate-member")
    browser.find_element(By.ID, "save-nomination").click()
    wait_for_text(browser, "#nominations", member.name)
    browser.find_element(By.ID, "nominate").click()
    browser.find_element(By.NAME, "resident_name").send_keys("刘阿姨")
    browser.find_element(By.NAME, "contact").send_keys("13812345678")
    browser.find_element(By.NAME, "deeds").send_keys("义务辅导社区儿童功课。")
    browser.find_element(By.ID, "save-nomination").click()
    wait_for_text(browser, "#nominations", "刘阿姨")
    assert fits(browser)

    # The street recommends both, each on a confirmation page; once it goes back to the form
    # and finds its words kept.
    switch_to(browser, live_server, "charlie")
    for index, nomination in enumerate(Nomination.objects.order_by("pk")):
        browser.get(f"{live_server.url}/commendations/nominations/{nomination.pk}/")
        wait_for_text(browser, "#nomination-state", "待街道审核")
        choose(browser, "decision", "yes")
        browser.find_element(By.NAME, "opinion").send_keys("事迹属实，同意推荐。")
        assert fits(browser)
        screenshot(f"review-{nomination.pk}")
        browser.find_element(By.ID, "save-review").click()
        wait_for_text(browser, "#confirm-subject", "事迹属实，同意推荐。")
        if index == 0:
            assert fits(browser)
            screenshot("review-confirm")
            browser.find_element(By.ID, "back").click()
            wait_for_text(browser, "#review", "街道审核")
            opinion = browser.find_element(By.NAME, "opinion")
            assert opinion.get_attribute("value") == "事迹属实，同意推荐。"
            opinion.send_keys("已走访核实。")
            browser.find_element(By.ID, "save-review").click()
            wait_for_text(browser, "#confirm-subject", "已走访核实。")
        browser.find_element(By.ID, "confirm").click()
        wait_for_text(browser, "#nomination-state", "街道已推荐")

    # The district ends the nominating, decides and publishes.
    switch_to(browser, live_server, "erin")
    browser.get(f"{live_server.url}/commendations/{campaign.pk}/")
    browser.find_element(By.ID, "close-nominating").click()
    wait_for_text(browser, "#what-happens", "还有 14 天")
    assert fits(browser)
    screenshot("close-confirm")
    browser.find_element(By.ID, "confirm").click()
    wait_for_text(browser, "#campaign-state", "评审中")
    member_nomination, resident = Nomination.objects.order_by("pk")
    for nomination, decision in ((member_nomination, "yes"), (resident, "yes")):
        browser.get(f"{live_server.url}/commendations/nominations/{nomination.pk}/")
        choose(browser, "decision", decision)
        browser.find_element(By.NAME, "opinion").send_keys("同意表彰。")
        browser.find_element(By.ID, "save-decision").click()
        wait_for_text(browser, "#confirm-subject", "同意表彰。")
        browser.find_element(By.ID, "confirm").click()
        wait_for_text(browser, "#nomination-state", "受表彰")
    browser.get(f"{live_server.url}/commendations/{campaign.pk}/")
    browser.find_element(By.ID, "publish").click()
    wait_for_text(browser, "#what-happens", "不能撤销")
    assert fits(browser)
    screenshot("publish-confirm")
    browser.find_element(By.ID, "confirm").click()
    wait_for_text(browser, "#campaign-state", "已公布")
    wait_for_text(browser, "#results", "刘阿姨")
    wait_for_text(browser, "#results", member.name)
    assert fits(browser)
    screenshot("published")
    browser.set_window_size(*DESKTOP)
    browser.refresh()
    wait_for_text(browser, "#results", "刘阿姨")
    screenshot("published-desktop")
    browser.get(f"{live_server.url}/commendations/counts/")
    wait_for_text(browser, "#area-140106001", "2")
    screenshot("counts-desktop")
    browser.set_window_size(*PHONE)

    # The community sees the result, and the member's page shows the commendation.
    switch_to(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    wait_for_text(browser, "#commendations", "最美居民")
    assert fits(browser)
    screenshot("member-page")
