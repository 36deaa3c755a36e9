"""A member's need met through a matched resource, through the browser (issue 17): a community
worker records a member's need for legal advice on a phone; the match page suggests a lawyer of
the street's service group and a law firm stationed in the district, each with why; the match
is made with the lawyer and settled 已落实; the need is resolved, the two-way service ledger
lists it and the dashboard counts one need met through matches."""

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from activities.models import Need
from organisations import services as organisation_services
from organisations.models import Organisation
from organisations.tests.factories import organisation_make
from resources.models import Match
from resources.tests.factories import resource_make

from .conftest import PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DISTRICT, LIUXIANG = "140106", "140106001"


def fits_the_phone(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )


@pytest.fixture
def offers(areas, street_user, district_user, neighbour_member):
    """The street service group's lawyer (of 五一二社区) serving the street, and a law firm
    stationed in the district serving all of it."""
    group = organisation_make(
        street_user, areas[LIUXIANG], name="柳巷街道同心·社会服务团",
        kind=Organisation.Kind.SERVICE_GROUP,
    )  # fmt: skip
    organisation_services.membership_add(
        actor=street_user, organisation=group, member=neighbour_member, role="律师",
        joined_on=timezone.localdate() - datetime.timedelta(days=30),
    )  # fmt: skip
    lawyer = resource_make(
        street_user, member=neighbour_member, title="律师义务法律咨询", capacity=5,
        served=[areas[LIUXIANG]],
    )  # fmt: skip
    firm = organisation_make(district_user, areas[DISTRICT], name="山西迎泽律师事务所")
    law_firm = resource_make(
        district_user, organisation=firm, title="律所公益法律服务", served=[areas[DISTRICT]]
    )
    return lawyer, law_firm


def test_a_legal_need_met_through_the_street_lawyer(
    browser, live_server, community_user, member, offers, screenshot
):
    lawyer, law_firm = offers
    browser.set_window_size(*PHONE)
    log_in(browser, live_server, "alice")

    # The community records 张三's need for legal advice.
    browser.get(f"{live_server.url}/activities/needs/new/?member={member.pk}")
    Select(browser.find_element(By.NAME, "kind")).select_by_value(Need.Kind.LEGAL)
    browser.find_element(By.NAME, "description").send_keys("劳动合同纠纷，想咨询律师（法律咨询）")
    assert fits_the_phone(browser)
    screenshot("need-form")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "main", "劳动合同纠纷")
    need = Need.objects.get(member=member)

    # Its match page, from the members' open needs: the lawyer of the street, then the firm.
    browser.get(f"{live_server.url}/resources/member-needs/")
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/member-needs/{need.pk}/match/']").click()
    wait_for_text(browser, "#suggestions", "律所公益法律服务")
    suggestions = [
        item.text for item in browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion")
    ]
    assert len(suggestions) == 2
    assert "律师义务法律咨询" in suggestions[0] and "同街道 · 法律" in suggestions[0]
    # Of another community: masked to this one.
    assert "李*" in suggestions[0] and "李四" not in suggestions[0]
    assert "律所公益法律服务" in suggestions[1] and "同区 · 法律" in suggestions[1]
    assert "山西迎泽律师事务所" in suggestions[1]
    assert fits_the_phone(browser)
    screenshot("suggestions")

    # Matched with the lawyer…
    first = browser.find_elements(By.CSS_SELECTOR, "#suggestions .suggestion")[0]
    first.find_element(By.NAME, "note").send_keys("约周六上午面谈")
    first.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_text(browser, "main", "已对接")
    match = Match.objects.get(need=need)
    assert match.resource == lawyer and match.state == Match.State.MATCHED

    # …and settled 已落实, one person served.
    browser.find_element(By.CSS_SELECTOR, f"a[href$='/matches/{match.pk}/settle/']").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=state][value=fulfilled]").click()
    served = browser.find_element(By.NAME, "people_served")
    served.clear()
    served.send_keys("1")
    assert fits_the_phone(browser)
    screenshot("settle")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for_text(browser, "main", "已落实")
    assert fits_the_phone(browser)
    screenshot("settled")
    match.refresh_from_db()
    need.refresh_from_db()
    assert match.state == Match.State.FULFILLED and match.people_served == 1
    assert need.status == Need.Status.RESOLVED

    # The need's own page says it is resolved, through the resource.
    browser.get(f"{live_server.url}/activities/needs/{need.pk}/")
    wait_for_text(browser, "main", "已办结")
    assert "律师义务法律咨询" in browser.find_element(By.CSS_SELECTOR, "main").text

    # The two-way service ledger lists it.
    browser.get(f"{live_server.url}/resources/ledger/")
    ledger = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "律师义务法律咨询" in ledger and "已落实" in ledger and "张三" in ledger
    assert fits_the_phone(browser)
    screenshot("ledger")

    # The dashboard counts one need met through matches.
    browser.get(f"{live_server.url}/")
    assert browser.find_element(By.ID, "needs-met-by-matches").text == "1"
    browser.execute_script(
        "document.getElementById('needs-met-by-matches').scrollIntoView({block: 'center'})"
    )
    assert fits_the_phone(browser)
    screenshot("dashboard")
