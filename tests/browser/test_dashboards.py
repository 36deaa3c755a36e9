"""Each role's dashboard in a desktop and a phone window: charts drawn, nothing overflows."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboards.tests.conftest import build_world

from .conftest import DESKTOP, PHONE
from .helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# How much of each chart's canvas is not blank, read back from the browser.
DRAWN = """
return Array.from(document.querySelectorAll('.chart:not([hidden])')).map(function (element) {
  var canvas = element.querySelector('canvas');
  if (!canvas || !canvas.width) return [element.dataset.chart, 0];
  var pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  var inked = 0;
  for (var i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
  return [element.dataset.chart, inked / (canvas.width * canvas.height)];
});
"""


@pytest.mark.parametrize(
    ("username", "charts"),
    [
        ("alice", 8),  # the community: no table of areas below it
        ("charlie", 9),
        ("erin", 9),
        ("grace", 9),
    ],
)
def test_each_roles_dashboard_draws_its_charts(
    browser, live_server, areas, community_user, street_user, district_user,
    other_district_user, admin_user, screenshot, username, charts,
):  # fmt: skip
    build_world(areas, street_user, district_user, other_district_user)
    log_in(browser, live_server, username)
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/")
        WebDriverWait(browser, 15).until(
            lambda driver: (
                len(driver.execute_script(DRAWN)) >= charts
                and all(share > 0.002 for _chart, share in driver.execute_script(DRAWN))
            )
        )
        drawn = dict(browser.execute_script(DRAWN))
        assert len(drawn) == charts, drawn
        page = browser.find_element(By.TAG_NAME, "main").text
        for words in ("在册统战对象", "按类别统计", "按年龄", "每月活动", "待办诉求"):
            assert words in page
        assert "Registered members" not in page
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)
