"""The comparison table of streets and communities (issue 13)."""

import io

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from dashboards.stats import Dashboard
from tongzhan.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = reverse("dashboards:compare")
EXPORT = reverse("dashboards:compare_export")


def table(response) -> dict[str, list[str]]:
    """area code → the cells of its row, as the page shows them."""
    tree = html.fromstring(response.content)
    return {
        row.get("data-code"): [cell.text_content().strip() for cell in row.xpath("th|td")]
        for row in tree.xpath("//table[contains(@class, 'compare')]/tbody/tr")
    }


def test_a_district_sees_each_street_with_the_dashboards_numbers(client, world, district_user):
    client.force_login(district_user)
    response = client.get(URL)
    assert response.status_code == 200
    rows = table(response)
    by_area = Dashboard(district_user).by_area
    assert list(rows) == [row.extra["code"] for row in by_area]
    for row in by_area:
        cells = rows[row.extra["code"]]
        assert cells[0] == row.label
        assert cells[1] == str(row.count)
        assert cells[2] == str(row.extra["activities"])
        assert cells[4] == str(row.extra["visits"])
        assert cells[6] == str(row.extra["needs_resolved"])
    liuxiang = rows["140106001"]
    # 柳巷 made one visit and resolved one need: their rates per 100 of its members.
    members = int(liuxiang[1])
    assert members > 0
    assert liuxiang[4] == "1" and liuxiang[6] == "1"
    assert liuxiang[5] == str(round(100 / members, 1))
    assert liuxiang[7] == str(round(100 / members, 1))
    assert "140105001" not in rows  # the neighbouring district's street
    assert f'href="{URL}?area=140106001"' in response.content.decode()


def test_a_street_drills_down_to_its_communities(client, world, district_user, street_user):
    client.force_login(district_user)
    response = client.get(URL, {"area": "140106001"})
    assert response.status_code == 200
    rows = table(response)
    assert set(rows) == {"140106001001", "140106001002"}
    # The street user's own page shows the same communities with the same numbers.
    client.force_login(street_user)
    assert table(client.get(URL)) == rows


@pytest.mark.parametrize("code", ["140105001", "140106001001", "nonsense"])
def test_an_area_out_of_scope_or_not_a_street_is_not_found(client, world, district_user, code):
    client.force_login(district_user)
    assert client.get(URL, {"area": code}).status_code == 404
    assert client.get(EXPORT, {"area": code}).status_code == 404


def test_a_street_user_cannot_drill_into_another_street(client, world, street_user):
    client.force_login(street_user)
    assert client.get(URL, {"area": "140106002"}).status_code == 404


def test_a_community_has_nothing_to_compare(client, world, community_user):
    client.force_login(community_user)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_the_open_assessment_score_is_shown(client, world, district_user, monkeypatch):
    import decimal

    from dashboards import compare

    class Standing:
        def __init__(self, community, total):
            self.community, self.total = community, decimal.Decimal(total)

    from tongzhan.models import Area

    qiaodong = Area.objects.get(code="140106001001")
    wuyier = Area.objects.get(code="140106001002")
    monkeypatch.setattr(
        compare, "standings", lambda period: [Standing(qiaodong, 80), Standing(wuyier, 91)]
    )
    monkeypatch.setattr(compare.Comparison, "_open_period", lambda self, user: object())
    client.force_login(district_user)
    assert table(client.get(URL))["140106001"][9] == "85.5"
    assert table(client.get(URL, {"area": "140106001"}))["140106001002"][9] == "91.0"


def test_the_export_reads_back_as_the_page(client, world, district_user):
    client.force_login(district_user)
    response = client.get(EXPORT, {"area": "140106001"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.cell(1, 1).value == "柳巷街道各社区对比"
    assert sheet.cell(2, 2).value == "在册统战对象"
    page = table(client.get(URL, {"area": "140106001"}))
    got = {}
    for row in sheet.iter_rows(min_row=3, values_only=True):
        got[row[0]] = row
    for cells in page.values():
        values = got[cells[0]]
        assert values[1] == int(cells[1])
        assert values[4] == int(cells[4])
        assert isinstance(values[1], int)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).latest("id")
    assert event.detail["report"] == "compare" and event.detail["rows"] == 2
