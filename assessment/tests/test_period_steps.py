"""Opening, finalizing, publishing and reopening a period: each step's pre-checks refuse with
a message that says what is wrong; indicators are edited and copied while it is set up."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from assessment import services
from assessment.models import Indicator, Period, Result
from tongzhan.models import AuditEvent

from .conftest import YEAR, populate, score_everywhere

pytestmark = pytest.mark.django_db


def new_period(district_user, district, name, starts_on, ends_on, weight=100):
    made = services.period_create(
        actor=district_user,
        data={"district": district, "name": name, "starts_on": starts_on, "ends_on": ends_on},
    )
    services.indicator_add(
        actor=district_user, period=made,
        data={"name": "开展活动", "kind": "measured", "metric": "activities",
              "weight": D(weight), "rule": "fixed", "base": D(1)},
    )  # fmt: skip
    return made


def refusal(call) -> str:
    with pytest.raises(ValidationError) as refused:
        call()
    return " ".join(refused.value.messages)


# -- Opening -----------------------------------------------------------------------------------


def test_a_period_whose_points_do_not_add_up_to_100_is_not_opened(
    period, indicators, district_user
):
    # 60 + 40 measured and hand-scored, plus a bonus and a deduction item of 5 (apart).
    assert services.period_weight_total(period) == 100
    services.indicator_update(
        actor=district_user, indicator=indicators["system"], data={"weight": D(50)}
    )
    message = refusal(lambda: services.period_open(actor=district_user, period=period))
    assert "合计 110 分，不是 100 分" in message
    period.refresh_from_db()
    assert period.state == Period.State.DRAFT and not period.indicators.first().targets.exists()
    services.indicator_update(
        actor=district_user, indicator=indicators["system"], data={"weight": D("39.5")}
    )
    assert "合计 99.50 分" in refusal(
        lambda: services.period_open(actor=district_user, period=period)
    )
    services.indicator_update(
        actor=district_user, indicator=indicators["system"], data={"weight": D(40)}
    )
    services.period_open(actor=district_user, period=period)
    assert period.state == Period.State.OPEN


def test_a_period_without_indicators_is_not_opened(period, district_user):
    assert "请先设置考核指标" in refusal(
        lambda: services.period_open(actor=district_user, period=period)
    )


def test_a_period_overlapping_an_opened_one_of_the_district_is_not_opened(
    areas, district_user, other_district_user
):
    district = areas["140106"]
    year = new_period(district_user, district, "年度", datetime.date(YEAR, 1, 1),
                      datetime.date(YEAR, 12, 31))  # fmt: skip
    half = new_period(district_user, district, "下半年", datetime.date(YEAR, 7, 1),
                      datetime.date(YEAR + 1, 6, 30))  # fmt: skip
    # While the year is only being set up, the half year may open first; then the year not.
    services.period_open(actor=district_user, period=half)
    message = refusal(lambda: services.period_open(actor=district_user, period=year))
    assert "日期与本区其他考核周期重叠" in message and f"下半年（{YEAR}-07-01" in message
    # Another district's period of the same dates, and the next year of this one, are fine.
    elsewhere = new_period(other_district_user, areas["140105"], "年度",
                           datetime.date(YEAR, 1, 1), datetime.date(YEAR, 12, 31))  # fmt: skip
    services.period_open(actor=other_district_user, period=elsewhere)
    later = new_period(district_user, district, "次年下半年", datetime.date(YEAR + 1, 7, 1),
                       datetime.date(YEAR + 1, 12, 31))  # fmt: skip
    services.period_open(actor=district_user, period=later)


# -- Finalizing --------------------------------------------------------------------------------


def test_finalizing_is_refused_while_a_hand_scored_item_lacks_a_score(
    areas, period, indicators, district_user, street_user, other_street_user
):
    populate(areas["140106001001"], 3)
    services.period_open(actor=district_user, period=period)
    system = indicators["system"]
    services.score_set(actor=street_user, indicator=system, community=areas["140106001001"],
                       points=D(30), evidence="制度上墙")  # fmt: skip
    checks = services.period_checks(period, "finalize")
    [unscored] = [check for check in checks if not check.met]
    assert unscored.details == ["工作制度健全：2 个社区未评分：五一二社区、府东一社区"]
    message = refusal(lambda: services.period_finalize(actor=district_user, period=period))
    assert "有人工评分项尚未为所有社区评分" in message
    period.refresh_from_db()
    assert period.state == Period.State.OPEN and not Result.objects.exists()
    # A 0 is entered like any score, with its reason; bonus and deduction items need none.
    services.score_set(actor=street_user, indicator=system, community=areas["140106001002"],
                       points=D(0), evidence="未建立制度")  # fmt: skip
    services.score_set(actor=other_street_user, indicator=system,
                       community=areas["140106002001"], points=D(20),
                       evidence="制度不全")  # fmt: skip
    assert all(check.met for check in services.period_checks(period, "finalize"))
    services.period_finalize(actor=district_user, period=period)
    assert Result.objects.filter(period=period).count() == 3


# -- Reopening ---------------------------------------------------------------------------------


@pytest.fixture
def finalized(areas, period, indicators, district_user, admin_user):
    populate(areas["140106001001"], 3)
    services.period_open(actor=district_user, period=period)
    score_everywhere(admin_user, indicators["system"], 30)
    services.period_finalize(actor=district_user, period=period)
    return period


def test_a_finalized_period_is_reopened_before_publication_and_audited(
    areas, finalized, indicators, district_user, street_user
):
    services.period_reopen(actor=district_user, period=finalized)
    finalized.refresh_from_db()
    assert (finalized.state, finalized.finalized_at) == (Period.State.OPEN, None)
    assert not Result.objects.filter(period=finalized).exists()
    event = AuditEvent.objects.filter(action=AuditEvent.Action.STATUS).latest("at")
    assert event.detail == {"state": "open", "reopened": True, "results_discarded": 3}
    assert event.actor == district_user
    # A score is corrected and the period finalized again, with the new score.
    services.score_set(actor=street_user, indicator=indicators["system"],
                       community=areas["140106001001"], points=D(40),
                       evidence="补充台账")  # fmt: skip
    services.period_finalize(actor=district_user, period=finalized)
    assert Result.objects.get(period=finalized, community=areas["140106001001"]).total == D(40)


def test_a_published_or_unfinalized_period_is_not_reopened(
    finalized, district_user, street_user, other_district_user
):
    for actor in (street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.period_reopen(actor=actor, period=finalized)
    services.period_publish(actor=district_user, period=finalized)
    assert "排名已公布，考核不能再重新开启" in refusal(
        lambda: services.period_reopen(actor=district_user, period=finalized)
    )
    assert "排名已经公布" in refusal(
        lambda: services.period_publish(actor=district_user, period=finalized)
    )
    finalized.refresh_from_db()
    assert finalized.state == Period.State.FINAL and Result.objects.count() == 3


def test_an_open_period_is_not_reopened(period, indicators, district_user):
    services.period_open(actor=district_user, period=period)
    assert "只有已定稿的考核才能重新开启" in refusal(
        lambda: services.period_reopen(actor=district_user, period=period)
    )


# -- Setting up: editing and copying indicators ------------------------------------------------


def test_an_indicator_is_edited_until_the_period_opens(
    period, indicators, district_user, street_user, other_district_user
):
    activities = indicators["activities"]
    services.indicator_update(
        actor=district_user, indicator=activities,
        data={"name": "开展统战活动", "tiers": [[0, 2], [3, 4]]},
    )  # fmt: skip
    activities.refresh_from_db()
    assert (activities.name, activities.tiers) == ("开展统战活动", [[0, 2], [3, 4]])
    event = AuditEvent.objects.filter(action=AuditEvent.Action.UPDATE).latest("at")
    assert event.detail == {"indicator": "开展统战活动", "fields": ["name", "tiers"]}
    # The checks of adding one: the model's rules, who may, and only while set up.
    with pytest.raises(ValidationError) as refused:
        services.indicator_update(
            actor=district_user, indicator=indicators["system"], data={"scored_by": ""}
        )
    assert "scored_by" in refused.value.error_dict
    for actor in (street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.indicator_update(actor=actor, indicator=activities, data={"weight": D(1)})
    services.period_open(actor=district_user, period=period)
    assert "考核开始前" in refusal(
        lambda: services.indicator_update(
            actor=district_user, indicator=activities, data={"weight": D(1)}
        )
    )
    activities.refresh_from_db()
    assert activities.weight == 60


def test_indicators_are_copied_from_another_period_of_the_district(
    areas, period, indicators, district_user, other_district_user
):
    draft = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "次年",
              "starts_on": datetime.date(YEAR + 1, 1, 1),
              "ends_on": datetime.date(YEAR + 1, 12, 31)},
    )  # fmt: skip
    copies = services.period_copy_indicators(actor=district_user, period=draft, source=period)
    fields = ["name", "kind", "metric", "weight", "rule", "tiers", "cap", "scored_by"]
    original = list(period.indicators.values_list(*fields))
    assert len(copies) == 4 and list(draft.indicators.values_list(*fields)) == original
    assert services.period_weight_total(draft) == 100
    assert list(period.indicators.values_list(*fields)) == original  # the source is untouched
    # Not from itself, not from another district, not into an opened period, not by others.
    assert "本区的另一个考核周期" in refusal(
        lambda: services.period_copy_indicators(actor=district_user, period=draft, source=draft)
    )
    elsewhere = new_period(other_district_user, areas["140105"], "年度",
                           datetime.date(YEAR, 1, 1), datetime.date(YEAR, 12, 31))  # fmt: skip
    assert "本区的另一个考核周期" in refusal(
        lambda: services.period_copy_indicators(actor=district_user, period=draft, source=elsewhere)
    )
    with pytest.raises(PermissionDenied):
        services.period_copy_indicators(actor=other_district_user, period=draft, source=period)
    services.period_open(actor=district_user, period=draft)
    assert "考核开始前" in refusal(
        lambda: services.period_copy_indicators(actor=district_user, period=draft, source=period)
    )
    assert draft.indicators.count() == 4
    empty = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "空", "starts_on": datetime.date(YEAR, 1, 1),
              "ends_on": datetime.date(YEAR, 6, 30)},
    )  # fmt: skip
    assert "没有可复制的指标" in refusal(
        lambda: services.period_copy_indicators(actor=district_user, period=period, source=empty)
    )
    assert Indicator.objects.filter(period=period).count() == 4


def test_copying_again_adds_only_the_indicators_the_period_does_not_have(
    areas, period, indicators, district_user
):
    draft = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "次年",
              "starts_on": datetime.date(YEAR + 1, 1, 1),
              "ends_on": datetime.date(YEAR + 1, 12, 31)},
    )  # fmt: skip
    services.period_copy_indicators(actor=district_user, period=draft, source=period)
    # A second press copies nothing and says why, naming the indicators.
    said = refusal(
        lambda: services.period_copy_indicators(actor=district_user, period=draft, source=period)
    )
    assert "已有" in said and all(name in said for name in period.indicators.values_list(
        "name", flat=True))  # fmt: skip
    assert draft.indicators.count() == 4 and services.period_weight_total(draft) == 100
    # One removed (or never there) is copied back, alone; the others keep their edits.
    removed = draft.indicators.order_by("sort_order").first()
    kept = draft.indicators.exclude(pk=removed.pk).first()
    services.indicator_remove(actor=district_user, indicator=removed)
    services.indicator_update(actor=district_user, indicator=kept, data={"cap": D("1.5")})
    copies = services.period_copy_indicators(actor=district_user, period=draft, source=period)
    assert [copy.name for copy in copies] == [removed.name]
    assert draft.indicators.count() == 4
    kept.refresh_from_db()
    assert kept.cap == D("1.5")
