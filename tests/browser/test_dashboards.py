"""Each role's dashboard in a desktop and a phone window: charts drawn, nothing overflows."""

import os
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboards.tests.conftest import activities_of_every_type, build_world

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
        # Resource matching added two: matches per month and resources by kind.
        ("alice", 10),  # the community: no table of areas below it
        ("charlie", 11),
        ("erin", 11),
        ("grace", 11),
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


# Each chart: its canvas's width and how far it reaches past its card on either side, the
# number of series it draws and the labels of its donut, read back from the browser.
FITS = """
return Array.from(document.querySelectorAll('.chart:not([hidden])')).map(function (element) {
  var card = element.closest('.card').getBoundingClientRect();
  var canvas = element.querySelector('canvas').getBoundingClientRect();
  var option = echarts.getInstanceByDom(element).getOption();
  return {
    chart: element.dataset.chart,
    width: canvas.width,
    past: Math.max(card.left - canvas.left, canvas.right - card.right),
    series: option.series.length,
    label: option.series[0].label && option.series[0].label.formatter,
  };
});
"""


def test_charts_keep_within_their_cards_and_stacks_to_eight_colours(
    browser, live_server, areas, street_user, district_user, other_district_user, screenshot
):
    build_world(areas, street_user, district_user, other_district_user)
    activities_of_every_type(street_user, areas["140106001001"])
    log_in(browser, live_server, "charlie")
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/")
        WebDriverWait(browser, 15).until(
            lambda driver: all(share > 0.002 for _chart, share in driver.execute_script(DRAWN))
        )
        charts = {chart["chart"]: chart for chart in browser.execute_script(FITS)}
        for chart in charts.values():
            assert chart["width"] > 0 and chart["past"] <= 0, (name, chart)
        assert charts["activities"]["series"] == 8  # twelve types: seven and 其他
        # In a narrow card (a phone's, or a column's) the donut shows only the shares on its
        # ring; its names are in the legend.
        sex = charts["sex"]
        assert sex["label"] == ("{d}%" if sex["width"] < 480 else "{b}\n{d}%"), sex
        if folder:
            time.sleep(1.5)  # until the charts have grown to their full height
            for chart in ("activities", "joined", "sex"):
                element = browser.find_element(By.CSS_SELECTOR, f'.chart[data-chart="{chart}"]')
                browser.execute_script("arguments[0].scrollIntoView()", element)
                element.screenshot(f"{folder}/chart-{chart}-{name}.png")
        screenshot(name)
