"""The statistical reports: laid out as offices file them, with the right totals."""

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities.models import ActivityType
from dashboards.forms import PRESETS
from tongzhan.models import Area, AuditEvent
from tongzhan.tests.libreoffice import csv_rows, needs_libreoffice

pytestmark = pytest.mark.django_db


def download(client, key, **period):
    response = client.get(reverse("dashboards:report", args=[key]), period)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return response.content


def table(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_members_by_area_and_category(client, world, street_user):
    client.force_login(street_user)
    data = download(client, "members")
    rows = table(data)
    assert rows[0][0] == "柳巷街道统战对象分类统计表"
    assert rows[1][0] == "填报单位：柳巷街道" and rows[1][-1] == "单位：人"
    assert rows[2][:3] == ["区域", "统战对象总数（去重）", "民主党派成员"]
    body = {row[0]: row[1:] for row in rows[4:7]}
    assert list(body) == ["桥东一社区", "五一二社区", "合计"]
    assert body["桥东一社区"][0] == 3 and body["五一二社区"][0] == 2
    pairs = zip(body["桥东一社区"], body["五一二社区"], strict=True)
    assert body["合计"] == [a + b for a, b in pairs]
    # 少数民族人士 is the fourth category; each member is counted in each of theirs.
    assert body["合计"][4] == 1 and sum(body["合计"][1:]) > body["合计"][0]
    sheet = load_workbook(io.BytesIO(data)).active
    merged = {str(cells) for cells in sheet.merged_cells.ranges}
    assert {"A1:O1", "A3:A4", "B3:B4"} <= merged
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.detail["report"] == "members" and event.detail["rows"] == 2


def test_activities_and_needs_by_area_for_a_period(client, world, district_user):
    client.force_login(district_user)
    today = timezone.localdate()
    rows = table(download(client, "activities", since=f"{today:%Y}-01-01", until=f"{today}"))
    assert rows[2][1] == "合计" and rows[3][1:3] == ["活动次数", "服务群众人次"]
    body = {row[0]: row[1:] for row in rows[4:] if row[0] and not row[0].startswith("制表")}
    # Streets, then the district's own joint activity; the neighbouring district's is not here.
    assert list(body) == ["柳巷街道", "文庙街道", "迎泽区（本级）", "合计"]
    assert body["柳巷街道"][:2] == [2, 60] and body["迎泽区（本级）"][:2] == [1, 30]
    assert body["合计"][:2] == [3, 90]
    empty = table(download(client, "activities", since="2001-01-01", until="2001-12-31"))
    assert "统计时段：2001-01-01 至 2001-12-31" in empty[1]
    assert [row[1] for row in empty if row[0] == "合计"] == [0]

    rows = table(download(client, "needs", since=f"{today:%Y}-01-01", until=f"{today}"))
    assert rows[2][1] == "合计" and rows[3][1:5] == ["待办", "办理中", "已办结", "无法办理"]
    total = next(row for row in rows if row[0] == "合计")
    assert total[1:5] == [1, 0, 1, 0]  # one open (the overdue one), one resolved


def test_needs_count_in_the_period_they_were_raised_in_not_the_day_they_were_entered(
    client, world, district_user
):
    # The overdue need was raised 33 days ago (提出时间) and entered today.
    client.force_login(district_user)
    today = timezone.localdate()
    raised = today - datetime.timedelta(days=33)
    rows = table(download(client, "needs", since=f"{raised}", until=f"{raised}"))
    total = next(row for row in rows if row[0] == "合计")
    assert total[1:5] == [1, 0, 0, 0]
    rows = table(download(client, "needs", since=f"{raised + datetime.timedelta(days=1)}",
                          until=f"{today}"))  # fmt: skip
    total = next(row for row in rows if row[0] == "合计")
    assert total[1:5] == [0, 0, 1, 0]  # only the one raised (and resolved) today


def test_reports_are_scoped_and_need_the_view_permission(client, world, community_user):
    client.force_login(community_user)
    rows = table(download(client, "members"))
    assert [row[0] for row in rows[4:6]] == ["桥东一社区", "合计"]
    assert client.get(reverse("dashboards:report", args=["nothing"])).status_code == 404
    client.logout()
    assert client.get(reverse("dashboards:report", args=["members"])).status_code == 302


@needs_libreoffice
def test_libreoffice_opens_the_report_and_reads_the_totals(client, world, district_user, tmp_path):
    client.force_login(district_user)
    rows = csv_rows(download(client, "members"), tmp_path)
    assert rows[0][0] == "迎泽区统战对象分类统计表"
    totals = next(row for row in rows if row[0] == "合计")
    streets = [row for row in rows if row[0] in ("柳巷街道", "文庙街道")]
    assert int(totals[1]) == 7 == sum(int(row[1]) for row in streets)


@needs_libreoffice
def test_names_that_look_like_formulas_show_as_written(client, world, district_user, tmp_path):
    Area.objects.filter(code="140106001").update(name="=2*21")
    ActivityType.objects.filter(code="consultation").update(name='=HYPERLINK("http://x","y")')
    client.force_login(district_user)
    today = timezone.localdate()
    content = download(client, "activities", since=f"{today:%Y}-01-01", until=f"{today}")
    sheet = load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    rows = csv_rows(content, tmp_path)
    assert '=HYPERLINK("http://x","y")' in rows[2]
    streets = {row[0]: row[1:3] for row in rows[4:]}
    assert streets["=2*21"] == ["2", "60"]  # the street's row, not 42
    assert streets["合计"] == ["3", "90"]  # totals are numbers


def test_the_reports_page_is_one_form_whose_buttons_download_each_report(client, street_user):
    client.force_login(street_user)
    page = client.get(reverse("dashboards:reports"), {"since": "2026-01-01", "until": "2026-06-30"})
    html = page.content.decode()
    assert "统战对象分类统计表" in html and "诉求办理情况统计表" in html
    main = html[html.index("<main") : html.index("</main>")]
    assert main.count("<form") == 1
    assert 'name="report" value="activities"' in html and "设定时段" not in html
    assert 'value="2026-06-30"' in html and page.context["form"].is_valid()


def test_the_file_is_of_the_days_on_the_screen_changed_in_the_same_request(
    client, world, district_user
):
    """The dates changed on the page, then a download button pressed at once: one request
    with the new days and the report, and the file is of those days."""
    client.force_login(district_user)
    response = client.get(
        reverse("dashboards:reports"),
        {"since": "2001-01-01", "until": "2001-12-31", "report": "activities"},
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "20010101-20011231" in response["Content-Disposition"]
    rows = table(response.content)
    assert "统计时段：2001-01-01 至 2001-12-31" in rows[1]
    assert [row[1] for row in rows if row[0] == "合计"] == [0]
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert (event.detail["since"], event.detail["until"]) == ("2001-01-01", "2001-12-31")


@pytest.mark.parametrize(
    ("today", "preset", "since", "until"),
    [
        ("2026-11-30", "this_month", "2026-11-01", "2026-11-30"),
        ("2028-02-10", "this_month", "2028-02-01", "2028-02-29"),
        ("2026-11-30", "this_quarter", "2026-10-01", "2026-12-31"),
        ("2026-02-15", "this_quarter", "2026-01-01", "2026-03-31"),
        ("2026-05-31", "this_quarter", "2026-04-01", "2026-06-30"),
        ("2026-11-30", "first_half", "2026-01-01", "2026-06-30"),
        ("2026-11-30", "this_year", "2026-01-01", "2026-12-31"),
        ("2026-11-30", "last_year", "2025-01-01", "2025-12-31"),
        ("2026-01-01", "last_year", "2025-01-01", "2025-12-31"),
    ],
)
def test_presets_are_whole_periods(today, preset, since, until):
    day = datetime.date.fromisoformat
    assert PRESETS[preset].days(day(today)) == (day(since), day(until))


def test_a_preset_fills_in_its_days_and_shows_as_chosen(client, street_user, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2026, 11, 30))
    client.force_login(street_user)
    page = client.get(reverse("dashboards:reports"), {"preset": "this_quarter"})
    html = page.content.decode()
    assert 'value="2026-10-01"' in html and 'value="2026-12-31"' in html
    assert page.context["current_preset"] == "this_quarter"
    for label in ("本月", "本季度", "上半年", "本年", "上年"):
        assert f">{label}</a>" in html
    assert 'href="?preset=last_year"' in html
    # The same days typed by hand are that preset too.
    page = client.get(reverse("dashboards:reports"), {"since": "2025-01-01", "until": "2025-12-31"})
    assert page.context["current_preset"] == "last_year"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"since": "1800-01-01", "until": "2026-01-31"}, "since", "1900-01-01"),
        ({"since": "2026-01-01", "until": "2026-13-01"}, "until", "有效的日期"),
        ({"since": "2026-06-01", "until": "2026-01-31"}, "until", "截止日期早于起始日期"),
        ({"since": "", "until": "2026-01-31"}, "since", "这个字段是必填项"),
    ],
)
def test_wrong_days_download_nothing_and_say_why_by_the_field(
    client, street_user, query, field, message
):
    client.force_login(street_user)
    page = client.get(reverse("dashboards:reports"), {**query, "report": "activities"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    errors = page.context["form"].errors
    assert list(errors) == [field] and message in " ".join(errors[field])
    assert message in page.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()
    # A report's own address with such days sends the user back to the page that says why.
    response = client.get(reverse("dashboards:report", args=["activities"]), query)
    assert response.status_code == 302 and response.url.startswith(reverse("dashboards:reports"))
