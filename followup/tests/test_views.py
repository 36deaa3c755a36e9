"""The pages: the period's table (overdue first, by state), one rectification's steps, the
示范社区's form, and what the assessment's pages and the home page show of them."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment.models import Result
from followup import services
from followup.models import ModelCommunity, Rectification

from .conftest import evidence, hold_activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def ordered(period, district_user):
    return services.rectifications_notify(
        actor=district_user, period=period, notice="限期整改台账",
        deadline=timezone.localdate() + datetime.timedelta(days=30),
    )  # fmt: skip


def test_the_model_community_form_saves_an_empty_record(client, period, district_user):
    result = Result.objects.get(period=period, outcome=Result.Outcome.MODEL)
    client.force_login(district_user)
    response = client.post(reverse("followup:model", args=[result.pk]))
    assert response.status_code == 302, response.context["form"].errors


def _rectification(areas, code="140106001001"):
    return Rectification.objects.get(community=areas[code])


def test_the_table_puts_overdue_first_and_filters_by_state(
    client, period, ordered, areas, district_user, django_assert_max_num_queries
):
    late = _rectification(areas, "140106002001")  # 府东一社区
    Rectification.objects.filter(pk=late.pk).update(
        deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(district_user)
    url = reverse("followup:period", args=[period.pk])
    with django_assert_max_num_queries(20):
        page = client.get(url).content.decode()
    table = page[page.index('id="rectifications"') :]
    assert table.index("府东一社区") < table.index("桥东一社区")
    assert "已超期" in table[: table.index("桥东一社区")]
    only_late = client.get(url, {"state": "overdue"}).content.decode()
    assert (
        "府东一社区" in only_late and "桥东一社区" not in only_late.split('id="rectifications"')[1]
    )
    none_accepted = client.get(url, {"state": "accepted"}).content.decode()
    assert "没有整改事项" in none_accepted


def test_each_level_sees_its_own_rectifications(
    client, period, ordered, community_user, street_user, other_district_user
):
    url = reverse("followup:period", args=[period.pk])
    client.force_login(community_user)
    rows = client.get(url).content.decode().split('id="rectifications"')[1]
    assert "桥东一社区" in rows and "府东一社区" not in rows
    client.force_login(street_user)
    rows = client.get(url).content.decode().split('id="rectifications"')[1]
    assert "桥东一社区" in rows and "府东一社区" not in rows  # another street's
    client.force_login(other_district_user)
    assert client.get(url).status_code == 404


def test_a_report_with_evidence_then_the_street_sends_it_back(
    client, ordered, areas, community_user, street_user
):
    rectification = _rectification(areas)
    client.force_login(community_user)
    detail = reverse("followup:detail", args=[rectification.pk])
    assert "报告整改情况" in client.get(detail).content.decode()
    response = client.post(
        reverse("followup:report", args=[rectification.pk]),
        {"report": "台账已补齐", "files": [evidence()]},
    )
    assert response.status_code == 302
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.REPORTED
    client.force_login(street_user)
    page = client.get(detail).content.decode()
    assert "审核通过，报区验收" in page and "整改照片.pdf" in page
    empty = client.post(reverse("followup:send_back", args=[rectification.pk]), {"reason": ""})
    assert empty.status_code == 200 and "这个字段是必填项" in empty.content.decode()
    client.post(reverse("followup:send_back", args=[rectification.pk]), {"reason": "照片模糊"})
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.RECTIFYING
    client.force_login(community_user)
    assert "照片模糊" in client.get(detail).content.decode()


def test_the_streets_pass_is_confirmed_first(client, ordered, areas, community_user,
                                            street_user):  # fmt: skip
    rectification = _rectification(areas)
    services.rectification_report(
        actor=community_user, rectification=rectification, report="台账已补齐",
        uploads=[evidence()],
    )  # fmt: skip
    client.force_login(street_user)
    detail = reverse("followup:detail", args=[rectification.pk])
    url = reverse("followup:pass", args=[rectification.pk])
    assert f'id="pass-on" href="{url}"' in client.get(detail).content.decode()
    # The button (and a POST without the confirmation) shows what passing on does.
    for shown in (client.get(url), client.post(url)):
        page = shown.content.decode()
        assert shown.status_code == 200 and "confirm-form" in page
        subject = page.split('id="confirm-subject"')[1].split("</section>")[0]
        assert "桥东一社区" in subject and "台账已补齐" in subject and "整改照片.pdf" in subject
        assert "限期整改台账" in subject
        happens = page.split('id="what-happens"')[1].split("</section>")[0]
        assert "区验收" in happens and "不能再修改" in happens
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.REPORTED
    assert client.post(url, {"confirmed": "1"}).status_code == 302
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.PASSED
    # Passed on already: the page is not offered again, it says why.
    again = client.get(url, follow=True)
    assert "只有已报告的整改才能审核" in again.content.decode()
    assert "confirm-form" not in again.content.decode()


def test_acceptance_is_confirmed_first(client, ordered, areas, community_user, street_user,
                                       district_user):  # fmt: skip
    rectification = _rectification(areas)
    services.rectification_report(
        actor=community_user, rectification=rectification, report="x", uploads=[evidence()]
    )
    services.rectification_pass(actor=street_user, rectification=rectification)
    client.force_login(district_user)
    url = reverse("followup:accept", args=[rectification.pk])
    assert "不能撤销" in client.get(url).content.decode()
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.PASSED
    assert client.post(url, {"confirmed": "1"}).status_code == 302
    rectification.refresh_from_db()
    assert rectification.state == Rectification.State.ACCEPTED


def test_the_notice_page_orders_them_with_its_deadline(client, period, areas, district_user):
    client.force_login(district_user)
    url = reverse("followup:notify", args=[period.pk])
    page = client.get(url).content.decode()
    assert "桥东一社区" in page and "五一二社区" not in page.split('id="confirm-subject"')[1]
    deadline = timezone.localdate() + datetime.timedelta(days=45)
    response = client.post(url, {"notice": "补齐台账", "deadline": deadline.isoformat()})
    assert response.status_code == 302
    assert _rectification(areas).deadline == deadline


def test_the_assessment_pages_and_the_home_page_show_it(
    client, period, ordered, areas, community_user, district_user
):
    client.force_login(community_user)
    page = client.get(reverse("assessment:community", args=[period.pk, "140106001001"]))
    section = page.content.decode().split('id="result-followup"')[1]
    assert "整改中" in section
    assert (
        reverse("followup:period", args=[period.pk])
        in client.get(reverse("assessment:detail", args=[period.pk])).content.decode()
    )
    home = client.get(reverse("home")).content.decode()
    assert 'id="rectifications-on-dashboard"' in home and "整改中" in home


def test_the_model_community_form_offers_the_communitys_activities_only(
    client, period, areas, district_user, community_user, neighbour_user
):
    result = Result.objects.get(period=period, outcome=Result.Outcome.MODEL)
    own = hold_activity(neighbour_user, areas["140106001002"], title="五一二经验交流")
    hold_activity(community_user, areas["140106001001"], title="桥东一的座谈")
    client.force_login(district_user)
    url = reverse("followup:model", args=[result.pk])
    form = client.get(url).content.decode()
    assert "五一二经验交流" in form and "桥东一的座谈" not in form
    response = client.post(url, {"reward": "8000", "activity": own.pk})
    assert response.status_code == 302
    record = ModelCommunity.objects.get(result=result)
    assert (record.reward, record.activity) == (D("8000"), own)
    table = client.get(reverse("followup:period", args=[period.pk])).content.decode()
    assert "8000.00" in table and "五一二经验交流" in table
    client.force_login(neighbour_user)
    page = client.get(reverse("assessment:community", args=[period.pk, "140106001002"]))
    assert "五一二经验交流" in page.content.decode().split('id="result-followup"')[1]
