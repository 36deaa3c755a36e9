"""What the charts draw: at most eight colours in a stack, this month marked as not over."""

import json

import pytest
from django.urls import reverse

from dashboards.stats import MAX_SERIES, Dashboard, fold_series
from dashboards.tests.conftest import activities_of_every_type
from dashboards.views import charts


def test_a_stack_keeps_the_biggest_series_and_sums_the_rest_as_other():
    series = [(f"类型{n}", [n, 0, 1]) for n in range(1, 13)] + [("空", [0, 0, 0])]
    folded = fold_series(series)
    assert len(folded) == MAX_SERIES == 8
    # The seven biggest in their own order, then 其他 with the five smallest summed.
    assert [name for name, _values in folded] == [f"类型{n}" for n in range(6, 13)] + ["其他"]
    assert folded[-1][1] == [1 + 2 + 3 + 4 + 5, 0, 5]
    assert [sum(month) for month in zip(*(v for _n, v in folded), strict=True)] == [78, 0, 12]


def test_a_type_called_other_goes_into_the_sum_of_the_rest():
    series = [("其他", [100])] + [(f"类型{n}", [n]) for n in range(1, 10)]
    folded = fold_series(series)
    assert [name for name, _values in folded].count("其他") == 1
    assert dict(folded)["其他"] == [100 + 1 + 2]
    assert fold_series(series[:8]) == series[:8]  # eight fit: nothing is folded


@pytest.mark.django_db
def test_the_activity_stack_has_eight_colours_and_the_same_totals(
    client, areas, street_user, world
):
    activities_of_every_type(street_user, areas["140106001001"])
    client.force_login(street_user)
    response = client.get(reverse("home"))
    dashboard = response.context["dashboard"]
    stack = response.context["charts"]["activities"]
    assert len(stack["series"]) == 8
    assert stack["series"][-1]["name"] == "其他"
    per_month = [
        sum(values) for values in zip(*(item["values"] for item in stack["series"]), strict=True)
    ]
    assert per_month == [row.count for row in dashboard.activities_by_month]
    # The table under the chart keeps every type, and adds up to the same.
    assert len(dashboard.activities_by_type) == 12
    assert sum(row.count for row in dashboard.activities_by_type) == sum(per_month)
    assert sum(per_month) == 3 + 78 + 1  # the world's three, 1 + 2 + … + 12, this month's one


@pytest.mark.django_db
def test_this_month_is_marked_as_not_over(client, street_user, world):
    client.force_login(street_user)
    response = client.get(reverse("home"))
    months = Dashboard(street_user).months
    drawn = json.loads(
        response.content.decode().split('id="dashboard-charts" type="application/json">')[1]
        .split("</script>")[0]
    )  # fmt: skip
    for name in ("activities", "joined"):
        assert drawn[name]["current"] == months[-1] == drawn[name]["labels"][-1]
        assert drawn[name]["current_label"] == "本月（截至今日）"
    assert charts(Dashboard(street_user))["sex"].get("current") is None
