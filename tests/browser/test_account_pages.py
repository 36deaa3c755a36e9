"""An administrator of a street, on a phone, creates an account for a community worker,
resets its password and disables it; the disabled account cannot log in and is told why.
The list, the form and the account page fit a phone and a desktop window."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import _user
from tongzhan.models import AuditEvent, User

from .conftest import DESKTOP, PHONE
from .helpers import log_in, replaced, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

INITIAL = "Initial-Pass-2026"  # noqa: S105
TEMPORARY = "Reset-Pass-2027"  # noqa: S105


def fits(browser, name):
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def press(browser, selector):
    button = browser.find_element(By.CSS_SELECTOR, selector)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    return button


def test_an_administrator_creates_resets_and_disables_an_account_on_a_phone(
    browser, live_server, areas, community_user, neighbour_user, street_user, screenshot
):
    _user("kate", User.Role.ADMIN, areas["140106001"], last_name="柯", first_name="特")
    log_in(browser, live_server, "kate")

    # From the menu to the hub and the list.
    browser.find_element(By.LINK_TEXT, "系统管理").click()
    wait_for_text(browser, "h1", "系统管理")
    screenshot("hub-phone")
    browser.find_element(By.CSS_SELECTOR, "#section-accounts a").click()
    wait_for_text(browser, "h1", "账号管理")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.accounts tbody tr")
    assert len(rows) == 4  # alice, bob, charlie, kate: its street's accounts
    fits(browser, "list")
    screenshot("list-phone")

    # A new account for a community worker.
    press(browser, "#account-create")
    wait_for_text(browser, "h1", "新建账号")
    browser.find_element(By.NAME, "username").send_keys("zhaomin")
    browser.find_element(By.NAME, "last_name").send_keys("赵")
    browser.find_element(By.NAME, "first_name").send_keys("敏")
    Select(browser.find_element(By.NAME, "role")).select_by_visible_text("社区统战委员")
    Select(browser.find_element(By.NAME, "area")).select_by_value(str(areas["140106001002"].pk))
    browser.find_element(By.NAME, "password1").send_keys(INITIAL)
    browser.find_element(By.NAME, "password2").send_keys(INITIAL)
    fits(browser, "form")
    screenshot("form-phone")
    old = press(browser, "#account-save")
    WebDriverWait(browser, 15).until(replaced(old))
    wait_for_text(browser, "h1", "赵敏（zhaomin）")
    assert "账号已创建" in browser.find_element(By.CSS_SELECTOR, ".messages").text
    assert browser.find_element(By.ID, "account-area").text == "五一二社区"
    assert browser.find_element(By.ID, "account-must-change").text.startswith("是")
    account = User.objects.get(username="zhaomin")
    assert account.must_change_password and account.area == areas["140106001002"]
    fits(browser, "account page")
    screenshot("account-phone")

    # A temporary password, typed twice.
    press(browser, "#account-reset-password")
    wait_for_text(browser, "h1", "重置密码")
    browser.find_element(By.NAME, "new_password1").send_keys(TEMPORARY)
    browser.find_element(By.NAME, "new_password2").send_keys(TEMPORARY)
    old = press(browser, "#password-save")
    WebDriverWait(browser, 15).until(replaced(old))
    wait_for_text(browser, ".messages", "密码已重置")
    assert User.objects.get(pk=account.pk).check_password(TEMPORARY)

    # Disabling asks first, then says so.
    press(browser, "#account-disable")
    wait_for_text(browser, "h1", "停用账号")
    assert "立即结束" in browser.find_element(By.CSS_SELECTOR, ".decision").text
    assert User.objects.get(pk=account.pk).is_active  # asked, not done
    screenshot("disable-phone")
    old = press(browser, "#account-active-confirm")
    WebDriverWait(browser, 15).until(replaced(old))
    wait_for_text(browser, "#account-state", "已停用")
    assert not User.objects.get(pk=account.pk).is_active
    lines = AuditEvent.objects.filter(object_type="tongzhan.user", object_id=str(account.pk))
    assert [line.action for line in lines.order_by("pk")] == ["create", "update", "update"]

    # The disabled account cannot log in, and is told why.
    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/login/")
    browser.find_element(By.NAME, "username").send_keys("zhaomin")
    browser.find_element(By.NAME, "password").send_keys(TEMPORARY)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for_text(browser, "main", "此账号已停用")
    assert not browser.find_elements(By.CSS_SELECTOR, ".account")

    # The same pages at a desktop's width.
    log_in(browser, live_server, "kate")
    browser.set_window_size(*DESKTOP)
    for name, path in (("hub", "/manage/"), ("list", "/manage/accounts/"),
                       ("form", "/manage/accounts/new/"),
                       ("account", f"/manage/accounts/{account.pk}/"),
                       ("edit", f"/manage/accounts/{account.pk}/edit/")):  # fmt: skip
        browser.get(f"{live_server.url}{path}")
        fits(browser, name)
        screenshot(f"{name}-desktop")
    browser.set_window_size(*PHONE)
