"""The pages: scope (other areas 404, the auditor 403), what shows before and after the
results are published, the member's page and the counts per area."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commendations import services
from conftest import _user
from members.tests.test_printing import pdf_text
from tongzhan.models import User

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def flow(community_user, street_user, district_user, member):
    campaign = services.campaign_create(
        actor=district_user,
        data={"kind": "resident", "year": timezone.localdate().year, "title": "最美居民评选",
              "description": "", "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip
    nomination = services.nomination_submit(
        actor=community_user, campaign=campaign, data={"member": member, "deeds": "助人为乐"}
    )
    resident = services.nomination_submit(
        actor=community_user, campaign=campaign,
        data={"resident_name": "刘阿姨", "deeds": "义务巡逻"},
    )  # fmt: skip
    for each in (nomination, resident):
        services.nomination_review(actor=street_user, nomination=each, recommend=True)
    services.campaign_close(actor=district_user, campaign=campaign)
    services.nomination_decide(
        actor=district_user, nomination=nomination, commend=True, opinion="同意表彰"
    )
    services.nomination_decide(
        actor=district_user, nomination=resident, commend=False, opinion="名额有限"
    )
    return campaign, nomination, resident


def test_other_areas_do_not_see_a_campaign_and_the_auditor_may_not(
    flow, other_district_user, neighbour_user
):
    campaign, nomination, _resident = flow
    frank = client_for(other_district_user)
    assert frank.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 404
    assert frank.get(reverse("commendations:nomination", args=[nomination.pk])).status_code == 404
    assert "最美居民评选" not in frank.get(reverse("commendations:list")).content.decode()
    # The neighbouring community sees the campaign, not alice's nominations.
    bob = client_for(neighbour_user)
    assert bob.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 200
    assert bob.get(reverse("commendations:nomination", args=[nomination.pk])).status_code == 404
    ivan = client_for(_user("ivan", User.Role.AUDITOR, None))
    assert ivan.get(reverse("commendations:list")).status_code == 403
    assert ivan.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 403


def test_the_decision_shows_below_the_district_only_once_published(
    flow, community_user, street_user, district_user, neighbour_user, member
):
    campaign, nomination, _resident = flow
    alice, carl = client_for(community_user), client_for(street_user)
    page = alice.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    assert "街道已推荐" in page
    assert "同意表彰" not in page and "受表彰" not in page
    erin = client_for(district_user)
    page = erin.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    assert "受表彰" in page and "同意表彰" in page
    member_page = reverse("members:detail", args=[member.pk])
    assert 'id="commendations"' not in alice.get(member_page).content.decode()

    services.campaign_publish(actor=district_user, campaign=campaign)
    page = alice.get(reverse("commendations:nomination", args=[nomination.pk])).content.decode()
    assert "受表彰" in page and "同意表彰" in page
    assert 'id="commendations"' in alice.get(member_page).content.decode()
    assert 'id="commendations"' in carl.get(member_page).content.decode()
    # The results are listed for everyone in the area covered, names masked outside one's own.
    results = client_for(neighbour_user).get(reverse("commendations:detail", args=[campaign.pk]))
    text = results.content.decode()
    assert 'id="results"' in text
    assert "张*" in text and "张三" not in text and "刘阿姨" not in text


def test_the_printed_form_lists_her_commendations_once_published(
    flow, areas, community_user, district_user, member
):
    campaign, _nomination, _resident = flow
    alice = client_for(community_user)
    one = reverse("members:print", args=[member.pk])
    whole = reverse("members:community_print") + "?community=140106001001"
    for url in (one, whole):
        text = " ".join(pdf_text(alice.get(url).content).split())
        assert "表彰 无" in text and "最美居民评选" not in text
    services.campaign_publish(actor=district_user, campaign=campaign)
    year = str(campaign.year)
    for url in (one, whole):
        text = " ".join(pdf_text(alice.get(url).content).split())
        assert f"{year} 最美居民 · 最美居民评选" in text and "表彰 无" not in text


def test_publishing_shows_a_confirmation_first(flow, district_user):
    campaign, _nomination, _resident = flow
    erin = client_for(district_user)
    url = reverse("commendations:publish", args=[campaign.pk])
    page = erin.get(url)
    assert page.status_code == 200 and "不能撤销" in page.content.decode()
    campaign.refresh_from_db()
    assert not campaign.is_published
    assert erin.post(url, {"confirmed": "1"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_published


def test_counts_per_street_and_community(flow, district_user, street_user, areas):
    campaign, _nomination, _resident = flow
    services.campaign_publish(actor=district_user, campaign=campaign)
    page = client_for(district_user).get(reverse("commendations:counts"))
    rows = page.context["rows"]
    by_name = {row["area"].name: row for row in rows}
    assert by_name["柳巷街道"] == {**by_name["柳巷街道"], "nominated": 2, "recommended": 2,
                                   "commended": 1}  # fmt: skip
    assert by_name["文庙街道"]["nominated"] == 0
    page = client_for(street_user).get(reverse("commendations:counts"), {"campaign": campaign.pk})
    by_name = {row["area"].name: row for row in page.context["rows"]}
    assert by_name["桥东一社区"]["commended"] == 1
    assert by_name["五一二社区"]["nominated"] == 0
    assert page.context["totals"]["nominated"] == 2


def test_a_nomination_form_refuses_in_words(community_user, district_user, member):
    campaign = services.campaign_create(
        actor=district_user,
        data={"kind": "advanced", "year": 2026, "title": "先进个人", "description": "",
              "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip
    alice = client_for(community_user)
    url = reverse("commendations:nominate", args=[campaign.pk])
    assert member.name in alice.get(url, {"q": member.name[0]}).content.decode()
    assert alice.post(url, {"member": member.pk, "deeds": "事迹"}).status_code == 302
    again = alice.post(url, {"member": member.pk, "deeds": "事迹"})
    assert again.status_code == 200
    assert "该统战对象已在本次表彰活动中被推荐" in again.content.decode()


def test_the_lists_take_a_fixed_number_of_queries(
    flow, district_user, community_user, django_assert_max_num_queries, areas
):
    from members.tests.factories import MemberFactory

    campaign, _nomination, _resident = flow
    services.campaign_publish(actor=district_user, campaign=campaign)
    erin = client_for(district_user)
    erin.get(reverse("commendations:list"))  # the session and permissions, once
    with django_assert_max_num_queries(9):
        assert erin.get(reverse("commendations:list")).status_code == 200
    with django_assert_max_num_queries(11):
        assert erin.get(reverse("commendations:detail", args=[campaign.pk])).status_code == 200
    with django_assert_max_num_queries(10):
        assert erin.get(reverse("commendations:counts")).status_code == 200
    # More nominations, no more queries.
    more = services.campaign_create(
        actor=district_user,
        data={"kind": "advanced", "year": 2026, "title": "先进个人", "description": "",
              "area": None, "quota": None,
              "deadline": timezone.localdate() + datetime.timedelta(days=5)},
    )  # fmt: skip
    for _ in range(5):
        services.nomination_submit(
            actor=community_user, campaign=more,
            data={"member": MemberFactory(community=areas["140106001001"]), "deeds": "事迹"},
        )  # fmt: skip
    with django_assert_max_num_queries(11):
        assert erin.get(reverse("commendations:detail", args=[more.pk])).status_code == 200
