"""Assessment pages: set-up by the district, scoring by the right role, who sees what."""

import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessment import services
from assessment.models import Indicator, Period, Target
from tongzhan.tests.libreoffice import csv_rows, needs_libreoffice

from .conftest import YEAR, hold_activities, populate, score_everywhere

pytestmark = pytest.mark.django_db


def test_the_district_sets_up_and_opens_a_period(client, areas, district_user):
    populate(areas["140106001001"], 3)
    client.force_login(district_user)
    response = client.post(
        reverse("assessment:create"),
        {"name": f"{YEAR}年度", "starts_on": f"{YEAR}-01-01", "ends_on": f"{YEAR}-12-31",
         "excellent_from": "90", "good_from": "80", "pass_from": "60", "model_communities": "2"},
    )  # fmt: skip
    period = Period.objects.get()
    assert response.url == reverse("assessment:detail", args=[period.pk])
    assert period.district == areas["140106"]
    page = reverse("assessment:detail", args=[period.pk])
    refused = client.post(
        page,
        {"indicator-name": "开展活动", "indicator-kind": "measured",
         "indicator-metric": "activities", "indicator-weight": "60",
         "indicator-rule": "tiers", "indicator-tiers": "5:2, 0:1", "indicator-cap": "1"},
    )  # fmt: skip
    assert "第一档须从 0 人开始" in refused.content.decode()
    client.post(
        page,
        {"indicator-name": "开展活动", "indicator-kind": "measured",
         "indicator-metric": "activities", "indicator-weight": "60",
         "indicator-rule": "tiers", "indicator-tiers": "0：1，3：2", "indicator-cap": "1",
         "indicator-sort_order": "0"},
    )  # fmt: skip
    indicator = Indicator.objects.get()
    assert indicator.tiers == [[0, "1"], [3, "2"]]
    # 60 points in all: the confirmation page says so, and opening is refused.
    opening = reverse("assessment:open", args=[period.pk])
    confirm = client.get(opening).content.decode()
    assert "合计 60 分" in confirm and 'id="confirm-step"' not in confirm
    refused = client.post(opening, follow=True).content.decode()
    assert "合计 60 分" in refused
    assert Period.objects.get().state == Period.State.DRAFT
    client.post(
        page,
        {"indicator-name": "工作制度健全", "indicator-kind": "scored",
         "indicator-weight": "40", "indicator-scored_by": "street", "indicator-cap": "1"},
    )  # fmt: skip
    confirm = client.get(opening).content.decode()
    assert 'id="confirm-step"' in confirm and "3 个社区" in confirm
    client.post(opening)
    assert Target.objects.get(community=areas["140106001001"]).value == 2
    html = client.get(page).content.decode()
    assert "桥东一社区" in html and "府东一社区" in html  # every community of the district


@pytest.fixture
def running(areas, period, indicators, district_user, street_user):
    populate(areas["140106001001"], 3)
    populate(areas["140106001002"], 1)
    services.period_open(actor=district_user, period=period)
    hold_activities(street_user, areas["140106001001"], 1)
    hold_activities(street_user, areas["140106001002"], 2)
    return period


def test_a_community_sees_only_its_own_results_until_the_ranking_is_published(
    client, areas, running, indicators, community_user, district_user, other_district_user,
    admin_user,
):  # fmt: skip
    client.force_login(community_user)
    page = client.get(reverse("assessment:detail", args=[running.pk]))
    assert [row.community.name for row in page.context["rows"]] == ["桥东一社区"]
    assert not page.context["whole_ranking"] and "街道内排名" not in page.content.decode()
    other = reverse("assessment:community", args=[running.pk, "140106001002"])
    assert client.get(other).status_code == 404
    export = load_workbook(
        io.BytesIO(client.get(reverse("assessment:export", args=[running.pk])).content)
    )
    assert [row[0] for row in export.active.iter_rows(min_row=3, values_only=True)] == [
        "桥东一社区"
    ]
    client.force_login(district_user)
    score_everywhere(admin_user, indicators["system"], 20)
    services.period_finalize(actor=district_user, period=running)
    client.force_login(community_user)
    assert client.get(other).status_code == 404  # final, not yet published
    services.period_publish(actor=district_user, period=running)
    page = client.get(reverse("assessment:detail", args=[running.pk]))
    assert len(page.context["rows"]) == 3 and "街道内排名" in page.content.decode()
    assert client.get(other).status_code == 200
    client.force_login(other_district_user)
    assert client.get(reverse("assessment:detail", args=[running.pk])).status_code == 404


@needs_libreoffice
def test_an_indicator_named_like_a_formula_shows_as_written(
    client, running, indicators, district_user, tmp_path
):
    Indicator.objects.filter(pk=indicators["activities"].pk).update(name="=1+1")
    client.force_login(district_user)
    content = client.get(reverse("assessment:export", args=[running.pk])).content
    sheet = load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    title, heading = csv_rows(content, tmp_path)[:2]
    assert title[0] == f"迎泽区{YEAR}年度考核结果"
    assert "=1+1：目标值" in heading and "=1+1：得分" in heading


def test_hand_scores_are_entered_on_the_community_page_by_the_right_role(
    client, areas, running, indicators, street_user, community_user, district_user
):
    url = reverse("assessment:community", args=[running.pk, "140106001001"])
    system = indicators["system"]
    client.force_login(community_user)
    page = client.get(url)
    assert page.status_code == 200 and 'id="save-score"' not in page.content.decode()
    posted = {"indicator": system.pk, "points": "30", "evidence": "制度上墙"}
    assert client.post(url, posted).status_code == 403
    client.force_login(street_user)
    page = client.get(url).content.decode()
    assert 'id="save-score"' in page
    assert f'<option value="{system.pk}"' in page
    assert f'<option value="{indicators["innovation"].pk}"' not in page  # a district item
    assert client.post(url, {**posted, "points": "45"}).status_code == 200  # over the points
    response = client.post(url, posted, follow=True)
    assert "已保存" in response.content.decode()
    assert response.context["standing"].total == D("60.00")  # 30 (1 of a target of 2) + 30
    client.force_login(district_user)
    assert client.post(url, posted).status_code == 403  # a street item


def test_the_community_dashboard_shows_the_same_progress_as_the_assessment_page(
    client, running, community_user
):
    client.force_login(community_user)
    home = client.get(reverse("home"))
    page = client.get(reverse("assessment:community", args=[running.pk, "140106001001"]))

    def lines(standing):
        return [
            (line.indicator.pk, line.target, line.actual, line.score) for line in standing.lines
        ]

    on_home = lines(home.context["assessment_standing"])
    on_page = lines(page.context["standing"])
    assert on_home == on_page
    assert on_home[0][1:] == (2, 1, D("30.00"))  # target 2 for 3 members, 1 held
    assert 'id="assessment-total"' in home.content.decode()


def test_only_district_staff_open_finalize_and_publish(
    client, areas, period, indicators, street_user
):
    client.force_login(street_user)
    for name in ("open", "finalize", "publish"):
        assert client.post(reverse(f"assessment:{name}", args=[period.pk])).status_code == 403
    assert client.get(reverse("assessment:create")).status_code == 403
    period.refresh_from_db()
    assert period.state == Period.State.DRAFT


def test_a_hand_score_carries_an_evidence_file_served_within_scope(
    client, areas, running, indicators, street_user, neighbour_user, community_user, settings,
    tmp_path,
):  # fmt: skip
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    url = reverse("assessment:community", args=[running.pk, "140106001001"])
    posted = {"indicator": indicators["system"].pk, "points": "30", "evidence": "制度上墙"}
    client.force_login(street_user)
    program = SimpleUploadedFile("制度.jpg", b"MZ\x90\x00" + b"\x00" * 100, "image/jpeg")
    refused = client.post(url, {**posted, "evidence_file": program})
    assert refused.status_code == 200 and "不是照片" in refused.content.decode()
    pdf = SimpleUploadedFile("制度汇编.pdf", b"%PDF-1.7\n" + b"0" * 100, "application/pdf")
    page = client.post(url, {**posted, "evidence_file": pdf}, follow=True)
    [line] = [line for line in page.context["standing"].lines if line.evidence_url]
    served = client.get(line.evidence_url)
    assert served.status_code == 200 and b"".join(served.streaming_content).startswith(b"%PDF")
    client.force_login(community_user)  # its own community's evidence
    assert client.get(line.evidence_url).status_code == 200
    client.force_login(neighbour_user)  # not the neighbour's, before the ranking is published
    assert client.get(line.evidence_url).status_code == 404
