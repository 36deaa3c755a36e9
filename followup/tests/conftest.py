"""A published period of 迎泽区 in which 五一二社区 (bob's) is the 示范社区 and every other
community, 桥东一社区 (alice's) among them, is graded 不合格 and ordered to rectify."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from assessment import services as assessment_services

PDF = b"%PDF-1.7\n" + b"0" * 100


def evidence(name="整改照片.pdf"):
    return SimpleUploadedFile(name, PDF, "application/pdf")


def hold_activity(actor, community, title="经验交流会", when=None):
    return activity_services.activity_create(
        actor=actor,
        data={"type": ActivityType.objects.get(code="consultation"), "title": title,
              "area": community, "starts_at": when or timezone.now()},
    )  # fmt: skip


def published_period(areas, district_user, *, year=None, publish=True):
    """A period of one measured item (one activity held): 五一二社区 holds one in it."""
    year = year or timezone.localdate().year
    period = assessment_services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": f"{year}年度", "model_communities": 1,
              "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
    )  # fmt: skip
    assessment_services.indicator_add(
        actor=district_user, period=period,
        data={"name": "开展活动", "kind": "measured", "metric": "activities", "weight": D(100),
              "rule": "fixed", "base": D(1)},
    )  # fmt: skip
    assessment_services.period_open(actor=district_user, period=period)
    when = timezone.make_aware(datetime.datetime(year, 6, 1, 10))
    hold_activity(district_user, areas["140106001002"], when=when)
    assessment_services.period_finalize(actor=district_user, period=period)
    if publish:
        assessment_services.period_publish(actor=district_user, period=period)
    return period


@pytest.fixture
def period(areas, district_user):
    return published_period(areas, district_user)
