"""What the browser tests share: logging in and waiting for a page to show something."""

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import PASSWORD


def log_in(browser, live_server, username):
    browser.get(f"{live_server.url}/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # Logged in once the page shows the account menu (waits for the redirect to finish).
    browser.find_element(By.CSS_SELECTOR, ".account")


def wait_for_text(browser, selector, text, timeout=15):
    """Wait until the element at `selector` shows `text` (across page loads)."""
    # The page may be replaced while we look: an element can go stale between two reads, or
    # Chromium may answer for a node of the page being replaced ("Node with given id does not
    # belong to the document"); either is read again until the timeout.
    WebDriverWait(
        browser, timeout, ignored_exceptions=[StaleElementReferenceException, WebDriverException]
    ).until(lambda driver: text in driver.find_element(By.CSS_SELECTOR, selector).text)


def replaced(element):
    """A wait condition: the page holding `element` has been replaced by the next one.

    Chromium answers for an element of a page being unloaded either as stale or with "Node
    with given id does not belong to the document"; both mean it is gone."""

    def gone(_driver) -> bool:
        try:
            element.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            return True
        return False

    return gone


def record_notice(browser, how="告知书当面送达", day="2026-03-05"):
    """Fill the member form's notice (告知): how and the day. The day is set as the date
    input's value, which reads the same whatever the browser's locale."""
    Select(browser.find_element(By.NAME, "informed_how")).select_by_visible_text(how)
    field = browser.find_element(By.NAME, "informed_on")
    browser.execute_script("arguments[0].value = arguments[1]", field, day)
