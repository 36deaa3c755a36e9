"""Headless Chromium for browser tests (Debian's chromium and chromium-driver).

Without them the tests are skipped on a developer's machine; under CI they fail instead,
so a missing install cannot pass as green.
"""

import os
import shutil
from pathlib import Path

import pytest

PHONE = (390, 844)
DESKTOP = (1280, 900)


@pytest.fixture
def browser():
    from selenium import webdriver

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not (chromium and driver_path):
        message = "needs Debian's chromium and chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--lang=en-US",  # the interface must still be Chinese
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(driver_path), options=options)
    driver.set_window_size(*PHONE)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(browser, request):
    """Save a screenshot under $SCREENSHOT_DIR (if set) for a person to look at."""

    def take(name: str) -> None:
        folder = os.environ.get("SCREENSHOT_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(folder) / f"{request.node.name}-{name}.png"))

    return take
