"""The pages of a period's steps: each confirmation page lists its pre-checks and what will
happen, and only the district's staff see them; setting up shows the points' total, edits
and copies indicators."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from assessment import services
from assessment.models import Indicator, Period, Result

from .conftest import YEAR, populate, score_everywhere

pytestmark = pytest.mark.django_db

STEPS = ("open", "finalize", "publish", "reopen")


def url(step, period):
    return reverse(f"assessment:{step}", args=[period.pk])


def test_the_open_page_lists_its_checks_and_changes_nothing_until_confirmed(
    client, areas, period, indicators, district_user
):
    client.force_login(district_user)
    services.indicator_update(
        actor=district_user, indicator=indicators["system"], data={"weight": D(50)}
    )
    page = client.get(url("open", period)).content.decode()
    assert "指标分值合计 100 分" in page  # the check's name
    assert "合计 110 分，不是 100 分" in page and 'id="confirm-step"' not in page
    assert "将为全区 3 个社区设定考核目标" in page
    response = client.post(url("open", period), follow=True)
    assert response.redirect_chain[-1][0] == url("open", period)  # back to the checks
    assert "合计 110 分，不是 100 分" in response.content.decode()
    period.refresh_from_db()
    assert period.state == Period.State.DRAFT
    services.indicator_update(
        actor=district_user, indicator=indicators["system"], data={"weight": D(40)}
    )
    page = client.get(url("open", period)).content.decode()
    assert 'id="confirm-step"' in page and "不符合" not in page
    period.refresh_from_db()
    assert period.state == Period.State.DRAFT  # looking is not opening
    response = client.post(url("open", period), follow=True)
    assert response.redirect_chain[-1][0] == reverse("assessment:detail", args=[period.pk])
    assert "各社区目标已确定" in response.content.decode()


def test_the_open_page_names_an_overlapping_period(client, areas, period, indicators,
                                                   district_user):  # fmt: skip
    other = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "上半年", "starts_on": datetime.date(YEAR, 1, 1),
              "ends_on": datetime.date(YEAR, 6, 30)},
    )  # fmt: skip
    services.period_copy_indicators(actor=district_user, period=other, source=period)
    services.period_open(actor=district_user, period=other)
    client.force_login(district_user)
    page = client.get(url("open", period)).content.decode()
    assert f"日期与本区其他考核周期重叠：上半年（{YEAR}-01-01 – {YEAR}-06-30）" in page
    assert 'id="confirm-step"' not in page


def test_the_finalize_page_lists_the_unscored_items_and_the_grades_they_would_give(
    client, areas, period, indicators, district_user, street_user, admin_user
):
    populate(areas["140106001001"], 3)
    services.period_open(actor=district_user, period=period)
    services.score_set(actor=street_user, indicator=indicators["system"],
                       community=areas["140106001001"], points=D(40), evidence="齐全")  # fmt: skip
    client.force_login(district_user)
    page = client.get(url("finalize", period)).content.decode()
    assert "工作制度健全：2 个社区未评分：五一二社区、府东一社区" in page
    assert 'id="confirm-step"' not in page
    assert "不合格 3" in page  # nothing logged yet: 40 points at most
    client.post(url("finalize", period))
    assert not Result.objects.exists()
    score_everywhere(admin_user, indicators["system"], 40)
    page = client.get(url("finalize", period)).content.decode()
    assert 'id="confirm-step"' in page and "未评分" not in page
    client.post(url("finalize", period))
    period.refresh_from_db()
    assert period.state == Period.State.FINAL


@pytest.fixture
def finalized(areas, period, indicators, district_user, admin_user):
    services.period_open(actor=district_user, period=period)
    score_everywhere(admin_user, indicators["system"], 30)
    services.period_finalize(actor=district_user, period=period)
    return period


def test_a_finalized_period_is_reopened_through_its_page_until_published(
    client, finalized, district_user
):
    client.force_login(district_user)
    detail = client.get(reverse("assessment:detail", args=[finalized.pk])).content.decode()
    assert 'id="reopen-period"' in detail and 'id="publish-period"' in detail
    page = client.get(url("reopen", finalized)).content.decode()
    assert "已保存的考核结果将被撤销" in page and 'id="confirm-step"' in page
    response = client.post(url("reopen", finalized), follow=True)
    assert "考核已重新开启" in response.content.decode()
    finalized.refresh_from_db()
    assert finalized.state == Period.State.OPEN and not Result.objects.exists()
    services.period_finalize(actor=district_user, period=finalized)
    page = client.get(url("publish", finalized)).content.decode()
    assert "公布后考核不能再重新开启" in page and 'id="confirm-step"' in page
    client.post(url("publish", finalized))
    detail = client.get(reverse("assessment:detail", args=[finalized.pk])).content.decode()
    assert 'id="reopen-period"' not in detail
    page = client.get(url("reopen", finalized)).content.decode()
    assert "排名已公布，考核不能再重新开启" in page and 'id="confirm-step"' not in page
    client.post(url("reopen", finalized))
    finalized.refresh_from_db()
    assert finalized.state == Period.State.FINAL and Result.objects.count() == 3


@pytest.mark.parametrize("step", STEPS)
def test_only_the_districts_staff_see_and_take_the_steps(
    client, period, indicators, community_user, street_user, other_district_user, step
):
    for user, status in ((community_user, 403), (street_user, 403), (other_district_user, 404)):
        client.force_login(user)
        assert client.get(url(step, period)).status_code == status
        assert client.post(url(step, period)).status_code == status
    period.refresh_from_db()
    assert period.state == Period.State.DRAFT


def test_the_set_up_page_shows_the_points_total(client, period, indicators, district_user):
    client.force_login(district_user)
    detail = reverse("assessment:detail", args=[period.pk])
    page = client.get(detail).content.decode()
    assert "数据统计项与人工评分项合计 100 分（加分、减分项另计）" in page and "正好 100 分" in page
    services.indicator_remove(actor=district_user, indicator=indicators["system"])
    assert "还差 40 分" in client.get(detail).content.decode()
    services.indicator_update(
        actor=district_user, indicator=indicators["activities"], data={"weight": D("95.5")}
    )
    services.indicator_update(
        actor=district_user, indicator=indicators["innovation"], data={"kind": "scored"}
    )
    assert "超出 0.50 分" in client.get(detail).content.decode()


def test_an_indicator_is_edited_on_its_page_keeping_only_its_kinds_fields(
    client, period, indicators, district_user
):
    activities = indicators["activities"]
    edit = reverse("assessment:indicator_update", args=[period.pk, activities.pk])
    client.force_login(district_user)
    detail = client.get(reverse("assessment:detail", args=[period.pk])).content.decode()
    assert f'href="{edit}"' in detail and "indicator_form.js" in detail
    page = client.get(edit).content.decode()
    assert 'value="0:1, 3:2, 6:4"' in page and "indicator_form.js" in page
    refused = client.post(edit, {"indicator-name": "开展活动", "indicator-kind": "measured",
                                 "indicator-weight": "60", "indicator-tiers": "5:1"})  # fmt: skip
    assert refused.status_code == 200 and "第一档须从 0 人开始" in refused.content.decode()
    # Turned into a hand-scored item: what only a measured item uses is not kept.
    response = client.post(
        edit,
        {"indicator-name": "活动质量", "indicator-kind": "scored", "indicator-weight": "60",
         "indicator-metric": "activities", "indicator-rule": "tiers",
         "indicator-tiers": "0:1", "indicator-scored_by": "district", "indicator-cap": "1"},
    )  # fmt: skip
    assert response.url == reverse("assessment:detail", args=[period.pk])
    activities.refresh_from_db()
    assert (activities.name, activities.kind, activities.metric, activities.rule,
            activities.tiers, activities.scored_by) == (
        "活动质量", "scored", "", "", [], "district")  # fmt: skip
    services.period_open(actor=district_user, period=period)
    response = client.get(edit, follow=True)
    assert "考核开始前" in response.content.decode()
    detail = client.get(reverse("assessment:detail", args=[period.pk])).content.decode()
    assert f'href="{edit}"' not in detail


def test_an_indicator_saved_unchanged_stays_as_it_was(client, period, indicators, district_user):
    system = indicators["system"]
    edit = reverse("assessment:indicator_update", args=[period.pk, system.pk])
    client.force_login(district_user)
    form = client.get(edit).context["form"]
    assert form["tiers"].value() == ""  # not "[]", which would be refused as a tier
    posted = {field.html_name: field.value() or "" for field in form}
    assert client.post(edit, posted).status_code == 302
    system.refresh_from_db()
    assert (system.name, system.weight, system.tiers) == ("工作制度健全", 40, [])


def test_indicators_are_edited_only_by_the_districts_staff(
    client, period, indicators, street_user, other_district_user
):
    edit = reverse("assessment:indicator_update", args=[period.pk, indicators["system"].pk])
    for user, status in ((street_user, 403), (other_district_user, 404)):
        client.force_login(user)
        assert client.get(edit).status_code == status
        assert client.post(edit, {"indicator-name": "x"}).status_code == status
    assert Indicator.objects.get(pk=indicators["system"].pk).name == "工作制度健全"


def test_indicators_are_copied_from_an_earlier_period_the_user_sees(
    client, areas, period, indicators, district_user, street_user, other_district_user
):
    draft = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "次年",
              "starts_on": datetime.date(YEAR + 1, 1, 1),
              "ends_on": datetime.date(YEAR + 1, 12, 31)},
    )  # fmt: skip
    elsewhere = services.period_create(
        actor=other_district_user,
        data={"district": areas["140105"], "name": "小店区年度",
              "starts_on": datetime.date(YEAR, 1, 1), "ends_on": datetime.date(YEAR, 12, 31)},
    )  # fmt: skip
    services.indicator_add(
        actor=other_district_user, period=elsewhere,
        data={"name": "别区指标", "kind": "scored", "weight": D(100), "scored_by": "street"},
    )  # fmt: skip
    copy = reverse("assessment:copy_indicators", args=[draft.pk])
    client.force_login(district_user)
    page = client.get(reverse("assessment:detail", args=[draft.pk])).content.decode()
    assert "从以往考核周期复制指标" in page
    assert f'<option value="{period.pk}">' in page and "小店区年度" not in page
    refused = client.post(copy, {"source": elsewhere.pk}, follow=True).content.decode()
    assert "选择一个有效的选项" in refused
    assert not draft.indicators.exists()
    for user, status in ((street_user, 403), (other_district_user, 404)):
        client.force_login(user)
        assert client.post(copy, {"source": period.pk}).status_code == status
    assert not draft.indicators.exists()
    client.force_login(district_user)
    response = client.post(copy, {"source": period.pk}, follow=True)
    assert f"已从{period.name}复制 4 项指标" in response.content.decode()
    assert "正好 100 分" in response.content.decode()
    assert sorted(draft.indicators.values_list("name", flat=True)) == sorted(
        period.indicators.values_list("name", flat=True)
    )
    # Pressed again: nothing doubles, the page says which are there already.
    page = client.post(copy, {"source": period.pk}, follow=True).content.decode()
    assert "本考核周期已有" in page and draft.indicators.count() == 4
    draft.indicators.order_by("sort_order").first().delete()
    page = client.post(copy, {"source": period.pk}, follow=True).content.decode()
    assert f"已从{period.name}复制 1 项指标" in page
    assert "以下指标本考核周期已有，未重复复制" in page and draft.indicators.count() == 4
